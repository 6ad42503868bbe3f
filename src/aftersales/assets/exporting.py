"""CUS-3: export devices with the import's own headers, so an export re-imports unchanged (lessons.md item 13).

CSV streams row by row with a UTF-8 BOM (Excel then reads Chinese correctly) and is never truncated;
.xlsx is written by openpyxl's write-only workbook into a temporary file, serial numbers as text cells and
dates as plain (tz-naive) date cells. Values that a spreadsheet would run as a formula are neutralised:
quoted with ' in CSV (the import removes the quote again), typed as text in .xlsx.
"""

import csv
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .importing import COLUMNS, FORMULA_PREFIXES, ImportPlan
from .models import Device

BOM = "\ufeff"
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header
ITERATOR_CHUNK = 2000


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer output."""

    def write(self, value):
        return value


def headers() -> list[str]:
    return [column.header for column in COLUMNS]


def export_queryset(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("project", "category", "manufacturer")


def device_row(device: Device) -> list:
    """One device in COLUMNS order (dates as date objects)."""
    values = {
        "contract_number": device.project.contract_number,
        "name": device.name,
        "category": device.category.name,
        "manufacturer": device.manufacturer.name,
        "model": device.model,
        "serial_number": device.serial_number,
        "location": device.location,
        "installed_on": device.installed_on,
        "supplier": device.supplier,
        "notes": device.notes,
    }
    return [values[column.field] for column in COLUMNS]


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """BOM + header + one CSV line per row, lazily."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        yield writer.writerow([csv_cell(v) for v in row])


def stream_csv(queryset: QuerySet) -> Iterator[str]:
    devices = export_queryset(queryset).iterator(chunk_size=ITERATOR_CHUNK)
    return csv_lines(headers(), (device_row(d) for d in devices))


def write_xlsx(queryset: QuerySet | None, *, title: str | None = None):
    """The devices as an .xlsx in a temporary file, positioned at its start (the caller closes it).
    `queryset=None` writes the header only: the blank template."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(title or _("Devices"))[:31])
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 24 if column.field in ("name", "serial_number", "location", "supplier", "notes") else 14
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value, *, header=False):
        if isinstance(value, date):
            c = WriteOnlyCell(sheet, value=value)
            c.number_format = "yyyy-mm-dd"
            return c
        text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
        c = WriteOnlyCell(sheet, value=text or None)
        if text:
            c.data_type = "s"  # text, never a formula, whatever it starts with
            c.number_format = "@"
        if header:
            c.font = bold
        return c

    sheet.append([cell(h, header=True) for h in headers()])
    if queryset is not None:
        for device in export_queryset(queryset).iterator(chunk_size=ITERATOR_CHUNK):
            sheet.append([cell(v) for v in device_row(device)])
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    return handle


def rejected_rows_csv(result: ImportPlan) -> Iterator[str]:
    """The file's own columns for every rejected row, its row number and the reasons: fix and re-upload."""
    header = [*result.file.header, _("Row"), _("Error")]
    width = len(result.file.header)
    rows = ([*(row.cells + [""] * width)[:width], row.line, row.error_text] for row in result.rejected_rows)
    return csv_lines(header, rows)
