"""CUS-4: reminders 90, 30 and 7 days before a period of coverage ends — contract periods and the two warranty
periods — to the project branch's desk and department manager and the customer's contacts, through the outbox.

Each (period, offset) fires exactly once. The due reminders are found with indexed range reads that skip what has
fired (their cost grows with what is due); they are written as `CoverageReminder` rows, whose unique keys decide
between two runs at once, and a run tells only about the rows it inserted itself (its claim token), in the same
transaction as the outbox rows. A renewal is a new period with its own reminders (GLPI #23084 counts a tacitly renewed
contract's notice from the initial end date); a corrected end date is a new key, so it re-arms them (GLPI #4571).
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.accounts.models import Position
from aftersales.assets.models import IN_SERVICE, Device
from aftersales.core import clock
from aftersales.customers.models import Project

from .coverage import due_offset, notice_deadline, warranty_periods
from .models import REMINDER_OFFSETS, CoverageKind, CoveragePeriod, CoverageReminder, Renewal, ServiceContract

EVENT = "coverage_ending"
BATCH = 500  # periods (and devices) per band and run; the hourly runs take the rest
DEVICES_LISTED = 20  # devices named in one warranty message; the rest are counted


@dataclass(frozen=True)
class Due:
    """A reminder that is due, with what its message needs."""

    reminder: CoverageReminder
    project_id: int
    period: CoveragePeriod | None = None
    device: dict | None = None  # Device columns: pk, name, model, serial_number

    @property
    def key(self) -> tuple:
        r = self.reminder
        return (r.period_id, r.device_id, r.kind, r.ends_on, r.offset)


def bands(today: date) -> list[tuple[int, date, date]]:
    """(offset, first end date, last end date): the periods whose due reminder today is `offset` (coverage.due_offset):
    7 days: ending today to in 7 days; 30: in 8 to 30 days; 90: in 31 to 90 days."""
    result, low = [], 0
    for offset in sorted(REMINDER_OFFSETS):
        result.append((offset, today + timedelta(days=low), today + timedelta(days=offset)))
        low = offset + 1
    return result


def due_contract_periods(today: date, *, limit: int = BATCH) -> list[Due]:
    """Contract periods with a reminder due and not yet fired. A period already renewed needs none: its renewal
    carries the coverage on, with reminders of its own. Nor does a contract that lists only retired devices (issue 22
    §3: nothing of it is in service any more); a whole-project contract keeps its reminders."""
    due = []
    in_service_listed = ServiceContract.devices.through.objects.filter(
        servicecontract_id=OuterRef("contract_id"), device__retired_at__isnull=True)
    for offset, first, last in bands(today):
        fired = CoverageReminder.objects.filter(period=OuterRef("pk"), ends_on=OuterRef("ends_on"), offset=offset)
        rows = (CoveragePeriod.objects.filter(ends_on__range=(first, last), renewed_by__isnull=True)
                .filter(Q(contract__whole_project=True) | Exists(in_service_listed))
                .exclude(Exists(fired)).select_related("contract").order_by("ends_on", "pk")[:limit])
        for period in rows:
            due.append(Due(CoverageReminder(period=period, kind=CoverageKind.CONTRACT, ends_on=period.ends_on,
                                            offset=offset), project_id=period.contract.project_id, period=period))
    return due


def due_warranties(today: date, *, limit: int = BATCH) -> list[Due]:
    """Warranty periods (from the devices' stored dates) with a reminder due and not yet fired."""
    due = []
    columns = ("pk", "project_id", "name", "model", "serial_number", "warranty_start", "manufacturer_warranty_end",
               "warranty_end")
    for offset, first, last in bands(today):
        fired = CoverageReminder.objects.filter(device=OuterRef("pk"), offset=offset)
        ending = Q(warranty_end__range=(first, last)) & ~Exists(fired.filter(ends_on=OuterRef("warranty_end")))
        manufacturer_ending = Q(manufacturer_warranty_end__range=(first, last),
                                warranty_end__gt=F("manufacturer_warranty_end")) & ~Exists(
            fired.filter(ends_on=OuterRef("manufacturer_warranty_end")))
        # Both ends lie on or before the warranty's: the index on warranty_end skips the devices already out of it.
        # A retired device is not told about (issue 22 §3): its replacement has a warranty of its own.
        rows = (Device.objects.filter(ending | manufacturer_ending, IN_SERVICE, warranty_end__gte=first).order_by("pk")
                .values(*columns)[:limit])
        for row in rows:
            for period in warranty_periods(start=row["warranty_start"], manufacturer_end=row["manufacturer_warranty_end"],
                                           warranty_end=row["warranty_end"]):
                if first <= period.ends_on <= last:
                    due.append(Due(CoverageReminder(device_id=row["pk"], kind=period.kind, ends_on=period.ends_on,
                                                    offset=offset), project_id=row["project_id"], device=row))
    return due


def send_due_reminders(*, now=None, limit: int = BATCH) -> int:
    """The periodic job: write the reminders due today and enqueue their messages. Returns how many it wrote; a run
    beside another writes and tells only what the other has not."""
    now = now or clock.now()
    today = now.astimezone(clock.SHANGHAI).date()
    due = due_contract_periods(today, limit=limit) + due_warranties(today, limit=limit)
    if not due:
        return 0
    claim = uuid.uuid4().hex
    with transaction.atomic():
        for item in due:
            item.reminder.fired_at, item.reminder.claim = now, claim
        CoverageReminder.objects.bulk_create([item.reminder for item in due], ignore_conflicts=True)
        mine = set(CoverageReminder.objects.filter(claim=claim).values_list(
            "period_id", "device_id", "kind", "ends_on", "offset"))
        ours = [item for item in due if item.key in mine]
        with translation.override(settings.LANGUAGE_CODE):  # the worker's messages in the site's language
            _enqueue(ours, today)
    return len(ours)


# ------------------------------------------------------------------------------------------------------ messages

def _enqueue(items: list[Due], today: date) -> None:
    from aftersales.notify.services import Message, enqueue_many

    if not items:
        return
    projects = Project.objects.select_related("customer").in_bulk({item.project_id for item in items})
    staff = _branch_staff({project.branch_id for project in projects.values()})
    contacts = _customer_contacts({project.customer_id for project in projects.values()})
    messages = []
    for item in items:
        if item.period is not None:
            project = projects[item.project_id]
            messages.append(Message(
                event=EVENT, about=item.period.contract, recipients=[*staff[project.branch_id], *contacts[project.customer_id]],
                dedupe_key=f"coverage-p{item.period.pk}-{item.reminder.ends_on:%Y%m%d}-{item.reminder.offset}",
                url=_absolute(item.period.contract.get_absolute_url()),
                **_contract_text(item.period, project, today)))
    # One message per project, kind, end and offset: a project's devices end together. Whether the device's warranty
    # lapses that day: the manufacturer's end with the integrator's extension after it changes nothing for the
    # customer, so only staff hear of it.
    groups = defaultdict(list)
    for item in items:
        if item.device is not None:
            r = item.reminder
            lapses = r.ends_on == item.device["warranty_end"]
            groups[(item.project_id, r.kind, r.ends_on, r.offset, lapses)].append(item.device)
    for (project_id, kind, ends_on, offset, lapses), devices in groups.items():
        project = projects[project_id]
        recipients = [*staff[project.branch_id], *(contacts[project.customer_id] if lapses else ())]
        devices.sort(key=lambda d: d["pk"])
        url = (reverse("assets:device_detail", args=[devices[0]["pk"]]) if len(devices) == 1
               else f"{reverse('assets:device_list')}?project={project.pk}")
        messages.append(Message(
            event=EVENT, about=project, recipients=recipients, url=_absolute(url),
            dedupe_key=f"coverage-w{project.pk}-{kind}-{ends_on:%Y%m%d}-{offset}-{devices[0]['pk']}",
            **_warranty_text(kind, ends_on, devices, project, today, lapses)))
    enqueue_many(messages)


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _branch_staff(branch_ids) -> dict[int, list]:
    """The desk (dispatchers) and the department managers of each branch: those who renew, give notice and talk to
    the customer. A branch without a manager is told through its desk; no other branch hears of it."""
    staff = defaultdict(list)
    for user in get_user_model().objects.filter(
            branch_id__in=branch_ids, position__in=[Position.DISPATCHER, Position.DEPARTMENT_MANAGER],
            is_active=True, customer__isnull=True).order_by("pk"):
        staff[user.branch_id].append(user)
    return staff


def _customer_contacts(customer_ids) -> dict[int, list]:
    """Every active user of each customer, as the request notices tell a customer that did not report."""
    contacts = defaultdict(list)
    for user in get_user_model().objects.filter(customer_id__in=customer_ids, is_active=True).order_by("pk"):
        contacts[user.customer_id].append(user)
    return contacts


def covers_text(parts: bool, labour: bool, onsite: bool) -> str:
    names = [name for covered, name in ((parts, _("parts")), (labour, _("labour")), (onsite, _("on-site service")))
             if covered]
    return "、".join(names) if names else _("nothing")


def _days(ends_on: date, today: date) -> int:
    return (ends_on - today).days


def _contract_text(period: CoveragePeriod, project, today: date) -> dict:
    contract = period.contract
    fields = {"number": contract.number, "date": period.ends_on.isoformat(), "days": _days(period.ends_on, today)}
    lines = [
        _("Customer: %(customer)s · project: %(project)s") % {"customer": project.customer, "project": project.name},
        _("Period %(start)s – %(end)s; covers %(covers)s.") % {
            "start": period.starts_on.isoformat(), "end": period.ends_on.isoformat(),
            "covers": covers_text(period.covers_parts, period.covers_labour, period.covers_onsite)},
    ]
    following = (period.ends_on + timedelta(days=1)).isoformat()
    if contract.cancelled:
        lines.append(_("Notice was given on %(date)s: the coverage ends with this period.")
                     % {"date": contract.cancelled_on.isoformat()})
    elif contract.renewal == Renewal.TACIT:
        deadline = notice_deadline(period.ends_on, contract.notice_days)
        if deadline >= today:
            lines.append(_("Tacit renewal: it renews on %(date)s for the same length unless notice is given by "
                           "%(deadline)s.") % {"date": following, "deadline": deadline.isoformat()})
        else:
            lines.append(_("Tacit renewal: the notice deadline (%(deadline)s) has passed; it renews on %(date)s.")
                         % {"date": following, "deadline": deadline.isoformat()})
    else:
        lines.append(_("Express renewal: the coverage ends on %(date)s unless the contract is renewed.")
                     % {"date": fields["date"]})
    return {"subject": ngettext("Maintenance contract %(number)s ends on %(date)s (in %(days)s day)",
                                "Maintenance contract %(number)s ends on %(date)s (in %(days)s days)",
                                fields["days"]) % fields,
            "body": "\n".join(lines)}


def _warranty_text(kind: str, ends_on: date, devices: list[dict], project, today: date, lapses: bool) -> dict:
    fields = {"kind": CoverageKind(kind).label, "date": ends_on.isoformat(), "days": _days(ends_on, today),
              "n": len(devices), "project": project.name}
    if len(devices) == 1:
        fields["device"] = devices[0]["name"]
        subject = ngettext("%(kind)s of %(device)s ends on %(date)s (in %(days)s day)",
                           "%(kind)s of %(device)s ends on %(date)s (in %(days)s days)", fields["days"]) % fields
    else:
        subject = ngettext("%(kind)s of %(n)s devices of %(project)s ends on %(date)s (in %(days)s day)",
                           "%(kind)s of %(n)s devices of %(project)s ends on %(date)s (in %(days)s days)",
                           fields["days"]) % fields
    lines = [_("Customer: %(customer)s · project: %(project)s") % {"customer": project.customer, "project": project.name}]
    lines += [f"· {d['name']} · {d['model']} · {d['serial_number']}" for d in devices[:DEVICES_LISTED]]
    if len(devices) > DEVICES_LISTED:
        lines.append(_("… and %(n)s more.") % {"n": len(devices) - DEVICES_LISTED})
    if lapses:
        lines.append(_("After this day a repair is charged as out of warranty (original parts at purchase cost, no "
                       "service or labour fee), unless a maintenance contract covers the device."))
    else:
        lines.append(_("The integrator's extended warranty continues after this day."))
    return {"subject": subject, "body": "\n".join(lines)}
