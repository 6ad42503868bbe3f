"""RPT-1: the reports' tables and the rows behind each number, as pages, CSV (UTF-8 with a BOM, streamed), XLSX
(openpyxl's write-only workbook, sent from a temporary file) and PDF (printing.pdf.render).

Never truncated: the rows are read with `iterator()` (a server-side cursor on PostgreSQL, chunked on SQLite) and
written as they come; the page shows a bounded page of the same queryset. A cell is a `Cell`: its value, and the
figure and key of the drill-down that lists the rows it counts. Rows are read as tuples (`values_list`) of the
columns below, in one query per page or export, whatever the number of rows.
"""

import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from aftersales.assets.exporting import csv_lines
from aftersales.assets.models import Device
from aftersales.billing.models import ChargeLine
from aftersales.contracts.models import ServiceContract
from aftersales.inspections.models import InspectionRound, RoundState
from aftersales.service.models import Priority, ServiceRequest, State, Target, TargetKind, Visit, WorkOrder

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ITERATOR_CHUNK = 2000


@dataclass(frozen=True)
class Cell:
    value: object
    figure: str | None = None  # the drill-down that lists what this number counts
    key: dict = field(default_factory=dict)
    href: str | None = None  # or a page of its own (an escalated request)


@dataclass(frozen=True)
class Table:
    headers: list
    rows: list  # of lists of Cell


# ------------------------------------------------------------------------------------- the rows behind a number

@dataclass(frozen=True)
class Column:
    header: object  # lazy text
    paths: tuple  # values_list lookups; the first that is not None is shown
    kind: str = "text"  # text, datetime, date, money, choice:<name>


PRIORITY_LABELS = dict(Priority.choices)
STATE_LABELS = dict(State.choices)
ROUND_LABELS = dict(RoundState.choices)

COLUMNS = {
    ServiceRequest: [
        Column(gettext_lazy("Number"), ("number",)), Column(gettext_lazy("Opened"), ("created_at",), "datetime"),
        Column(gettext_lazy("Customer"), ("customer__name",)), Column(gettext_lazy("Project"), ("project__name",)),
        Column(gettext_lazy("Priority"), ("priority",), "choice:priority"),
        Column(gettext_lazy("State"), ("state",), "choice:state"), Column(gettext_lazy("Title"), ("title",)),
    ],
    WorkOrder: [
        Column(gettext_lazy("Number"), ("request__number",)), Column(gettext_lazy("Customer"), ("request__customer__name",)),
        Column(gettext_lazy("Engineer"), ("engineer__full_name", "engineer__username")),
        Column(gettext_lazy("Confirmed at"), ("confirmed_at",), "datetime"),
        Column(gettext_lazy("Satisfaction"), ("satisfaction",)),
    ],
    InspectionRound: [
        Column(gettext_lazy("Plan"), ("plan__name",)), Column(gettext_lazy("Customer"), ("customer__name",)),
        Column(gettext_lazy("Project"), ("project__name",)), Column(gettext_lazy("Due on"), ("due_on",), "date"),
        Column(gettext_lazy("State"), ("state",), "choice:round"),
        Column(gettext_lazy("Engineer"), ("engineer__full_name", "engineer__username")),
    ],
    Device: [
        Column(gettext_lazy("Device name"), ("name",)), Column(gettext_lazy("Manufacturer"), ("manufacturer__name",)),
        Column(gettext_lazy("Model"), ("model",)), Column(gettext_lazy("Serial number"), ("serial_number",)),
        Column(gettext_lazy("Customer"), ("project__customer__name",)), Column(gettext_lazy("Project"), ("project__name",)),
        Column(gettext_lazy("Warranty ends"), ("warranty_end",), "date"),
    ],
    ServiceContract: [
        Column(gettext_lazy("Service contract number"), ("number",)),
        Column(gettext_lazy("Customer"), ("project__customer__name",)), Column(gettext_lazy("Project"), ("project__name",)),
    ],
    ChargeLine: [
        Column(gettext_lazy("Issued at"), ("sheet__issued_at",), "datetime"),
        Column(gettext_lazy("Customer"), ("sheet__work_order__request__customer__name",
                                          "sheet__repair_case__customer__name")),
        Column(gettext_lazy("Number"), ("sheet__work_order__request__number",)),
        Column(gettext_lazy("Model"), ("sheet__device__model",)), Column(pgettext_lazy("charge line", "Description"), ("description",)),
        Column(pgettext_lazy("charge line", "Covered"), ("covered",), "bool"),
        Column(gettext_lazy("Our cost (CNY)"), ("integrator_cost",), "money"),
        Column(gettext_lazy("The customer pays (CNY)"), ("customer_amount",), "money"),
    ],
}
COLUMNS[ServiceRequest.devices.through] = [  # a failure: one device named on one request
    Column(gettext_lazy("Number"), ("servicerequest__number",)),
    Column(gettext_lazy("Opened"), ("servicerequest__created_at",), "datetime"),
    Column(gettext_lazy("Customer"), ("servicerequest__customer__name",)),
    Column(gettext_lazy("Device name"), ("device__name",)), Column(gettext_lazy("Model"), ("device__model",)),
    Column(gettext_lazy("Serial number"), ("device__serial_number",)),
]
COLUMNS[Visit] = [  # time on site: one visit that arrived and left
    Column(gettext_lazy("Number"), ("request__number",)), Column(gettext_lazy("Customer"), ("request__customer__name",)),
    Column(gettext_lazy("Engineer"), ("engineer__full_name", "engineer__username")),
    Column(gettext_lazy("Arrived at"), ("arrived_at",), "datetime"), Column(gettext_lazy("Left at"), ("left_at",), "datetime"),
]
COLUMNS[Target] = [  # one promise of one request: met or missed
    Column(gettext_lazy("Number"), ("request__number",)), Column(gettext_lazy("Target"), ("kind",), "choice:target"),
    Column(gettext_lazy("Priority"), ("request__priority",), "choice:priority"),
    Column(gettext_lazy("Due"), ("due_at",), "datetime"), Column(gettext_lazy("Met at"), ("met_at",), "datetime"),
]
# the page a row links to, and the column holding its id
LINKS = {Visit: ("service:request_detail", "request_id"), Target: ("service:request_detail", "request_id"), ServiceRequest: ("service:request_detail", "pk"), Device: ("assets:device_detail", "pk"),
         ServiceRequest.devices.through: ("service:request_detail", "servicerequest_id")}


def columns_of(model) -> list[Column]:
    return COLUMNS[model]


def row_queryset(queryset):
    """(id of the linked page, *paths) tuples in the caller's order: one query for a page, one cursor for an
    export."""
    paths = [path for column in columns_of(queryset.model) for path in column.paths]
    return queryset.values_list(LINKS.get(queryset.model, (None, "pk"))[1], *paths)


def shape(model, raw: tuple) -> tuple[int, list]:
    """(the linked page's id, values in column order): local naive datetimes, labels for choices, the first
    non-empty path."""
    zone = timezone.get_current_timezone()
    labels = {"choice:priority": PRIORITY_LABELS, "choice:state": STATE_LABELS, "choice:round": ROUND_LABELS,
              "choice:target": dict(TargetKind.choices)}
    values, index = [], 1
    for column in columns_of(model):
        found = next((v for v in raw[index:index + len(column.paths)] if v not in (None, "")), None)
        index += len(column.paths)
        if column.kind == "datetime" and found is not None:
            found = found.astimezone(zone).replace(tzinfo=None)
        elif column.kind in labels and found is not None:
            found = str(labels[column.kind].get(found, found))
        elif column.kind == "bool" and found is not None:
            found = _("Yes") if found else _("No")
        values.append(found)
    return raw[0], values


def shape_time(value):
    """An aware datetime as the local, naive one the pages and files show."""
    return value.astimezone(timezone.get_current_timezone()).replace(tzinfo=None) if value is not None else None


def iter_rows(queryset) -> Iterator[list]:
    model = queryset.model
    for raw in row_queryset(queryset).iterator(chunk_size=ITERATOR_CHUNK):
        yield shape(model, raw)[1]


# ------------------------------------------------------------------------------------------------ the formats

def text_of(value):
    if isinstance(value, datetime):
        return value.isoformat(" ", "minutes")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:g}"
    return value


def csv_response(filename: str, headers: list, rows: Iterable[list]) -> StreamingHttpResponse:
    """UTF-8 with a BOM (Excel reads Chinese), streamed line by line."""
    lines = csv_lines([str(h) for h in headers], ([text_of(v) for v in row] for row in rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.csv")
    return response


def xlsx_response(filename: str, title: str, headers: list, rows: Iterable[list]) -> FileResponse:
    """openpyxl's write-only workbook (rows written as they come, memory flat) into a temporary file, streamed."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(title)[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value, *, header=False):
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return WriteOnlyCell(sheet, value=value)
        if isinstance(value, datetime):
            c = WriteOnlyCell(sheet, value=value)
            c.number_format = "yyyy-mm-dd hh:mm"
            return c
        if isinstance(value, date):
            c = WriteOnlyCell(sheet, value=value)
            c.number_format = "yyyy-mm-dd"
            return c
        text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
        c = WriteOnlyCell(sheet, value=text or None)
        if text:
            c.data_type = "s"  # text, never a formula
        if header:
            c.font = bold
        return c

    sheet.append([cell(str(h), header=True) for h in headers])
    for row in rows:
        sheet.append([cell(v) for v in row])
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, content_type=XLSX_CONTENT_TYPE, filename=f"{filename}.xlsx")


def pdf_response(title: str, subtitle: str, table: Table, filename: str) -> HttpResponse:
    from aftersales.printing import pdf

    headers = [str(h) for h in table.headers]
    rows = [[cell.value if isinstance(cell.value, (int, float, Decimal)) else text_of(cell.value) for cell in row]
            for row in table.rows]
    facts = {"number": str(title), "title": str(title), "period": subtitle, "headers": headers,
             "rows": [[str(v) if v is not None else "" for v in row] for row in rows]}
    document = pdf.render("reports/report_pdf.html", {"title": title, "subtitle": subtitle, "headers": headers,
                                                      "rows": rows}, facts=facts, filename=f"{filename}.pdf")
    response = HttpResponse(document.content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, document.filename)
    return response


def table_rows(table: Table) -> Iterator[list]:
    for row in table.rows:
        yield [cell.value for cell in row]
