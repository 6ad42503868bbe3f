"""Reading an uploaded device list: .xlsx (first sheet) or .csv, the header row recognised, every row kept as read.

Problems with the file as a whole (type, size, an .xlsx that inflates too far, no header, too many rows) raise
ImportFileError; problems of single rows are the plan's (planning.py).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .cells import cell_text
from .columns import COLUMN_BY_FIELD, COLUMNS, HEADER_FIELDS, normalise_header
from .errors import ImportFileError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # an .xlsx is a zip: refuse one that inflates beyond this
HEADER_SEARCH_ROWS = 10  # the header may sit below a title row such as "XX项目设备清单"


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
            # The sizes the archive declares bound what reading it can produce (zipfile stops there and checks the
            # CRC), so a zip bomb is refused here by what it is, not as a large upload.
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise ImportFileError(
                    _("The file expands to more than %(mb)d MB when unpacked, so it is not a valid spreadsheet.")
                    % {"mb": MAX_UNZIPPED_BYTES // 2**20}
                )
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

