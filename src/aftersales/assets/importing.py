"""CUS-3: import the device lists integrators keep in Excel (lessons.md item 9).

    parse()   file bytes -> ParsedFile     (headers recognised, cells read as text, limits enforced)
    plan()    ParsedFile -> ImportPlan     (each row: create / update / unchanged / error, and why)
    commit()  ParsedFile -> ImportResult   (plans again under lock and apply()s it: every row in ONE transaction,
                                            or nothing when any row has an error or the plan differs from the preview)

The matching key is explicit: (manufacturer, serial number), the same pair the database keeps unique.
Serial numbers are read as text; a number Excel made of one is turned back into its digits, and one whose
digits Excel has already lost is a row error, never a guess. Projects are matched by contract number among
the projects the importing user may see (SEC-1), so another customer's contract number reads as unknown.

Between preview and confirm the uploaded file is kept with Django's default storage under an unguessable
name inside the uploader's own folder; the browser only holds a token signed for that user (`stash()`).
"""

from __future__ import annotations

import codecs
import copy
import csv
import hashlib
import io
import json
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core import audit
from aftersales.core.errors import DomainError
from aftersales.core.scoping import visible
from aftersales.customers.models import Project

from .models import Device, DeviceCategory, Manufacturer

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # an .xlsx is a zip: refuse one that inflates beyond this
HEADER_SEARCH_ROWS = 10  # the header may sit below a title row such as "XX项目设备清单"
LOOKUP_CHUNK = 500  # keeps every `IN (...)` well below SQLite's variable limit
STASH_MAX_AGE = timedelta(hours=6)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # exports quote these with ' (CSV injection); imports unquote


# ---------------------------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # what an export writes and what the template shows
    synonyms: tuple[str, ...] = ()
    required: bool = False


# The one table of accepted headers. Matching ignores spaces, case, a leading * and a trailing (…) remark.
COLUMNS: tuple[Column, ...] = (
    Column("contract_number", "项目合同号", ("合同号", "合同编号", "项目合同编号"), required=True),
    Column("name", "设备名称", ("名称",), required=True),
    Column("category", "设备类别", ("类别", "设备类型"), required=True),
    Column("manufacturer", "生产厂家", ("厂家", "品牌", "制造商", "厂商"), required=True),
    Column("model", "型号", ("设备型号", "规格型号"), required=True),
    Column("serial_number", "序列号", ("SN", "S/N", "设备序列号", "序列号SN"), required=True),
    Column("location", "安装位置", ("位置", "安装地点")),
    Column("installed_on", "安装日期", ("安装时间",)),
    Column("supplier", "供应商", ("供货商",)),
    Column("notes", "备注", ("说明",)),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
DEVICE_TEXT_FIELDS = ("name", "model", "serial_number", "location", "supplier")  # length-checked against the model
UPDATABLE_FIELDS = ("name", "category", "model", "location", "installed_on", "supplier", "notes")


def normalise_header(text) -> str:
    text = "" if text is None else str(text)
    text = re.sub(r"[\s\ufeff*＊:：]", "", text)
    text = re.sub(r"[(（][^)）]*[)）]$", "", text)
    return text.casefold()


HEADER_FIELDS: dict[str, str] = {
    normalise_header(name): column.field for column in COLUMNS for name in (column.header, *column.synonyms)
}


# ---------------------------------------------------------------------------------------------- errors


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (type, size, header)."""

    code = "invalid_file"


class RowErrors(DomainError):
    """At least one row has an error: nothing was written."""

    code = "invalid_rows"

    def __init__(self, plan: ImportPlan):
        self.plan = plan
        super().__init__(
            _("Nothing was written: %(count)d rows have errors. Correct them and upload the file again.")
            % {"count": plan.counts["error"]}
        )


class PlanChanged(DomainError):
    """The registry changed between preview and confirm: nothing was written."""

    status = 409
    code = "plan_changed"

    def __init__(self, plan: ImportPlan):
        self.plan = plan
        super().__init__(_("The registry changed since the preview, so nothing was written. Check the rows again."))


class ImportConflict(DomainError):
    status = 409
    code = "conflict"


# ---------------------------------------------------------------------------------------------- cells


SCIENTIFIC = re.compile(r"^\d\.\d+[eE]\+\d{1,3}$")  # how Excel shows a long number: 1.23457E+11
INTEGRAL_DECIMAL = re.compile(r"^(\d+)\.0+$")
DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
EXCEL_LAST_SERIAL_DAY = 2958465  # 9999-12-31
EXCEL_EPOCH = datetime(1899, 12, 30)


def number_text(value: float | int) -> str:
    """A spreadsheet number as the digits a person typed: 123456.0 -> "123456", 1.2345678901e+11 -> "123456789010"."""
    if isinstance(value, int):
        return str(value)
    try:
        exact = Decimal(repr(value))
    except InvalidOperation:  # nan, inf
        return str(value)
    if exact == exact.to_integral_value():
        return str(int(exact))
    return format(exact.normalize(), "f")


def cell_text(value) -> str:
    """Any cell as trimmed text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return number_text(value)
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_PREFIXES):
        text = text[1:]
    return text


def serial_text(value) -> tuple[str, str | None]:
    """The serial number as text, and an error when Excel has already destroyed some of its digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e15:
        return number_text(value), _(
            "Excel stored the serial number %(value)s as a number and lost its last digits. "
            "Format the column as text and enter the serial number again."
        ) % {"value": number_text(value)}
    text = cell_text(value)
    if SCIENTIFIC.match(text):
        return text, _(
            "The serial number %(value)s is in scientific notation, so Excel has lost digits. "
            "Format the column as text and enter the serial number again."
        ) % {"value": text}
    whole = INTEGRAL_DECIMAL.match(text)
    if whole:
        text = whole.group(1)
    return text, None


def parse_date(value) -> date | None:
    """An Excel date cell, 2024-03-15, 2024/3/15, 2024.3.15, 2024年3月15日 or 20240315; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and COMPACT_DATE.match(str(int(value))) and int(value) > EXCEL_LAST_SERIAL_DAY:
            return parse_date(str(int(value)))
        if 0 < value <= EXCEL_LAST_SERIAL_DAY:  # a date cell that lost its date format
            return (EXCEL_EPOCH + timedelta(days=float(value))).date()
        raise ValueError(value)
    text = cell_text(value)
    if not text:
        return None
    match = DATE_TEXT.match(text) or COMPACT_DATE.match(text)
    if not match:
        raise ValueError(text)
    year, month, day = (int(part) for part in match.groups())
    return date(year, month, day)


# ---------------------------------------------------------------------------------------------- parse


@dataclass
class SourceRow:
    line: int  # the row number the spreadsheet shows
    cells: list[str]  # every cell as text, for the file of rejected rows
    values: dict[str, object]  # recognised columns: field -> the cell as read


@dataclass
class ParsedFile:
    name: str
    sha256: str
    header: list[str]
    fields: dict[int, str]  # column index -> field
    ignored_columns: list[str]
    rows: list[SourceRow]

    def has_column(self, field_name: str) -> bool:
        return field_name in self.fields.values()

    def column_map(self) -> list[tuple[str, str]]:
        """(header in the file, our header) for each recognised column."""
        return [(self.header[i], COLUMN_BY_FIELD[f].header) for i, f in sorted(self.fields.items())]


def file_kind(name: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in ("xlsx", "csv"):
        return extension
    if extension in ("xls", "et", "wps", "ods", "numbers"):
        raise ImportFileError(_("Save the sheet as .xlsx (Excel 2007 or later) or .csv and upload it again."))
    raise ImportFileError(_("Upload an .xlsx or .csv file."))


def check_upload(name: str, size: int) -> None:
    """Type and size, before anything is read."""
    file_kind(name)
    if size > MAX_BYTES:
        raise _too_big()


def _too_big() -> ImportFileError:
    return ImportFileError(_("The file is larger than %(mb)d MB. Split it into smaller files.") % {"mb": MAX_BYTES // 2**20})


def _xlsx_rows(data: bytes):
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise _too_big()
    except zipfile.BadZipFile:
        raise ImportFileError(_("The file is not a valid .xlsx workbook.")) from None
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise ImportFileError(_("The file is not a valid .xlsx workbook.")) from None
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record a wrong used range; never trust it (it would truncate)
        try:
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        except ImportFileError:
            raise
        except Exception:
            raise ImportFileError(_("The file is not a valid .xlsx workbook.")) from None
    finally:
        workbook.close()


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else GB18030."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise ImportFileError(_("Cannot read the text of the file. Save it as \"CSV UTF-8\" and upload it again."))


def _csv_rows(data: bytes):
    text = decode_text(data)
    if "\x00" in text:
        raise ImportFileError(_("Cannot read the text of the file. Save it as \"CSV UTF-8\" and upload it again."))
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",\t;", key=first_line.count) if first_line else ","
    if not first_line.count(delimiter):
        delimiter = ","
    try:
        yield from enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    except csv.Error:
        raise ImportFileError(_("The CSV file is damaged (unbalanced quotes?).")) from None


def _find_header(lines) -> tuple[int, list]:
    """The first of the first few non-empty rows that names at least three of our columns."""
    seen = []
    for line, cells in lines:
        if any(cell_text(c) for c in cells):
            seen.append((line, list(cells)))
            if sum(normalise_header(c) in HEADER_FIELDS for c in cells) >= 3:
                return line, list(cells)
            if len(seen) >= HEADER_SEARCH_ROWS:
                break
    if not seen:
        raise ImportFileError(_("The file is empty."))
    raise ImportFileError(
        _("Cannot find the header row. The first row must name the columns, e.g. %(columns)s.")
        % {"columns": "、".join(c.header for c in COLUMNS if c.required)}
    )


def parse(name: str, data: bytes, *, contract_optional: bool = False) -> ParsedFile:
    """Read the sheet: header recognised, rows kept as read. File-level problems raise ImportFileError."""
    kind = file_kind(name)
    if len(data) > MAX_BYTES:
        raise _too_big()
    lines = iter(_xlsx_rows(data) if kind == "xlsx" else _csv_rows(data))
    header_line, header_cells = _find_header(lines)
    header = [cell_text(c) for c in header_cells]
    fields: dict[int, str] = {}
    ignored: list[str] = []
    for index, text in enumerate(header):
        field_name = HEADER_FIELDS.get(normalise_header(text))
        if field_name is None:
            if text:
                ignored.append(text)
        elif field_name in fields.values():
            raise ImportFileError(
                _("Two columns mean %(column)s: rename or delete one of them.") % {"column": COLUMN_BY_FIELD[field_name].header}
            )
        else:
            fields[index] = field_name
    missing = [
        c.header for c in COLUMNS
        if c.required and c.field not in fields.values() and not (contract_optional and c.field == "contract_number")
    ]
    if missing:
        raise ImportFileError(_("Missing columns: %(columns)s.") % {"columns": "、".join(missing)})

    rows: list[SourceRow] = []
    for line, cells in lines:
        cells = list(cells)
        texts = [cell_text(c) for c in cells]
        if not any(texts):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(limit)d device rows. Split it into smaller files.") % {"limit": MAX_ROWS}
            )
        values = {f: (cells[i] if i < len(cells) else None) for i, f in fields.items()}
        rows.append(SourceRow(line=line, cells=texts, values=values))
    if not rows:
        raise ImportFileError(_("The file has no device rows below its header (row %(line)d).") % {"line": header_line})
    return ParsedFile(
        name=name, sha256=hashlib.sha256(data).hexdigest(), header=header, fields=fields, ignored_columns=ignored,
        rows=rows,
    )


# ---------------------------------------------------------------------------------------------- plan


CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"
ACTION_LABELS = {
    CREATE: gettext_lazy("create"),
    UPDATE: gettext_lazy("update"),
    UNCHANGED: gettext_lazy("unchanged"),
    ERROR: gettext_lazy("error"),
}


@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str


@dataclass
class RowPlan:
    line: int
    cells: list[str]
    values: dict[str, object] = field(default_factory=dict)  # cleaned: text, or a date for installed_on
    errors: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    action: str = ERROR
    device: Device | None = None
    project: Project | None = None
    category: DeviceCategory | None = None
    manufacturer: Manufacturer | None = None  # None with new_manufacturer: created on commit
    new_manufacturer: bool = False

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS[self.action])

    @property
    def error_text(self) -> str:
        return "；".join(self.errors)


@dataclass
class ImportPlan:
    file: ParsedFile
    rows: list[RowPlan]
    default_project: Project | None
    new_manufacturers: list[str]
    fingerprint: str = ""

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((CREATE, UPDATE, UNCHANGED, ERROR), 0)
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def has_errors(self) -> bool:
        return any(row.errors for row in self.rows)

    @property
    def has_writes(self) -> bool:
        return any(row.action in (CREATE, UPDATE) for row in self.rows)

    @property
    def rejected_rows(self) -> list[RowPlan]:
        return [row for row in self.rows if row.errors]


def _chunks(items, size=LOOKUP_CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _label(field_name: str) -> str:
    return str(Device._meta.get_field(field_name).verbose_name)


def _clean_row(source: SourceRow) -> RowPlan:
    row = RowPlan(line=source.line, cells=source.cells)
    for field_name, raw in source.values.items():
        column = COLUMN_BY_FIELD[field_name]
        if field_name == "serial_number":
            text, error = serial_text(raw)
            if error:
                row.errors.append(error)
            row.values[field_name] = text
        elif field_name == "installed_on":
            try:
                row.values[field_name] = parse_date(raw)
            except ValueError:
                row.values[field_name] = None
                row.errors.append(
                    _("Cannot read the date %(value)s in %(column)s; write it like 2024-03-15.")
                    % {"value": cell_text(raw), "column": column.header}
                )
        else:
            row.values[field_name] = cell_text(raw)
    for column in COLUMNS:
        if column.required and column.field != "contract_number" and not row.values.get(column.field):
            row.errors.append(_("%(column)s is required.") % {"column": column.header})
    for field_name in DEVICE_TEXT_FIELDS:
        limit = Device._meta.get_field(field_name).max_length
        if len(row.values.get(field_name) or "") > limit:
            row.errors.append(
                _("%(column)s is longer than %(limit)d characters.")
                % {"column": COLUMN_BY_FIELD[field_name].header, "limit": limit}
            )
    maker_limit = Manufacturer._meta.get_field("name").max_length
    if len(row.values.get("manufacturer") or "") > maker_limit:
        row.errors.append(
            _("%(column)s is longer than %(limit)d characters.") % {"column": COLUMN_BY_FIELD["manufacturer"].header, "limit": maker_limit}
        )
    return row


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _changes(row: RowPlan, device: Device, parsed: ParsedFile) -> list[Change]:
    """What the row changes on an existing device. Empty optional cells keep the current value."""
    changes = []
    for field_name in UPDATABLE_FIELDS:
        if not parsed.has_column(field_name):
            continue
        if field_name == "category":
            if row.category and row.category.pk != device.category_id:
                changes.append(Change("category", _label("category"), device.category.name, row.category.name))
            continue
        new = row.values.get(field_name)
        if new in (None, ""):
            continue
        old = getattr(device, field_name)
        if old != new:
            changes.append(Change(field_name, _label(field_name), _show(old), _show(new)))
    return changes


def plan(parsed: ParsedFile, user, *, default_project: Project | None = None, lock: bool = False) -> ImportPlan:
    """Decide what each row does, with a fixed number of queries whatever the file's length."""
    projects_visible = visible(Project.objects.all(), user)
    if default_project is not None and not projects_visible.filter(pk=default_project.pk).exists():
        raise ImportFileError(_("Unknown project."))
    rows = [_clean_row(source) for source in parsed.rows]

    contracts = {row.values.get("contract_number") for row in rows} - {None, ""}
    projects: dict[str, Project] = {}
    for chunk in _chunks(contracts):
        projects.update((p.contract_number, p) for p in projects_visible.filter(contract_number__in=chunk))
    all_categories = list(DeviceCategory.objects.all())
    categories = {c.code.casefold(): c for c in all_categories}
    categories.update((c.name.casefold(), c) for c in all_categories)  # a name wins over another category's code
    makers = {m.name.casefold(): m for m in Manufacturer.objects.all()}
    may_add_makers = user.has_perm("assets.add_manufacturer")

    serials = {row.values.get("serial_number") for row in rows} - {None, ""}
    existing: dict[tuple[int, str], Device] = {}
    devices = Device.objects.select_related("project", "category")
    if lock:
        devices = devices.select_for_update(of=("self",))
    for chunk in _chunks(serials):
        for device in devices.filter(serial_number__in=chunk):
            existing[(device.manufacturer_id, device.serial_number)] = device
    other_projects = {d.project_id for d in existing.values()}
    visible_other = set()
    for chunk in _chunks(other_projects):
        visible_other.update(projects_visible.filter(pk__in=chunk).values_list("pk", flat=True))

    new_makers: dict[str, str] = {}  # casefold -> first spelling in the file
    first_line_of_key: dict[tuple, int] = {}
    for row in rows:
        contract = row.values.get("contract_number") or ""
        if contract:
            row.project = projects.get(contract)
            if row.project is None:
                row.errors.append(_("Unknown contract number %(value)s.") % {"value": contract})
            elif default_project is not None and row.project.pk != default_project.pk:
                row.errors.append(
                    _("The contract number %(value)s is not the project this import is for (%(project)s).")
                    % {"value": contract, "project": default_project.contract_number}
                )
                row.project = None
        elif default_project is not None:
            row.project = default_project
        else:
            row.errors.append(_("%(column)s is required.") % {"column": COLUMN_BY_FIELD["contract_number"].header})

        category_text = row.values.get("category") or ""
        if category_text:
            row.category = categories.get(category_text.casefold())
            if row.category is None:
                row.errors.append(_("Unknown device category %(value)s.") % {"value": category_text})

        maker_text = row.values.get("manufacturer") or ""
        maker_key = None
        if maker_text:
            row.manufacturer = makers.get(maker_text.casefold())
            if row.manufacturer is not None:
                maker_key = row.manufacturer.pk
            elif may_add_makers:
                row.new_manufacturer = True
                maker_key = "new:" + maker_text.casefold()
                new_makers.setdefault(maker_text.casefold(), maker_text)
            else:
                row.errors.append(
                    _("Unknown manufacturer %(value)s (you may not add manufacturers).") % {"value": maker_text}
                )

        serial = row.values.get("serial_number") or ""
        if maker_key is not None and serial:
            key = (maker_key, serial)
            if key in first_line_of_key:
                row.errors.append(
                    _("Same manufacturer and serial number as row %(line)d.") % {"line": first_line_of_key[key]}
                )
            else:
                first_line_of_key[key] = row.line
            device = existing.get(key) if row.manufacturer else None
            if device is not None:
                if row.project is not None and device.project_id != row.project.pk:
                    if device.project_id in visible_other:
                        row.errors.append(
                            _("This manufacturer and serial number are already registered in project %(project)s.")
                            % {"project": device.project.contract_number}
                        )
                    else:
                        row.errors.append(_("This manufacturer and serial number are already registered in another project."))
                else:
                    row.device = device

        if row.errors:
            row.action = ERROR
        elif row.device is None:
            row.action = CREATE
        else:
            row.changes = _changes(row, row.device, parsed)
            row.action = UPDATE if row.changes else UNCHANGED

    result = ImportPlan(
        file=parsed, rows=rows, default_project=default_project,
        new_manufacturers=list(new_makers.values()),
    )
    result.fingerprint = fingerprint(result)
    return result


def fingerprint(result: ImportPlan) -> str:
    """Identifies the file, the decisions and the state of every touched device: confirm must see the same."""
    body = {
        "file": result.file.sha256,
        "project": result.default_project.pk if result.default_project else None,
        "makers": result.new_manufacturers,
        "rows": [
            [row.line, row.action, row.device.pk if row.device else None,
             row.device.updated_at.isoformat() if row.device else None,
             [[c.field, c.old, c.new] for c in row.changes], row.errors]
            for row in result.rows
        ],
    }
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------- apply


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_manufacturers: list[str] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return bool(self.created or self.updated)


def apply(result: ImportPlan, user) -> ImportResult:
    """Write a plan without errors. Call inside a transaction (commit() does).

    Rows are written in batches (a 20,000-row list must finish within a web request), so model signals do not
    fire; the audit trail (SEC-2) is written here instead, one entry per created or changed device, as
    django-auditlog would have written it."""
    if result.has_errors:
        raise RowErrors(result)
    outcome = ImportResult(new_manufacturers=list(result.new_manufacturers))
    created_makers = {}
    for name in result.new_manufacturers:
        created_makers[name.casefold()], _created = Manufacturer.objects.get_or_create(name=name)

    new_devices: list[Device] = []
    changed: list[tuple[Device, Device, list[str]]] = []  # (before, after, fields)
    now = timezone.now()
    for row in result.rows:
        values = row.values
        if row.action == CREATE:
            device = Device(
                project=row.project, category=row.category,
                manufacturer=row.manufacturer or created_makers[values["manufacturer"].casefold()],
                name=values["name"], model=values["model"], serial_number=values["serial_number"],
                location=values.get("location") or "", installed_on=values.get("installed_on"),
                supplier=values.get("supplier") or "", notes=values.get("notes") or "",
            )
            device.refresh_warranty(row.project)
            new_devices.append(device)
        elif row.action == UPDATE:
            before = copy.copy(row.device)
            for change in row.changes:
                setattr(row.device, change.field, row.category if change.field == "category" else values[change.field])
            row.device.updated_at = now
            changed.append((before, row.device, [c.field for c in row.changes]))
        else:
            outcome.unchanged += 1

    if new_devices:
        Device.objects.bulk_create(new_devices, batch_size=WRITE_BATCH)  # SQLite ≥ 3.35 and PostgreSQL set the ids
        _audit(user, LogEntry.Action.CREATE, [(device, model_instance_diff(None, device)) for device in new_devices])
    outcome.created = len(new_devices)

    for fields in {tuple(sorted(f)) for _b, _a, f in changed}:
        batch = [after for _b, after, f in changed if tuple(sorted(f)) == fields]
        Device.objects.bulk_update(batch, [*fields, "updated_at"], batch_size=WRITE_BATCH)
    _audit(user, LogEntry.Action.UPDATE, [
        (after, model_instance_diff(before, after, fields_to_check=fields)) for before, after, fields in changed
    ])
    outcome.updated = len(changed)
    return outcome


WRITE_BATCH = 500


def _audit(user, action: int, entries) -> None:
    """One auditlog entry per device, with the actor and address the request's AuditlogMiddleware recorded."""
    audit.write(action, entries, actor=user)


def commit(
    parsed: ParsedFile, user, *, default_project: Project | None = None, expected_fingerprint: str | None = None
) -> tuple[ImportPlan, ImportResult]:
    """Re-validate and write in ONE transaction: every row, or nothing (RowErrors, PlanChanged, ImportConflict)."""
    try:
        with transaction.atomic():
            result = plan(parsed, user, default_project=default_project, lock=True)
            if result.has_errors:
                raise RowErrors(result)
            if expected_fingerprint is not None and result.fingerprint != expected_fingerprint:
                raise PlanChanged(result)
            return result, apply(result, user)
    except IntegrityError:
        raise ImportConflict(
            _("Someone registered some of these devices at the same time, so nothing was written. Try again.")
        ) from None


# ---------------------------------------------------------------------------------------------- stash


STASH_DIR = "imports/devices"
_STASH_KEY = re.compile(r"^[0-9a-f]{32}$")


class StashExpired(DomainError):
    code = "stash_expired"

    def __init__(self):
        super().__init__(_("This upload has expired or is not yours. Upload the file again."))


def _stash_path(user, key: str, kind: str) -> str:
    return f"{STASH_DIR}/{int(user.pk)}/{key}.{kind}"


def _signer(user) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"aftersales.assets.import.{user.pk}")


def stash(user, name: str, data: bytes, project: Project | None = None) -> str:
    """Keep an upload until it is confirmed; returns a token only this user can redeem."""
    kind = file_kind(name)
    _sweep(user)
    key = secrets.token_hex(16)
    default_storage.save(_stash_path(user, key, kind), ContentFile(data))
    payload = {"k": key, "t": kind, "n": name[-120:], "s": hashlib.sha256(data).hexdigest(),
               "p": project.pk if project else None}
    return _signer(user).sign_object(payload, compress=True)


def unstash(user, token: str) -> tuple[dict, bytes]:
    """(payload, bytes) of this user's upload, checked against its hash; StashExpired otherwise."""
    try:
        payload = _signer(user).unsign_object(token or "", max_age=STASH_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise StashExpired() from None
    key, kind = str(payload.get("k", "")), str(payload.get("t", ""))
    if not _STASH_KEY.match(key) or kind not in ("xlsx", "csv"):
        raise StashExpired()
    path = _stash_path(user, key, kind)
    try:
        with default_storage.open(path, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError):
        raise StashExpired() from None
    if hashlib.sha256(data).hexdigest() != payload.get("s"):
        raise StashExpired()
    return payload, data


def discard(user, token: str) -> None:
    try:
        payload = _signer(user).unsign_object(token or "", max_age=STASH_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return
    key, kind = str(payload.get("k", "")), str(payload.get("t", ""))
    if _STASH_KEY.match(key) and kind in ("xlsx", "csv"):
        default_storage.delete(_stash_path(user, key, kind))


def _sweep(user) -> None:
    """Remove this user's uploads that can no longer be confirmed."""
    folder = f"{STASH_DIR}/{int(user.pk)}"
    try:
        _dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, OSError, NotImplementedError):
        return
    cutoff = timezone.now() - STASH_MAX_AGE
    for name in files:
        path = f"{folder}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except (FileNotFoundError, OSError, NotImplementedError):
            continue
