"""LOG-3, LOG-4 (issue 25 §4-§5): the verbs on hidden-danger reports and proposals, the only writers of those rows.

Each verb is one transaction: it locks the row, compares the version the user saw (a stale one is a 409 with nothing
written), checks the state (anything else is a 409 naming the state), writes and, where someone must hear of it, an
outbox row: the customer's contacts when a report or a proposal is sent (with the signed link), our staff when the
customer answers. Keyword-only arguments, the actor passed in, the clock read once."""

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.versioning import claim_version
from aftersales.notify import services as notify

from .models import (
    AnsweredVia,
    FollowUpStep,
    HazardReport,
    HazardState,
    Proposal,
    ProposalKind,
    ProposalOption,
    ProposalState,
    Risk,
    StepState,
)

LABELS = "ABCDEFGH"
NAME_MAX = 100


# ------------------------------------------------------------------------------------------------ building blocks

def _text(value, field, message=None, *, required=True, max_length=None) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(message or _("This field is required."), field=field)
    if max_length and len(value) > max_length:
        raise DomainError(_("At most %(n)s characters.") % {"n": max_length}, field=field)
    return value


def _user(by):
    return by if by is not None and by.is_authenticated else None


def customer_contacts(row) -> list:
    """Every active contact of the row's customer hears of a report or a proposal sent to them."""
    return list(get_user_model().objects.filter(customer_id=row.customer_id, is_active=True).order_by("pk"))


def staff_of(row) -> list:
    """Who hears the customer's answer: the author and whoever sent it."""
    people = {}
    for user in (row.author, row.sent_by):
        if user is not None and user.is_active:
            people.setdefault(user.pk, user)
    return list(people.values())


def _answerer(row, by, via, name):
    """The written answer's who and how: `via` portal (a logged-in contact of the row's customer) or link (the
    contact if logged in, else nobody), and the name they typed."""
    if via not in AnsweredVia.values:
        raise DomainError(_("Say how the answer was given."), field="via")
    name = _text(name, "name", _("Type your name to sign."), max_length=NAME_MAX)
    user = _user(by)
    if user is not None and user.customer_id not in (None, row.customer_id):
        raise DomainError(_("Only the customer it was sent to can answer it."))
    if via == AnsweredVia.PORTAL and (user is None or user.customer_id != row.customer_id):
        raise DomainError(_("Only a contact of the customer answers in the portal."))
    return (user if user is not None and user.customer_id == row.customer_id else None), name


def _same_project(obj, project, field, message):
    if obj is not None and obj.project_id != project.pk:
        raise DomainError(message, field=field)


def _state_error(message, state_label) -> IllegalTransition:
    return IllegalTransition(message + " " + _("It is “%(state)s”.") % {"state": state_label})


# ------------------------------------------------------------------------------------------------ hazard reports

def _hazard_fields(project, *, title, description, risk, found_where="", consequence="", recommendation="",
                   devices=(), service_request=None, inspection_round=None) -> dict:
    title = _text(title, "title", _("Give the report a title."), max_length=200)
    description = _text(description, "description", _("Describe the problem or hidden danger."))
    if risk not in Risk.values:
        raise DomainError(_("Choose the risk level."), field="risk")
    devices = list(dict.fromkeys(devices or ()))
    if any(device.project_id != project.pk for device in devices):
        raise DomainError(_("Choose devices of the report's project."), field="devices")
    _same_project(service_request, project, "service_request", _("Choose a request of the report's project."))
    _same_project(inspection_round, project, "inspection_round",
                  _("Choose an inspection round of the report's project."))
    return {"title": title, "description": description, "risk": risk,
            "found_where": _text(found_where, "found_where", required=False, max_length=300),
            "consequence": _text(consequence, "consequence", required=False),
            "recommendation": _text(recommendation, "recommendation", required=False),
            "service_request": service_request, "inspection_round": inspection_round, "devices": devices}


@transaction.atomic
def create_hazard_report(*, by, project, **fields) -> HazardReport:
    """A draft report of a project; the customer sees it once it is sent."""
    fields = _hazard_fields(project, **fields)
    devices = fields.pop("devices")
    report = HazardReport.objects.create(project=project, customer_id=project.customer_id,
                                         branch_id=project.branch_id, author=by, **fields)
    report.devices.set(devices)
    return report


def lock_report(report, version) -> HazardReport:
    report = HazardReport.objects.select_for_update(of=("self",)).select_related("project", "author", "sent_by").get(pk=report.pk)
    claim_version(report, version)
    return report


@transaction.atomic
def edit_hazard_report(*, report, by, version: int, **fields) -> HazardReport:
    """Change a draft, or revise a rejected report before sending it again. A report awaiting confirmation or
    confirmed cannot change."""
    report = lock_report(report, version)
    if not report.editable:
        raise _state_error(_("Only a draft or a rejected report can be changed."), report.get_state_display())
    fields = _hazard_fields(report.project, **fields)
    devices = fields.pop("devices")
    for name, value in fields.items():
        setattr(report, name, value)
    report.save(update_fields=[*fields, "updated_at"])
    report.devices.set(devices)
    return report


@transaction.atomic
def send_hazard_report(*, report, by, version: int) -> HazardReport:
    """Send a draft (or a revised rejected report) to the customer for written confirmation: the customer's contacts
    are mailed the signed link."""
    from .links import hazard_url

    report = lock_report(report, version)
    if not report.editable:
        raise _state_error(_("Only a draft or a rejected report can be sent."), report.get_state_display())
    now = clock.now()
    report.state, report.sent_at, report.sent_by = HazardState.AWAITING, now, by
    report.times_sent += 1
    report.answered_at, report.answered_by, report.answered_name, report.answered_via = None, None, "", ""
    report.save(update_fields=["state", "sent_at", "sent_by", "times_sent", "answered_at", "answered_by",
                               "answered_name", "answered_via", "updated_at"])
    notify.enqueue(event="hazard_report_sent", about=report, recipients=customer_contacts(report),
                   subject=_("Please confirm the hidden-danger report “%(title)s”") % {"title": report.title},
                   body=_("%(project)s · %(number)s, risk: %(risk)s. Please read it and confirm in writing.")
                   % {"project": report.project.name, "number": report.number, "risk": report.get_risk_display()},
                   url=hazard_url(report), dedupe_key=f"hazard-sent-{report.pk}-v{report.version}")
    return report


def _answer_hazard(report, version, via, name, by, *, state, reason=""):
    report = lock_report(report, version)
    user, name = _answerer(report, by, via, name)
    if report.state != HazardState.AWAITING:
        raise _state_error(_("Only a report awaiting confirmation can be answered."), report.get_state_display())
    now = clock.now()
    report.state, report.answered_at, report.answered_by = state, now, user
    report.answered_name, report.answered_via, report.reject_reason = name, via, reason
    report.save(update_fields=["state", "answered_at", "answered_by", "answered_name", "answered_via",
                               "reject_reason", "updated_at"])
    confirmed = state == HazardState.CONFIRMED
    subject = (_("%(number)s: %(name)s confirmed the hidden-danger report") if confirmed
               else _("%(number)s: %(name)s rejected the hidden-danger report"))
    notify.enqueue(event="hazard_report_answered", about=report, recipients=staff_of(report),
                   subject=subject % {"number": report.number, "name": name}, body=reason or report.title,
                   dedupe_key=f"hazard-answered-{report.pk}-v{report.version}")
    return report


@transaction.atomic
def confirm_hazard_report(*, report, version: int, via: str, name: str, by=None) -> HazardReport:
    """LOG-3: the customer confirms the report in writing (portal or mailed link, with their typed name). Final."""
    return _answer_hazard(report, version, via, name, by, state=HazardState.CONFIRMED)


@transaction.atomic
def reject_hazard_report(*, report, version: int, via: str, name: str, reason: str, by=None) -> HazardReport:
    """The customer does not agree with the report and says why; we revise it and send it again."""
    reason = _text(reason, "reason", _("Say why you reject the report."))
    return _answer_hazard(report, version, via, name, by, state=HazardState.REJECTED, reason=reason)


# ------------------------------------------------------------------------------------------------ proposals

def _proposal_fields(project, *, kind, title, background="", hazard_report=None, service_request=None) -> dict:
    if kind not in ProposalKind.values:
        raise DomainError(_("Choose the kind of proposal."), field="kind")
    _same_project(hazard_report, project, "hazard_report", _("Choose a report of the proposal's project."))
    _same_project(service_request, project, "service_request", _("Choose a request of the proposal's project."))
    return {"kind": kind, "title": _text(title, "title", _("Give the proposal a title."), max_length=200),
            "background": _text(background, "background", required=False),
            "hazard_report": hazard_report, "service_request": service_request}


@transaction.atomic
def create_proposal(*, by, project, **fields) -> Proposal:
    """A draft proposal of a project; options are added before it is sent."""
    return Proposal.objects.create(project=project, customer_id=project.customer_id, branch_id=project.branch_id,
                                   author=by, **_proposal_fields(project, **fields))


def lock_proposal(proposal, version) -> Proposal:
    proposal = (Proposal.objects.select_for_update(of=("self",)).select_related("project", "author", "sent_by")
                .get(pk=proposal.pk))
    claim_version(proposal, version)
    return proposal


def _require(proposal, *states, message):
    if proposal.state not in states:
        raise _state_error(message, proposal.get_state_display())


@transaction.atomic
def edit_proposal(*, proposal, by, version: int, **fields) -> Proposal:
    proposal = lock_proposal(proposal, version)
    _require(proposal, ProposalState.DRAFT, message=_("Only a draft proposal can be changed."))
    fields = _proposal_fields(proposal.project, **fields)
    for name, value in fields.items():
        setattr(proposal, name, value)
    proposal.save(update_fields=[*fields, "updated_at"])
    return proposal


@transaction.atomic
def add_option(*, proposal, by, version: int, title: str, description: str = "", cost=Decimal(0),
               duration: str = "", impact: str = "") -> ProposalOption:
    """One more option (labelled A, B, C … in order) of a draft proposal."""
    title = _text(title, "title", _("Give the option a title."), max_length=200)
    if cost is None or Decimal(cost) < 0:
        raise DomainError(_("The cost cannot be negative (0 for a free option)."), field="cost")
    proposal = lock_proposal(proposal, version)
    _require(proposal, ProposalState.DRAFT, message=_("Options are changed while the proposal is a draft."))
    used = set(proposal.options.values_list("label", flat=True))
    free = [label for label in LABELS if label not in used]
    if not free:
        raise DomainError(_("At most %(n)s options.") % {"n": len(LABELS)}, field="title")
    return ProposalOption.objects.create(
        proposal=proposal, label=free[0], title=title, description=_text(description, "description", required=False),
        cost=Decimal(cost), duration=_text(duration, "duration", required=False, max_length=100),
        impact=_text(impact, "impact", required=False))


@transaction.atomic
def remove_option(*, proposal, by, version: int, option) -> Proposal:
    proposal = lock_proposal(proposal, version)
    _require(proposal, ProposalState.DRAFT, message=_("Options are changed while the proposal is a draft."))
    if not ProposalOption.objects.filter(pk=getattr(option, "pk", option), proposal=proposal).delete()[0]:
        raise DomainError(_("Not an option of this proposal."), field="option")
    return proposal


@transaction.atomic
def send_proposal(*, proposal, by, version: int) -> Proposal:
    """Send the proposal to the customer: its options are frozen from now on; the customer's contacts are mailed the
    signed link to choose one."""
    from .links import proposal_url

    proposal = lock_proposal(proposal, version)
    _require(proposal, ProposalState.DRAFT, message=_("Only a draft proposal can be sent."))
    options = proposal.options.count()
    if not options:
        raise DomainError(_("Add at least one option before sending."))
    now = clock.now()
    proposal.state, proposal.sent_at, proposal.sent_by = ProposalState.SENT, now, by
    proposal.save(update_fields=["state", "sent_at", "sent_by", "updated_at"])
    notify.enqueue(event="proposal_sent", about=proposal, recipients=customer_contacts(proposal),
                   subject=_("Please choose: %(title)s") % {"title": proposal.title},
                   body=_("%(project)s · %(number)s (%(kind)s): %(n)s options. Please choose one and confirm in "
                          "writing.") % {"project": proposal.project.name, "number": proposal.number,
                                         "kind": proposal.get_kind_display(), "n": options},
                   url=proposal_url(proposal), dedupe_key=f"proposal-sent-{proposal.pk}")
    return proposal


def _tell_staff(proposal, subject, body):
    notify.enqueue(event="proposal_answered", about=proposal, recipients=staff_of(proposal), subject=subject,
                   body=body, dedupe_key=f"proposal-answered-{proposal.pk}")


@transaction.atomic
def choose_option(*, proposal, version: int, option, via: str, name: str, by=None) -> Proposal:
    """LOG-3/LOG-4: the customer chooses exactly one option of a sent proposal and confirms in writing."""
    proposal = lock_proposal(proposal, version)
    user, name = _answerer(proposal, by, via, name)
    _require(proposal, ProposalState.SENT, message=_("Only a proposal awaiting the customer's choice can be answered."))
    option = ProposalOption.objects.filter(pk=getattr(option, "pk", option), proposal=proposal).first()
    if option is None:
        raise DomainError(_("Choose one of the proposal's options."), field="option")
    now = clock.now()
    proposal.state, proposal.chosen_option, proposal.answered_at, proposal.answered_by = (
        ProposalState.CHOSEN, option, now, user)
    proposal.answered_name, proposal.answered_via = name, via
    proposal.save(update_fields=["state", "chosen_option", "answered_at", "answered_by", "answered_name",
                                 "answered_via", "updated_at"])
    _tell_staff(proposal, _("%(number)s: %(name)s chose option %(label)s") % {
        "number": proposal.number, "name": name, "label": option.label}, str(option))
    return proposal


@transaction.atomic
def decline_proposal(*, proposal, version: int, via: str, name: str, reason: str, by=None) -> Proposal:
    """The customer takes none of the options, and says why."""
    reason = _text(reason, "reason", _("Say why you decline the proposal."))
    proposal = lock_proposal(proposal, version)
    user, name = _answerer(proposal, by, via, name)
    _require(proposal, ProposalState.SENT, message=_("Only a proposal awaiting the customer's choice can be answered."))
    now = clock.now()
    proposal.state, proposal.answered_at, proposal.answered_by = ProposalState.DECLINED, now, user
    proposal.answered_name, proposal.answered_via, proposal.decline_reason = name, via, reason
    proposal.save(update_fields=["state", "answered_at", "answered_by", "answered_name", "answered_via",
                                 "decline_reason", "updated_at"])
    _tell_staff(proposal, _("%(number)s: %(name)s declined the proposal") % {"number": proposal.number, "name": name},
                reason)
    return proposal


# ------------------------------------------------------------------------------------------------ follow-up

@transaction.atomic
def add_step(*, proposal, by, version: int, title: str, planned_on: date | None = None, note: str = "") -> FollowUpStep:
    """One more step of carrying out the chosen option."""
    title = _text(title, "title", _("Name the step."), max_length=200)
    proposal = lock_proposal(proposal, version)
    _require(proposal, ProposalState.CHOSEN, message=_("Follow-up is recorded once the customer has chosen."))
    position = (proposal.steps.aggregate(top=Max("position"))["top"] or 0) + 1
    return FollowUpStep.objects.create(proposal=proposal, position=position, title=title, planned_on=planned_on,
                                       note=_text(note, "note", required=False), updated_by=_user(by),
                                       updated_at=clock.now())


@transaction.atomic
def update_step(*, step, by, version: int, state: str, note: str = "", on: date | None = None) -> FollowUpStep:
    """Move a step on (planned → in progress → done, or back), with a note; `on` is the day it started or was done
    (today by default). When every step is done the proposal is done."""
    if state not in StepState.values:
        raise DomainError(_("Choose the step's state."), field="state")
    proposal = lock_proposal(step.proposal, version)
    _require(proposal, ProposalState.CHOSEN, message=_("Follow-up is recorded once the customer has chosen."))
    step = FollowUpStep.objects.select_for_update().filter(pk=step.pk, proposal=proposal).first()
    if step is None:
        raise DomainError(_("Not a step of this proposal."), field="step")
    today = clock.today()
    on = on or today
    if on > today:
        raise DomainError(_("The date cannot be in the future."), field="on")
    step.state = state
    if state == StepState.IN_PROGRESS:
        step.started_on, step.done_on = step.started_on or on, None
    elif state == StepState.DONE:
        step.started_on, step.done_on = step.started_on or on, on
    else:
        step.started_on = step.done_on = None
    note = _text(note, "note", required=False)
    if note:
        step.note = note
    step.updated_by, step.updated_at = _user(by), clock.now()
    step.save()
    if not proposal.steps.exclude(state=StepState.DONE).exists():
        proposal.state, proposal.done_at = ProposalState.DONE, clock.now()
        proposal.save(update_fields=["state", "done_at", "updated_at"])
    return step
