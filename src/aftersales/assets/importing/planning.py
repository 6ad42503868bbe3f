"""Validating rows: what each row of a parsed file does to the registry (create / update / unchanged / error, and
why), with a fixed number of queries whatever the file's length.

The matching key is explicit: (manufacturer, serial number), the same pair the database keeps unique. Projects are
matched by contract number among the projects the importing user may see (SEC-1), so another customer's contract
number reads as unknown.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.plausible import implausible_message, is_plausible
from aftersales.core.scoping import visible
from aftersales.customers.models import Project

from ..models import Device, DeviceCategory, Manufacturer
from .cells import cell_text, parse_date, serial_text
from .columns import COLUMN_BY_FIELD, COLUMNS, DEVICE_TEXT_FIELDS, UPDATABLE_FIELDS
from .errors import ImportFileError
from .reading import ParsedFile, SourceRow

LOOKUP_CHUNK = 500  # keeps every `IN (...)` well below SQLite's variable limit


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
                value = row.values[field_name]
                if value is not None and not is_plausible(value):  # issue 20: the one date rule, as in the form
                    row.values[field_name] = None
                    row.errors.append(
                        _("The date %(value)s in %(column)s is not plausible.") % {"value": value.isoformat(),
                                                                                  "column": column.header}
                        + " " + implausible_message()
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
