"""Issue 12 (RPT-1): the service request list as a spreadsheet, as the user filtered it on the list page.

One query whatever the number of rows: the reply and resolution targets are joined through FilteredRelation
(a request has at most one target of each kind), the satisfaction of the confirmed work order is a correlated
subquery, and the rows are plain tuples read through `iterator()` (a server-side cursor on PostgreSQL, chunked
reads on SQLite), so the first line leaves at once and memory stays flat however many rows follow.

CSV streams with a UTF-8 BOM (Excel then reads Chinese correctly) and is never truncated (lessons.md item 13);
.xlsx is written by openpyxl's write-only workbook into a temporary file. Times are local (Asia/Shanghai).
Text a spreadsheet would run as a formula is neutralised, as in the device export.

A target counts as missed as the compliance summary counts it (`reports.py`): a breach recorded, or met after its
due time; "no" once met in time; empty while undecided (running, not started, or the request has no such target).
"""

import tempfile
from collections.abc import Iterator
from datetime import datetime

from django.db.models import FilteredRelation, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import display_name
from aftersales.assets.exporting import csv_lines

from .models import Channel, Priority, State, TargetKind, WorkOrder, WorkOrderState

XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header
ITERATOR_CHUNK = 2000

FIELDS = (
    "number", "created_at", "customer__name", "project__name", "priority", "channel", "state", "title", "reporter_name",
    "assignee__full_name", "assignee__first_name", "assignee__last_name", "assignee__username",
    "reply_target__due_at", "replied_at", "reply_target__met_at", "reply_target__breached_at",
    "resolution_target__due_at", "resolved_at", "resolution_target__met_at", "resolution_target__breached_at",
    "escalation_level", "satisfaction", "restored_at",
)


def headers() -> list[str]:
    return [_("Number"), _("Opened"), _("Customer"), _("Project"), _("Priority"), _("Channel"), _("State"), _("Title"),
            _("Reporter"), _("Engineer"), _("Reply due"), _("Replied at"), _("Reply target missed"), _("Resolution due"),
            _("Resolved at"), _("Resolution target missed"), _("Escalation level"), _("Satisfaction"),
            _("Service restored by a temporary fix at")]


def export_queryset(queryset: QuerySet) -> QuerySet:
    """The rows as tuples in FIELDS order, keeping the caller's filters and order."""
    satisfaction = (WorkOrder.objects.filter(request=OuterRef("pk"), state=WorkOrderState.CONFIRMED)
                    .order_by("-confirmed_at", "-pk").values("satisfaction")[:1])
    return queryset.annotate(
        reply_target=FilteredRelation("targets", condition=Q(targets__kind=TargetKind.REPLY)),
        resolution_target=FilteredRelation("targets", condition=Q(targets__kind=TargetKind.RESOLUTION)),
        satisfaction=Subquery(satisfaction),
    ).values_list(*FIELDS)


def missed(due, met, breached_at) -> bool | None:
    if breached_at is not None or (met is not None and due is not None and met > due):
        return True
    return False if met is not None else None


def records(queryset: QuerySet) -> Iterator[list]:
    """One list per request in headers() order: local tz-naive datetimes, labels, numbers, None for empty.
    Labels and time zone are read now, in the request; the rows are read as the response is sent."""
    zone = timezone.get_current_timezone()
    priorities, channels, states = ({value: str(label) for value, label in choices.choices}
                                    for choices in (Priority, Channel, State))

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(zone).replace(tzinfo=None) if value is not None else None

    def rows():
        for (number, created_at, customer, project, priority, channel, state, title, reporter,
             full_name, first_name, last_name, username,
             reply_due, replied_at, reply_met, reply_breached, resolve_due, resolved_at, resolve_met, resolve_breached,
             escalation_level, satisfaction, restored_at) in export_queryset(queryset).iterator(chunk_size=ITERATOR_CHUNK):
            engineer = display_name(full_name, first_name, last_name, username) if username else None
            yield [number, local(created_at), customer, project, priorities.get(priority, priority),
                   channels.get(channel, channel), states.get(state, state), title, reporter, engineer,
                   local(reply_due), local(replied_at), missed(reply_due, reply_met, reply_breached),
                   local(resolve_due), local(resolved_at), missed(resolve_due, resolve_met, resolve_breached),
                   escalation_level, satisfaction, local(restored_at)]

    return rows()


def _text(value, yes: str, no: str):
    if isinstance(value, bool):
        return yes if value else no
    if isinstance(value, datetime):
        return value.isoformat(" ", "minutes")  # 2024-06-01 09:30 (naive local time); faster than strftime
    return value


def stream_csv(queryset: QuerySet) -> Iterator[str]:
    """BOM + header at once, then one line per request as the database hands the rows over."""
    yes, no = _("Yes"), _("No")
    return csv_lines(headers(), ([_text(v, yes, no) for v in row] for row in records(queryset)))


def write_xlsx(queryset: QuerySet, *, title: str | None = None):
    """The requests as an .xlsx in a temporary file, positioned at its start (the caller closes it)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(title or _("Service requests"))[:31])
    for index in range(1, len(headers()) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 30 if index in (3, 4, 8) else 16
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    yes, no = _("Yes"), _("No")

    def cell(value, *, header=False):
        if isinstance(value, datetime):
            c = WriteOnlyCell(sheet, value=value)
            c.number_format = "yyyy-mm-dd hh:mm"
            return c
        if isinstance(value, int) and not isinstance(value, bool):
            return WriteOnlyCell(sheet, value=value)
        text = ILLEGAL_CHARACTERS_RE.sub("", _text(value, yes, no) or "")
        c = WriteOnlyCell(sheet, value=text or None)
        if text:
            c.data_type = "s"  # text, never a formula, whatever it starts with
        if header:
            c.font = bold
        return c

    sheet.append([cell(h, header=True) for h in headers()])
    for row in records(queryset):
        sheet.append([cell(v) for v in row])
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    return handle
