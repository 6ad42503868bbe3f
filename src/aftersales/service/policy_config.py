"""Issue 21 §6: an SLA policy's own promises, edited on the configuration pages and /api/config/policies/ — its name,
calendar, warning percentage, whether it is the default, and its targets (priority × target kind: minutes, counted
from, on-site only). Administrators only: policies are shared by every branch (config.CHANGE_POLICIES).

Each verb is one transaction: it claims the policy's version (a form opened on an older version is a 409, nothing
written), checks, writes, and is audited by django-auditlog (SlaPolicy and SlaTargetRule are registered, and every
write here is a model save or delete). The policy cache of the SLA clock (clock._policies) is cleared by those saves.

What a change reaches. A request stores each started target with its minutes and due time (Target), so changed
minutes apply to requests opened from now on; open requests keep the targets they were given. (A target that starts
later on an open request — the on-site targets, at the on-site decision — takes the minutes the policy has then, as
it always did.) The calendar and the warning percentage are not stored on the request: its due times are counted on
its policy's calendar whenever they are recomputed (clock.recompute). So a change of either recomputes the open
requests of the policy in the same action, like a changed calendar day does (config.save_day); otherwise their
stored due times would jump at some unrelated later event (a pause, a change of priority).
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from aftersales.core.errors import DomainError, StaleObject
from aftersales.core.versioning import claim_version

from . import clock
from .models import (
    OPEN_STATES,
    Priority,
    ProjectPolicy,
    ServiceRequest,
    SlaPolicy,
    SlaTargetRule,
    TargetKind,
    TargetStart,
    WorkCalendar,
)

MAX_TARGET_MINUTES = 90 * 24 * 60  # a promise beyond 90 days (of service time) is a typing error, not a contract
MAX_NAME_LENGTH = 100
MAX_TARGETS = len(Priority.values) * len(TargetKind.values)

# What each target can be counted from: a reply answers the report; an engineer departs and arrives once on-site
# service is decided (or counted from the report); a resolution from any of the three.
ALLOWED_STARTS = {
    TargetKind.REPLY: (TargetStart.CREATED,),
    TargetKind.DEPARTURE: (TargetStart.CREATED, TargetStart.DISPATCHED),
    TargetKind.ARRIVAL: (TargetStart.CREATED, TargetStart.DISPATCHED),
    TargetKind.RESOLUTION: (TargetStart.CREATED, TargetStart.DISPATCHED, TargetStart.ARRIVED),
}
ALWAYS_ONSITE = (TargetKind.DEPARTURE, TargetKind.ARRIVAL)  # a remote request never departs nor arrives
NEVER_ONSITE = (TargetKind.REPLY,)  # the reply comes before anyone decides to go on site
# (earlier, later) of one priority, counted from the same moment: the first may not promise more time than the second
ORDERED = ((TargetKind.REPLY, TargetKind.RESOLUTION), (TargetKind.DEPARTURE, TargetKind.ARRIVAL))


class TargetRuleError(DomainError):
    """A target the policy cannot promise: names its row (priority, kind) and the part at fault, for the page."""

    def __init__(self, message, *, priority: str, kind: str, part: str = "minutes"):
        super().__init__(message, field="rules")
        self.priority, self.kind, self.part = priority, kind, part


class PolicyInUse(DomainError):
    """A policy that cannot be deleted: the default, or one that projects or requests use."""

    status = 409
    code = "in_use"


@dataclass(frozen=True)
class TargetSpec:
    priority: str
    kind: str
    minutes: int
    starts: str = TargetStart.CREATED
    onsite_only: bool = False


def duration_words(minutes: int | None) -> str:
    """Minutes as hours and minutes, '1 h 30 min', '72 h' — not days: the minutes are service time on the policy's
    calendar, and a day of office hours is not 24 hours."""
    if not isinstance(minutes, int) or minutes < 0:
        return ""
    hours, rest = divmod(minutes, 60)
    parts = ([f"{hours} {pgettext('duration', 'h')}"] if hours else []) + (
        [f"{rest} {pgettext('duration', 'min')}"] if rest or not hours else [])
    return " ".join(parts)


def _labels(priority: str, kind: str) -> dict:
    return {"priority": Priority(priority).label, "target": TargetKind(kind).label}


def check_targets(specs) -> list[TargetSpec]:
    """The targets of one policy, checked: each plausible and counted from a moment it can be, at most one per priority
    and kind, and within a priority the earlier promise not longer than the later one (ORDERED). Returns them in
    priority and kind order."""
    by_row: dict[tuple[str, str], TargetSpec] = {}
    for spec in specs:
        if spec.priority not in Priority.values:
            raise DomainError(_("Choose one of the priorities."), field="rules")
        if spec.kind not in TargetKind.values:
            raise DomainError(_("Choose one of the targets: reply, departure, arrival or resolution."), field="rules")
        labels = _labels(spec.priority, spec.kind)
        row = {"priority": spec.priority, "kind": spec.kind}
        if (spec.priority, spec.kind) in by_row:
            message = _("{priority} · {target}: a policy has one target of each kind per priority.")
            raise TargetRuleError(message.format(**labels), **row)
        if (not isinstance(spec.minutes, int) or isinstance(spec.minutes, bool)
                or not 1 <= spec.minutes <= MAX_TARGET_MINUTES):
            raise TargetRuleError(_("{priority} · {target}: from 1 to {max} minutes (90 days).").format(
                max=MAX_TARGET_MINUTES, **labels), **row)
        if spec.starts not in ALLOWED_STARTS[spec.kind]:
            if spec.starts not in TargetStart.values:
                message = _("{priority} · {target}: choose when the target is counted from.")
            elif spec.kind == TargetKind.REPLY:
                message = _("{priority} · {target}: a reply is counted from when the request is opened.")
            else:
                message = _("{priority} · {target}: an engineer's departure and arrival are counted from when the "
                            "request is opened or when on-site service is decided, not from the arrival itself.")
            raise TargetRuleError(message.format(**labels), part="starts", **row)
        if spec.kind in ALWAYS_ONSITE and not spec.onsite_only:
            message = _("{priority} · {target}: an engineer departs and arrives only for on-site service, so this "
                        "target is for on-site service only (else every remote request would miss it).")
            raise TargetRuleError(message.format(**labels), part="onsite_only", **row)
        if spec.kind in NEVER_ONSITE and spec.onsite_only:
            raise TargetRuleError(_("{priority} · {target}: the reply comes before on-site service is decided, so it "
                                    "cannot be for on-site service only.").format(**labels), part="onsite_only", **row)
        by_row[(spec.priority, spec.kind)] = spec
    for priority in Priority.values:
        for earlier, later in ORDERED:
            first, second = by_row.get((priority, earlier)), by_row.get((priority, later))
            if first and second and first.starts == second.starts and first.minutes > second.minutes:
                raise TargetRuleError(_(
                    "{priority}: the target “{later}” ({later_minutes} min) is shorter than “{earlier}” "
                    "({earlier_minutes} min), counted from the same moment. The later step cannot be promised sooner "
                    "than the earlier one: lengthen “{later}” or shorten “{earlier}”.").format(
                    priority=Priority(priority).label, earlier=TargetKind(earlier).label,
                    later=TargetKind(later).label, earlier_minutes=first.minutes, later_minutes=second.minutes),
                    priority=priority, kind=later)
    order = {(p, k): n for n, (p, k) in enumerate((p, k) for p in Priority.values for k in TargetKind.values)}
    return sorted(by_row.values(), key=lambda spec: order[(spec.priority, spec.kind)])


def targets_of(policy: SlaPolicy) -> list[TargetSpec]:
    return [TargetSpec(rule.priority, rule.kind, rule.minutes, rule.starts, rule.onsite_only)
            for rule in SlaTargetRule.objects.filter(policy=policy).order_by("pk")]


def _check_name(name, policy: SlaPolicy | None) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise DomainError(_("Give the policy a name."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise DomainError(_("At most {n} characters.").format(n=MAX_NAME_LENGTH), field="name")
    clash = SlaPolicy.objects.filter(name=name)
    if policy is not None:
        clash = clash.exclude(pk=policy.pk)
    if clash.exists():
        raise DomainError(_("A policy named “{name}” exists already: choose another name.").format(name=name),
                          field="name")
    return name


def _check_warning(percent) -> int:
    if not isinstance(percent, int) or isinstance(percent, bool) or not 1 <= percent <= 99:
        raise DomainError(_("The warning comes at 1 to 99 percent of a target's time."), field="warn_at_percent")
    return percent


def _check_calendar(calendar) -> WorkCalendar:
    if not isinstance(calendar, WorkCalendar) or calendar.pk is None:
        raise DomainError(_("Choose a service calendar."), field="calendar")
    return calendar


def _save(policy: SlaPolicy) -> None:
    """Save, with a clash on the name (the same name saved at the same moment) as the form's sentence."""
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        if SlaPolicy.objects.filter(name=policy.name).exclude(pk=policy.pk).exists():
            raise DomainError(_("A policy named “{name}” exists already: choose another name.").format(
                name=policy.name), field="name") from None
        raise StaleObject(_("Another policy was made the default at the same moment. Reload the page and try "
                            "again.")) from None


def _take_over_default(policy: SlaPolicy) -> None:
    """The old default stops being the default, in the caller's transaction (one default at a time: the constraint
    one_default_policy). Its version moves on, so a form open on it is refused."""
    for old in SlaPolicy.objects.select_for_update().filter(is_default=True).exclude(pk=policy.pk):
        old.is_default = False
        old.version += 1
        old.save(update_fields=["is_default", "version", "updated_at"])


def _write_targets(policy: SlaPolicy, targets: list[TargetSpec]) -> bool:
    """Make the policy's targets these: changed rows saved, new ones created, missing ones deleted (each audited).
    Returns whether anything changed."""
    current = {(rule.priority, rule.kind): rule for rule in SlaTargetRule.objects.filter(policy=policy)}
    wanted = {(spec.priority, spec.kind): spec for spec in targets}
    changed = False
    for key, rule in current.items():
        if key not in wanted:
            rule.delete()
            changed = True
    for key, spec in wanted.items():
        rule = current.get(key)
        values = {"minutes": spec.minutes, "starts": spec.starts, "onsite_only": spec.onsite_only}
        if rule is None:
            SlaTargetRule.objects.create(policy=policy, priority=spec.priority, kind=spec.kind, **values)
            changed = True
        elif any(getattr(rule, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(rule, name, value)
            rule.save()
            changed = True
    return changed


def _recompute_open_requests(policy: SlaPolicy) -> int:
    """The open requests of the policy, their due times counted again on its (new) calendar and warning percentage."""
    ids = list(ServiceRequest.objects.filter(policy=policy, state__in=OPEN_STATES).order_by("pk")
               .values_list("pk", flat=True))
    for request_id in ids:
        request = ServiceRequest.objects.select_for_update().select_related("policy__calendar").get(pk=request_id)
        clock.recompute(request)
    return len(ids)


@transaction.atomic
def create_policy(*, name: str, calendar: WorkCalendar, by, warn_at_percent: int = 80, is_default: bool = False,
                  copy_from: SlaPolicy | None = None, targets=None) -> SlaPolicy:
    """A new policy: with the given targets, or a copy of another policy's targets (`copy_from`), or none yet.
    Made the default, it takes over from the old default in the same action."""
    if copy_from is not None and targets is not None:
        raise DomainError(_("Either copy another policy's targets or give the targets, not both."), field="copy_from")
    name = _check_name(name, None)
    calendar = _check_calendar(calendar)
    warn_at_percent = _check_warning(warn_at_percent)
    checked = check_targets(targets_of(copy_from) if copy_from is not None else list(targets or []))
    policy = SlaPolicy(name=name, calendar=calendar, warn_at_percent=warn_at_percent, is_default=bool(is_default))
    if policy.is_default:
        _take_over_default(policy)
    _save(policy)
    _write_targets(policy, checked)
    return policy


@dataclass(frozen=True)
class Saved:
    policy: SlaPolicy
    recomputed: int  # open requests whose due times were counted again (a new calendar or warning percentage)


UNCHANGED = None


@transaction.atomic
def update_policy(*, policy: SlaPolicy, version: int, by, name: str | None = UNCHANGED,
                  calendar: WorkCalendar | None = UNCHANGED, warn_at_percent: int | None = UNCHANGED,
                  is_default: bool | None = UNCHANGED, targets=UNCHANGED) -> Saved:
    """Change what is given (None: unchanged; `targets` replaces the whole set, [] removes every target), if the
    policy is still at `version`. The default policy stays the default until another one is made the default."""
    name = _check_name(name, policy) if name is not UNCHANGED else UNCHANGED
    calendar = _check_calendar(calendar) if calendar is not UNCHANGED else UNCHANGED
    warn_at_percent = _check_warning(warn_at_percent) if warn_at_percent is not UNCHANGED else UNCHANGED
    checked = check_targets(list(targets)) if targets is not UNCHANGED else UNCHANGED
    policy = SlaPolicy.objects.select_for_update().select_related("calendar").get(pk=policy.pk)
    claim_version(policy, version)  # StaleObject (409): someone saved since this form was opened
    if is_default is not UNCHANGED and not is_default and policy.is_default:
        raise DomainError(_("There is always a default policy, for the projects without one of their own: make "
                            "another policy the default instead."), field="is_default")
    clock_moves = ((calendar is not UNCHANGED and calendar.pk != policy.calendar_id)
                   or (warn_at_percent is not UNCHANGED and warn_at_percent != policy.warn_at_percent))
    if is_default and not policy.is_default:
        _take_over_default(policy)
        policy.is_default = True
    if name is not UNCHANGED:
        policy.name = name
    if calendar is not UNCHANGED:
        policy.calendar = calendar
    if warn_at_percent is not UNCHANGED:
        policy.warn_at_percent = warn_at_percent
    _save(policy)
    if checked is not UNCHANGED:
        _write_targets(policy, checked)
    return Saved(policy=policy, recomputed=_recompute_open_requests(policy) if clock_moves else 0)


@dataclass(frozen=True)
class Usage:
    projects: int  # projects whose contract names the policy
    requests: int  # requests opened under it, open or closed
    open_requests: int


def usage(policy: SlaPolicy) -> Usage:
    requests = ServiceRequest.objects.filter(policy=policy)
    return Usage(projects=ProjectPolicy.objects.filter(policy=policy).count(), requests=requests.count(),
                 open_requests=requests.filter(state__in=OPEN_STATES).count())


@transaction.atomic
def delete_policy(*, policy: SlaPolicy, by, version: int | None = None) -> None:
    """Delete a policy nobody uses: not the default, named by no project, and no request opened under it (a request
    keeps its policy for its record). `version` given: refused if the policy changed since."""
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    if version is not None:
        claim_version(policy, version)
    if policy.is_default:
        raise PolicyInUse(_("The default policy cannot be deleted: make another policy the default first."))
    used = usage(policy)
    if used.projects:
        raise PolicyInUse(ngettext(
            "{n} project uses this policy: give it another policy first, then delete this one.",
            "{n} projects use this policy: give them another policy first, then delete this one.",
            used.projects).format(n=used.projects))
    if used.requests:
        raise PolicyInUse(ngettext(
            "{n} request was opened under this policy and keeps it for its record: the policy cannot be deleted.",
            "{n} requests were opened under this policy and keep it for their record: the policy cannot be deleted.",
            used.requests).format(n=used.requests))
    policy.delete()  # its targets with it (CASCADE), each delete audited


# ------------------------------------------------------------------------------------------------ for the page

@dataclass(frozen=True)
class TargetRow:
    priority: str
    priority_label: str
    kind: str
    kind_label: str
    rule: SlaTargetRule | None
    starts: tuple  # the moments it can be counted from
    onsite: str  # "always", "never" or "choice"


def target_rows(policy: SlaPolicy | None) -> list[TargetRow]:
    """Every priority × target kind, with the policy's rule where it has one: the rows of the targets table."""
    rules = {}
    if policy is not None:
        rules = {(rule.priority, rule.kind): rule for rule in SlaTargetRule.objects.filter(policy=policy)}
    return [TargetRow(priority=priority, priority_label=str(Priority(priority).label), kind=kind,
                      kind_label=str(TargetKind(kind).label), rule=rules.get((priority, kind)),
                      starts=ALLOWED_STARTS[kind],
                      onsite="always" if kind in ALWAYS_ONSITE else "never" if kind in NEVER_ONSITE else "choice")
            for priority in Priority.values for kind in TargetKind.values]
