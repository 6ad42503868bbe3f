"""INS-1 and INS-3 (issue 23 §1, §3): the verbs on checklists, plans and rounds, the only writers of those rows.

Each verb is one transaction: it locks what it changes, compares the version the user saw (a stale one is a 409 with
nothing written), checks the move against the table in transitions.py, writes, and records a RoundEvent line.
Keyword-only arguments, the actor passed in, the clock read once.

Times sent by a phone (a round's start and completion, each answer) are kept as the phone said, with the server's
receipt time beside them: an engineer offline in a basement records at 10:02 and the server hears it at 11:40."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.assets.models import IN_SERVICE, Device, DeviceCategory
from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.plausible import implausible_message, is_plausible
from aftersales.core.versioning import claim_version

from . import schedule, selectors, transitions
from .defaults import DEFAULT_CHECKLISTS
from .history import record
from .models import (
    PENDING_STATES,
    UNSTARTED_STATES,
    Answer,
    ChecklistItem,
    ChecklistTemplate,
    ChecklistVersion,
    DeviceCheck,
    DeviceSelection,
    EventKind,
    InspectionPlan,
    InspectionRound,
    ItemKind,
    RoundEvent,
    RoundState,
)
from .photos import check_photo, delete_stored

DO_ROUNDS = "inspections.do_rounds"
PHONE_CLOCK_SLACK = timedelta(minutes=10)  # a phone's clock may run this far ahead of the server's
MAX_ITEMS = 60


class Conflict(DomainError):
    status = 409
    code = "conflict"


class NotAssigned(DomainError):
    """Only the round's own engineer records it."""

    status = 403
    code = "not_assigned"


class MissingEvidence(DomainError):
    code = "evidence_required"


class Incomplete(DomainError):
    code = "incomplete"


# ------------------------------------------------------------------------------------------------ building blocks



def _actor(by):
    return by if by is not None and by.is_authenticated else None


def _required(text, field: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(message, field=field)
    return text


def _local_day(moment: datetime) -> date:
    return moment.astimezone(clock.SHANGHAI).date()


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.SHANGHAI)


def phone_time(value, *, now: datetime, field: str) -> datetime:
    """A time sent by a phone: aware, plausible, and not ahead of the server by more than the slack."""
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.SHANGHAI)
    if not is_plausible(value):
        raise DomainError(implausible_message(), field=field)
    if value > now + PHONE_CLOCK_SLACK:
        raise DomainError(_("This time is in the future: check the phone's clock."), field=field)
    return value


def check_position(latitude, longitude, accuracy_m) -> None:
    if (latitude is None) != (longitude is None):
        raise DomainError(_("Send both latitude and longitude, or neither."), field="latitude")
    if latitude is not None and not Decimal(-90) <= Decimal(latitude) <= Decimal(90):
        raise DomainError(_("Latitude is between -90 and 90."), field="latitude")
    if longitude is not None and not Decimal(-180) <= Decimal(longitude) <= Decimal(180):
        raise DomainError(_("Longitude is between -180 and 180."), field="longitude")
    if accuracy_m is not None and not 0 <= accuracy_m <= 100_000:
        raise DomainError(_("Accuracy is between 0 and 100000 metres."), field="accuracy_m")


# ------------------------------------------------------------------------------------------------ checklists (INS-3)

@dataclass(frozen=True)
class ItemSpec:
    kind: str
    label: str
    unit: str = ""
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    evidence_required: bool = False
    opens_request: bool = False  # INS-4: a finding on this item opens a service request at once


def _checked_items(items) -> list[ItemSpec]:
    specs = [item if isinstance(item, ItemSpec) else ItemSpec(**item) for item in items]
    if not specs:
        raise DomainError(_("A checklist has at least one item."), field="items")
    if len(specs) > MAX_ITEMS:
        raise DomainError(_("A checklist has at most %(n)s items.") % {"n": MAX_ITEMS}, field="items")
    for n, spec in enumerate(specs, start=1):
        where = {"n": n}
        if spec.kind not in ItemKind.values:
            raise DomainError(_("Item %(n)s: choose its kind.") % where, field="items")
        if not (spec.label or "").strip():
            raise DomainError(_("Item %(n)s: say what is checked.") % where, field="items")
        if spec.kind != ItemKind.READING and (spec.min_value is not None or spec.max_value is not None):
            raise DomainError(_("Item %(n)s: only a reading has a valid range.") % where, field="items")
        if spec.min_value is not None and spec.max_value is not None and spec.min_value > spec.max_value:
            raise DomainError(_("Item %(n)s: the lowest valid reading is above the highest.") % where, field="items")
    return specs


def _write_version(template, specs, *, by, note, at) -> ChecklistVersion:
    number = (template.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = ChecklistVersion.objects.create(template=template, number=number, note=(note or "").strip()[:200],
                                              created_at=at, created_by=_actor(by))
    ChecklistItem.objects.bulk_create([
        ChecklistItem(version=version, position=n, kind=spec.kind, label=spec.label.strip()[:200],
                      unit=(spec.unit or "").strip()[:20], min_value=spec.min_value, max_value=spec.max_value,
                      evidence_required=bool(spec.evidence_required), opens_request=bool(spec.opens_request))
        for n, spec in enumerate(specs, start=1)])
    template.current = version
    template.save(update_fields=["current", "updated_at"])
    return version


@transaction.atomic
def create_checklist(*, by, category: DeviceCategory, name: str, items, note: str = "") -> ChecklistTemplate:
    """INS-3: a new checklist for a device category, with its first version."""
    name = _required(name, "name", _("Name the checklist."))
    specs = _checked_items(items)
    if ChecklistTemplate.objects.filter(category=category, name=name).exists():
        raise Conflict(_("This category has a checklist of this name already."), field="name")
    template = ChecklistTemplate.objects.create(name=name, category=category)
    _write_version(template, specs, by=by, note=note, at=clock.now())
    return template


@transaction.atomic
def revise_checklist(*, checklist: ChecklistTemplate, by, version: int, items, note: str = "",
                     name: str | None = None, is_active: bool | None = None) -> ChecklistTemplate:
    """INS-3: editing a checklist writes a new version; rounds already started keep the version they used, rounds
    not started yet take the new one when they start."""
    specs = _checked_items(items)
    checklist = ChecklistTemplate.objects.select_for_update().get(pk=checklist.pk)
    claim_version(checklist, version)
    fields = []
    if name is not None and name.strip() and name.strip() != checklist.name:
        if ChecklistTemplate.objects.filter(category_id=checklist.category_id, name=name.strip()).exists():
            raise Conflict(_("This category has a checklist of this name already."), field="name")
        checklist.name = name.strip()
        fields.append("name")
    if is_active is not None:
        checklist.is_active = is_active
        fields.append("is_active")
    if fields:
        checklist.save(update_fields=[*fields, "updated_at"])
    _write_version(checklist, specs, by=by, note=note, at=clock.now())
    return checklist


def ensure_default_checklists(*, by=None) -> list[ChecklistTemplate]:
    """The default checklists (defaults.py) of the categories that exist and have none yet, in the installation's
    language (the demo and management commands run with translations off)."""
    from django.conf import settings

    created = []
    with translation.override(settings.LANGUAGE_CODE):
        for category in DeviceCategory.objects.filter(code__in=list(DEFAULT_CHECKLISTS)).order_by("pk"):
            if ChecklistTemplate.objects.filter(category=category).exists():
                continue
            name, rows = DEFAULT_CHECKLISTS[category.code]
            items = [ItemSpec(kind, _(label), _(unit) if unit and unit != "%" else unit, low, high, evidence)
                     for kind, label, unit, low, high, evidence in rows]
            created.append(create_checklist(by=by, category=category, name=_(name), items=items,
                                            note=_("Default checklist")))
    return created


# ------------------------------------------------------------------------------------------------ plans (INS-1)

def eligible_engineer(user, branch_id) -> bool:
    return bool(user.is_active and not user.customer_id and user.branch_id == branch_id and user.has_perm(DO_ROUNDS))


def _check_plan(plan: InspectionPlan, *, checklists, engineers, devices) -> None:
    today = clock.today()
    if not (plan.name or "").strip():
        raise DomainError(_("Name the plan."), field="name")
    for field in ("starts_on", "ends_on"):
        value = getattr(plan, field)
        if value is not None and not is_plausible(value):
            raise DomainError(implausible_message(), field=field)
    if plan.ends_on is not None and plan.ends_on < plan.starts_on:
        raise DomainError(_("The plan cannot end before it starts."), field="ends_on")
    try:
        schedule.check_anchor(cadence=plan.cadence, anchor_day=plan.anchor_day, anchor_month=plan.anchor_month)
    except ValueError:
        field = "anchor_day" if not 1 <= (plan.anchor_day or 0) <= 31 else "anchor_month"
        message = (_("The day of the month is 1 to 31.") if field == "anchor_day"
                   else _("The month of the quarter is 0, 1 or 2 (monthly plans: 0)."))
        raise DomainError(message, field=field) from None
    if not checklists:
        raise DomainError(_("Choose at least one checklist."), field="checklists")
    categories = {}
    for checklist in checklists:
        if not checklist.is_active or checklist.current_id is None:
            raise DomainError(_("The checklist “%(name)s” is not in use.") % {"name": checklist.name}, field="checklists")
        if checklist.category_id in categories:
            raise DomainError(_("Choose one checklist per device category."), field="checklists")
        categories[checklist.category_id] = checklist
    if not engineers:
        raise DomainError(_("Assign at least one engineer."), field="engineers")
    for engineer in engineers:
        if not eligible_engineer(engineer, plan.branch_id):
            raise DomainError(_("%(name)s is not an engineer of the project's branch.") % {"name": engineer},
                              field="engineers")
    if plan.selection == DeviceSelection.CHOSEN:
        if not devices:
            raise DomainError(_("Choose the devices to inspect."), field="devices")
        for device in devices:
            if device.project_id != plan.project_id:
                raise DomainError(_("%(name)s is not a device of the project.") % {"name": device.name}, field="devices")
            if device.category_id not in categories:
                raise DomainError(_("%(name)s has no checklist in this plan (its category).") % {"name": device.name},
                                  field="devices")
    if plan.ends_on is not None and plan.ends_on < today and plan.pk is None:
        raise DomainError(_("This plan would have ended already."), field="ends_on")


def _set_relations(plan, *, checklists, engineers, devices) -> None:
    plan.checklists.set(checklists)
    plan.engineers.set(engineers)
    plan.devices.set(devices if plan.selection == DeviceSelection.CHOSEN else [])


@transaction.atomic
def create_plan(*, by, project, name: str, cadence: str, starts_on: date, checklists, engineers,
                anchor_day: int | None = None, anchor_month: int | None = None, ends_on: date | None = None,
                selection: str = DeviceSelection.CATEGORIES, devices=(), needs_approval: bool = False,
                horizon_days: int = 90, today: date | None = None) -> InspectionPlan:
    """INS-1: a project's plan; its rounds for the horizon are generated at once. The anchor defaults to the first
    day: a plan starting on 31 January is due on the last day of every month (monthly), or in the first month of
    every quarter (quarterly, starting in January, April, July or October)."""
    checklists, engineers, devices = list(checklists), list(engineers), list(devices)
    if anchor_day is None:
        anchor_day = starts_on.day if starts_on else None
    if anchor_month is None:
        anchor_month = schedule.quarter_month_of(starts_on) if cadence == schedule.QUARTERLY and starts_on else 0
    if not 7 <= int(horizon_days) <= 400:
        raise DomainError(_("Generate 7 to 400 days ahead."), field="horizon_days")
    plan = InspectionPlan(project=project, customer_id=project.customer_id, branch_id=project.branch_id,
                          name=(name or "").strip(), cadence=cadence, starts_on=starts_on, ends_on=ends_on,
                          anchor_day=anchor_day or 0, anchor_month=anchor_month, selection=selection,
                          needs_approval=needs_approval, horizon_days=horizon_days, created_by=_actor(by))
    _check_plan(plan, checklists=checklists, engineers=engineers, devices=devices)
    plan.save(force_insert=True)
    _set_relations(plan, checklists=checklists, engineers=engineers, devices=devices)
    generate_rounds(plan=plan, today=today)
    return plan


PLAN_FIELDS = ("name", "cadence", "starts_on", "ends_on", "anchor_day", "anchor_month", "selection", "needs_approval",
               "horizon_days", "is_active")


@transaction.atomic
def update_plan(*, plan: InspectionPlan, by, version: int, checklists=None, engineers=None, devices=None,
                today: date | None = None, **changes) -> InspectionPlan:
    """INS-1: change a plan. Only its future rounds that have not started are regenerated (moved, reassigned,
    removed when their period left the plan, added for new periods); rounds started, done or missed stay."""
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
    claim_version(plan, version)
    for field, value in changes.items():
        setattr(plan, field, value.strip() if isinstance(value, str) and field == "name" else value)
    if "cadence" in changes and plan.cadence == schedule.MONTHLY:
        plan.anchor_month = 0
    if not 7 <= int(plan.horizon_days) <= 400:
        raise DomainError(_("Generate 7 to 400 days ahead."), field="horizon_days")
    checklists = list(plan.checklists.all()) if checklists is None else list(checklists)
    engineers = list(plan.engineers.all()) if engineers is None else list(engineers)
    devices = list(plan.devices.all()) if devices is None else list(devices)
    _check_plan(plan, checklists=checklists, engineers=engineers, devices=devices)
    plan.save()
    _set_relations(plan, checklists=checklists, engineers=engineers, devices=devices)
    regenerate(plan=plan, by=by, today=today)
    return plan


def _wanted_periods(plan, today: date) -> list[schedule.Period]:
    if not plan.is_active:
        return []
    return schedule.periods(cadence=plan.cadence, anchor_day=plan.anchor_day, anchor_month=plan.anchor_month,
                            starts_on=plan.starts_on, ends_on=plan.ends_on, open_on=today,
                            due_until=today + timedelta(days=plan.horizon_days))


def _engineer_for(engineers: list, period: schedule.Period, cadence: str):
    """The plan's engineers take the rounds in turn, by period (the same period always goes to the same one)."""
    if not engineers:
        return None
    index = (period.start.year * 12 + period.start.month - 1) // schedule.MONTHS_PER_PERIOD[cadence]
    return engineers[index % len(engineers)]


def _initial_state(needs_approval: bool) -> str:
    return RoundState.AWAITING_APPROVAL if needs_approval else RoundState.SCHEDULED


def generate_rounds(*, plan: InspectionPlan, today: date | None = None) -> list[InspectionRound]:
    """INS-1: the plan's rounds for its horizon, once per period. The plan's row lock orders a generator after a plan
    edit (it never writes a round from the plan as it was); the unique key (plan, period) is what makes a round
    exactly once, whatever runs at the same time."""
    today = today or clock.today()
    now = clock.now()
    with transaction.atomic():
        plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
        wanted = _wanted_periods(plan, today)
        if not wanted:
            return []
        existing = set(plan.rounds.filter(period_start__in=[p.start for p in wanted])
                       .values_list("period_start", flat=True))
        engineers = list(plan.engineers.filter(is_active=True).order_by("pk"))
        created = []
        for period in wanted:
            if period.start in existing:
                continue
            round_ = InspectionRound(plan=plan, project_id=plan.project_id, customer_id=plan.customer_id,
                                     branch_id=plan.branch_id, period_start=period.start, window_end=period.end,
                                     due_on=period.due_on, state=_initial_state(plan.needs_approval),
                                     engineer=_engineer_for(engineers, period, plan.cadence),
                                     needs_approval=plan.needs_approval)
            try:
                with transaction.atomic():
                    round_.save(force_insert=True)
            except IntegrityError:
                if plan.rounds.filter(period_start=period.start).exists():
                    continue  # another generator wrote it first
                raise
            record(round_, EventKind.GENERATED, actor=None, at=now, to_state=round_.state,
                   due_on=period.due_on.isoformat())
            created.append(round_)
        return created


def regenerate(*, plan: InspectionPlan, by=None, today: date | None = None) -> dict:
    """After a plan edit (in its transaction, the plan locked): future rounds not started follow the plan."""
    today = today or clock.today()
    now = clock.now()
    wanted = {period.start: period for period in _wanted_periods(plan, today)}
    engineers = list(plan.engineers.filter(is_active=True).order_by("pk"))
    moved = removed = 0
    for round_ in (plan.rounds.select_for_update().filter(state__in=UNSTARTED_STATES, due_on__gte=today)
                   .order_by("period_start")):
        period = wanted.get(round_.period_start)
        if period is None:
            round_.delete()  # a forecast that no longer exists: nothing was recorded on it
            removed += 1
            continue
        engineer = _engineer_for(engineers, period, plan.cadence)
        before = (round_.due_on, round_.window_end, round_.engineer_id, round_.needs_approval)
        after = (period.due_on, period.end, engineer.pk if engineer else None, plan.needs_approval)
        if before == after:
            continue
        round_.due_on, round_.window_end, round_.engineer, round_.needs_approval = (
            period.due_on, period.end, engineer, plan.needs_approval)
        if before[0] != after[0] and round_.approved_at is not None:
            round_.approved_at, round_.approved_by = None, None  # the customer approved another day
        from_state = round_.state
        if round_.approval_pending:
            round_.state = RoundState.AWAITING_APPROVAL
        elif round_.state == RoundState.AWAITING_APPROVAL:
            round_.state = RoundState.SCHEDULED
        round_.version += 1
        round_.save()
        record(round_, EventKind.RESCHEDULED, actor=_actor(by), at=now, from_state=from_state, to_state=round_.state,
               due_on=period.due_on.isoformat(), engineer=engineer.pk if engineer else None)
        moved += 1
    created = generate_rounds(plan=plan, today=today)
    return {"moved": moved, "removed": removed, "created": len(created)}


def generate_all(*, today: date | None = None) -> int:
    """The worker's run: every active plan's rounds for its horizon (each plan its own transaction)."""
    created = 0
    for plan in InspectionPlan.objects.filter(is_active=True).order_by("pk").only("pk"):
        created += len(generate_rounds(plan=plan, today=today))
    return created


# ------------------------------------------------------------------------------------------------ rounds

def lock_round(round_) -> InspectionRound:
    return InspectionRound.objects.select_for_update().select_related("plan").get(pk=round_.pk)


def _begin(round_, version, name) -> InspectionRound:
    round_ = lock_round(round_)
    claim_version(round_, version)
    transitions.check(name, round_)
    return round_


def _move(round_, name, *, by, at, note="", extra_fields=(), **data) -> RoundEvent:
    before, round_.state = round_.state, transitions.TRANSITIONS[name].target
    round_.save(update_fields=["state", "updated_at", *extra_fields])
    return record(round_, name, actor=_actor(by), at=at, note=note, from_state=before, to_state=round_.state, **data)


def _own(round_, by) -> None:
    if by is None or round_.engineer_id != by.pk:
        raise NotAssigned(_("Only the engineer assigned to this round records it."))


@transaction.atomic
def record_approval(*, round, at: datetime | None = None, by=None, note: str = "") -> InspectionRound:
    """The seam of the approval gate (INS-2, built separately): the customer approved the round's window. The gate
    calls this once the customer has answered; until then, or an override, the round cannot start."""
    now = clock.now()
    round_ = lock_round(round)
    transitions.check("approve", round_)
    round_.approved_at, round_.approved_by = at or now, _actor(by)
    round_.version += 1
    _move(round_, "approve", by=by, at=now, note=note, extra_fields=["approved_at", "approved_by", "version"])
    return round_


@transaction.atomic
def override_approval(*, round, by, version: int, reason: str) -> InspectionRound:
    """A manager lets a round needing approval start without it; the reason is kept and the round is listed as
    overridden in the completion figures."""
    reason = _required(reason, "reason", _("Say why the round starts without the customer's approval."))
    now = clock.now()
    round_ = _begin(round, version, "override_approval")
    round_.override_reason, round_.overridden_at, round_.overridden_by = reason, now, _actor(by)
    _move(round_, "override_approval", by=by, at=now, note=reason,
          extra_fields=["override_reason", "overridden_at", "overridden_by", "version"])
    return round_


def devices_to_check(plan) -> list[tuple[Device, int]]:
    """The plan's devices now, each with the current version of its category's checklist in the plan."""
    versions = {c.category_id: c.current_id for c in plan.checklists.filter(is_active=True, current__isnull=False)}
    devices = (plan.devices.all() if plan.selection == DeviceSelection.CHOSEN
               else Device.objects.filter(project_id=plan.project_id)).filter(IN_SERVICE)  # not a replaced unit
    devices = devices.filter(category_id__in=list(versions)).order_by("category__name", "location", "name", "pk")
    return [(device, versions[device.category_id]) for device in devices]


@transaction.atomic
def start_round(*, round, by, version: int, started_at: datetime | None = None) -> InspectionRound:
    """The round's engineer starts it inside its window (the phone's time). The devices and the checklist version of
    each are fixed now: a checklist revised later does not change this round."""
    now = clock.now()
    started_at = phone_time(started_at, now=now, field="started_at")
    round_ = _begin(round, version, "start")
    if round_.approval_pending:  # INS-2: the state says so already; the gate holds whatever state a bug leaves
        raise IllegalTransition(_("This round waits for the customer's approval: it starts once approved, or "
                                  "once a manager overrides the approval with a reason."))
    _own(round_, by)
    day = _local_day(started_at)
    if day < round_.period_start:
        raise DomainError(_("This round's window opens on %(day)s.") % {"day": round_.period_start.isoformat()},
                          field="started_at")
    if day > round_.window_end:
        raise DomainError(_("This round's window ended on %(day)s.") % {"day": round_.window_end.isoformat()},
                          field="started_at")
    devices = devices_to_check(round_.plan)
    if not devices:
        raise DomainError(_("The plan has no device to inspect: add devices or checklists to the plan first."))
    # INS-4: the devices with findings in the plan's previous round are checked first (their items are re-checks)
    flagged = {device_id for device_id, _label in selectors.rechecks(round_)}
    devices.sort(key=lambda pair: pair[0].pk not in flagged)  # stable: the usual order otherwise
    DeviceCheck.objects.bulk_create([DeviceCheck(round=round_, device=device, checklist_id=checklist, position=n)
                                     for n, (device, checklist) in enumerate(devices, start=1)])
    round_.started_at, round_.started_received_at = started_at, now
    _move(round_, "start", by=by, at=now, extra_fields=["started_at", "started_received_at", "version"],
          started_at=started_at.isoformat(), devices=len(devices))
    return round_


def _evidence(item: ChecklistItem, *, passed, reading, photo) -> None:
    """Failed items and items that require evidence need a photo, or a reading on an item that is not itself one."""
    failed = item.kind == ItemKind.PASS_FAIL and passed is False
    if not (failed or item.evidence_required or item.kind == ItemKind.PHOTO):
        return
    if photo:
        return
    if item.kind not in (ItemKind.READING, ItemKind.PHOTO) and reading is not None:
        return
    if item.kind == ItemKind.PHOTO:
        message = _("“%(item)s” is answered with a photo.")
    elif failed:
        message = _("“%(item)s” failed: send a photo as evidence.")
    else:
        message = _("“%(item)s” needs evidence: send a photo.")
    raise MissingEvidence(message % {"item": item.label}, field="photo")


def _value(item: ChecklistItem, *, passed, reading, text) -> bool:
    """Check the answer has what its item asks; returns whether it is a finding."""
    if item.kind == ItemKind.PASS_FAIL:
        if passed is None:
            raise DomainError(_("“%(item)s”: say whether it passed.") % {"item": item.label}, field="passed")
        return passed is False
    if item.kind == ItemKind.READING:
        if reading is None:
            raise DomainError(_("“%(item)s”: give the reading.") % {"item": item.label}, field="reading")
        return item.out_of_range(reading)
    if item.kind == ItemKind.TEXT and not (text or "").strip():
        raise DomainError(_("“%(item)s”: write the answer.") % {"item": item.label}, field="text")
    return False


def _same_target(answer: Answer, round_id, device_id, item_id) -> bool:
    return (answer.round_id, answer.device_check.device_id, answer.item_id) == (round_id, device_id, item_id)


@transaction.atomic
def record_answer(*, round, by, device, item, client_id: uuid.UUID, answered_at: datetime | None = None,
                  passed: bool | None = None, reading: Decimal | None = None, text: str = "", note: str = "",
                  photo=None, latitude=None, longitude=None, accuracy_m=None) -> tuple[Answer, bool]:
    """One answer of a round's engineer to one item of one device, sent with the phone's id and time. Returns the
    answer and whether it was written now: the same `client_id` sent again returns the stored answer and writes
    nothing. A reading out of its range is stored and flagged as a finding; a missing photo or reading that the item
    requires is refused, naming the field. Of two answers to the same item, the later on the phone is current."""
    device_id, item_id = getattr(device, "pk", device), getattr(item, "pk", item)
    stored = Answer.objects.select_related("device_check").filter(client_id=client_id).first()
    if stored is not None:
        if not _same_target(stored, round.pk, device_id, item_id):
            raise Conflict(_("This client id belongs to another answer."), field="client_id")
        return stored, False
    now = clock.now()
    answered_at = phone_time(answered_at, now=now, field="answered_at")
    check_position(latitude, longitude, accuracy_m)
    round_ = lock_round(round)  # one writer per round: the current answer of an item is decided in order
    stored = Answer.objects.select_related("device_check").filter(client_id=client_id).first()
    if stored is not None:  # sent twice at once: the other request stored it while this one waited for the lock
        if not _same_target(stored, round_.pk, device_id, item_id):
            raise Conflict(_("This client id belongs to another answer."), field="client_id")
        return stored, False
    _own(round_, by)
    late_sync = round_.state == RoundState.MISSED and round_.started_at is not None \
        and answered_at < _day_end(round_.window_end)
    if round_.state != RoundState.IN_PROGRESS and not late_sync:
        raise IllegalTransition(_("Answers are recorded on a round in progress."))
    check = DeviceCheck.objects.filter(round=round_, device_id=device_id).first()
    if check is None:
        raise DomainError(_("This device is not part of the round."), field="device")
    item_obj = ChecklistItem.objects.filter(pk=item_id, version_id=check.checklist_id).first()
    if item_obj is None:
        raise DomainError(_("This item is not on the device's checklist."), field="item")
    finding = _value(item_obj, passed=passed, reading=reading, text=text)
    _evidence(item_obj, passed=passed, reading=reading, photo=photo)
    photo_type = check_photo(photo) if photo else ""
    current = Answer.objects.filter(device_check=check, item=item_obj, is_current=True).first()
    is_current = current is None or current.answered_at <= answered_at
    answer = Answer(client_id=client_id, round=round_, device_check=check, item=item_obj, passed=passed,
                    reading=reading, text=(text or "").strip(), note=(note or "").strip(), finding=finding,
                    answered_at=answered_at, received_at=now, latitude=latitude, longitude=longitude,
                    accuracy_m=accuracy_m, by=by, is_current=is_current,
                    photo_type=photo_type, photo_size=photo.size if photo else None)
    if photo:
        answer.photo = photo
    try:
        if is_current and current is not None:
            Answer.objects.filter(pk=current.pk).update(is_current=False)
        answer.save(force_insert=True)
        if check.checked_at is None or check.checked_at <= answered_at:
            check.checked_at, check.received_at = answered_at, now
            if latitude is not None:
                check.latitude, check.longitude, check.accuracy_m = latitude, longitude, accuracy_m
            check.save(update_fields=["checked_at", "received_at", "latitude", "longitude", "accuracy_m"])
        if is_current:  # INS-4: a finding is kept, its customer told at once (findings.py)
            from .findings import after_answer

            after_answer(round_=round_, check=check, item=item_obj, answer=answer, by=by)
    except BaseException:
        delete_stored(answer.photo)
        raise
    return answer, True


def missing_answers(round_) -> list[tuple[DeviceCheck, int]]:
    """The devices of a started round not fully answered (and not skipped), with how many items are missing."""
    checks = list(round_.checks.select_related("device").order_by("position"))
    sizes = dict(ChecklistItem.objects.filter(version_id__in={c.checklist_id for c in checks})
                 .values("version_id").annotate(n=Count("pk"))
                 .values_list("version_id", "n"))
    answered = {}
    for check_id in Answer.objects.filter(round=round_, is_current=True).values_list("device_check_id", flat=True):
        answered[check_id] = answered.get(check_id, 0) + 1
    return [(check, sizes.get(check.checklist_id, 0) - answered.get(check.pk, 0)) for check in checks
            if not check.skipped_reason and answered.get(check.pk, 0) < sizes.get(check.checklist_id, 0)]


@transaction.atomic
def skip_device(*, round, by, device, reason: str) -> DeviceCheck:
    """The engineer could not check a device (locked room, powered off): the reason is kept instead of answers."""
    reason = _required(reason, "reason", _("Say why the device was not checked."))
    round_ = lock_round(round)
    _own(round_, by)
    if round_.state != RoundState.IN_PROGRESS:
        raise IllegalTransition(_("Answers are recorded on a round in progress."))
    check = DeviceCheck.objects.filter(round=round_, device=device).first()
    if check is None:
        raise DomainError(_("This device is not part of the round."), field="device")
    check.skipped_reason = reason
    check.save(update_fields=["skipped_reason"])
    record(round_, EventKind.SKIP_DEVICE, actor=_actor(by), at=clock.now(), note=reason, device=check.device_id)
    return check


@transaction.atomic
def complete_round(*, round, by, version: int, completed_at: datetime | None = None, summary: str = "") -> InspectionRound:
    """The engineer completes the round (the phone's time of completion; the receipt time is kept). Every device is
    answered in full or skipped with a reason: a partly done round is not a done round. A round the worker marked
    missed can still be completed when the phone completed it inside its window and synced late."""
    now = clock.now()
    completed_at = phone_time(completed_at, now=now, field="completed_at")
    round_ = _begin(round, version, "complete")
    _own(round_, by)
    if completed_at < round_.started_at:
        raise DomainError(_("A round cannot be completed before it started."), field="completed_at")
    if round_.state == RoundState.MISSED and completed_at >= _day_end(round_.window_end):
        raise IllegalTransition(_("This round's window ended on %(day)s: it stays missed.")
                                % {"day": round_.window_end.isoformat()})
    missing = missing_answers(round_)
    if missing:
        check, n = missing[0]
        raise Incomplete(_("%(devices)s device(s) still have unanswered items, first %(device)s (%(n)s missing): answer "
                           "them or record why a device was not checked.")
                         % {"devices": len(missing), "device": check.device.name, "n": n})
    round_.completed_at, round_.completed_received_at = completed_at, now
    round_.summary = (summary or "").strip()
    findings = Answer.objects.filter(round=round_, is_current=True, finding=True).count()
    _move(round_, "complete", by=by, at=now, note=round_.summary,
          extra_fields=["completed_at", "completed_received_at", "summary", "version"],
          completed_at=completed_at.isoformat(), findings=findings)
    return round_


def mark_missed_rounds(*, today: date | None = None, limit: int = 500) -> list[int]:
    """The worker: rounds still pending after their window become missed (each its own transaction, a conditional
    update, so two workers never mark one twice). They stay listed; a manager records why."""
    today = today or clock.today()
    now = clock.now()
    ids = list(InspectionRound.objects.filter(state__in=PENDING_STATES, window_end__lt=today)
               .order_by("window_end", "pk").values_list("pk", flat=True)[:limit])
    marked = []
    for pk in ids:
        with transaction.atomic():
            round_ = (InspectionRound.objects.select_for_update()
                      .filter(pk=pk, state__in=PENDING_STATES, window_end__lt=today).first())
            if round_ is None:
                continue
            before = round_.state
            round_.state, round_.missed_at, round_.version = RoundState.MISSED, now, round_.version + 1
            round_.save(update_fields=["state", "missed_at", "version", "updated_at"])
            record(round_, EventKind.MARK_MISSED, actor=None, at=now, from_state=before, to_state=round_.state)
            marked.append(pk)
    return marked


@transaction.atomic
def explain_missed(*, round, by, version: int, reason: str) -> InspectionRound:
    """A manager records why a round was missed (it stays missed and listed)."""
    reason = _required(reason, "reason", _("Say why the round was missed."))
    round_ = lock_round(round)
    claim_version(round_, version)
    if round_.state != RoundState.MISSED:
        raise IllegalTransition(_("Only a missed round has a reason for being missed."))
    round_.missed_reason, round_.missed_reason_by = reason, _actor(by)
    round_.save(update_fields=["missed_reason", "missed_reason_by", "version", "updated_at"])
    record(round_, EventKind.EXPLAIN_MISSED, actor=_actor(by), at=clock.now(), note=reason)
    return round_


@transaction.atomic
def reassign_round(*, round, by, version: int, engineer) -> InspectionRound:
    """Give a round not done yet to another engineer of the branch."""
    round_ = lock_round(round)
    claim_version(round_, version)
    if round_.state not in PENDING_STATES:
        raise IllegalTransition(_("Only a round not done yet can change its engineer."))
    if engineer is None or not eligible_engineer(engineer, round_.branch_id):
        raise DomainError(_("Choose an engineer of the project's branch."), field="engineer")
    before = round_.engineer_id
    round_.engineer = engineer
    round_.save(update_fields=["engineer", "version", "updated_at"])
    record(round_, EventKind.REASSIGN, actor=_actor(by), at=clock.now(), previous=before, engineer=engineer.pk)
    return round_
