"""VIS-1 and VIS-2 verbs: the only writers of schedules, return visits, follow-ups and surveys.

Each verb is one transaction. A person's change names the version they saw: the row is locked, the version compared
(a stale one is a 409 with nothing written). Keyword-only arguments, the actor passed in, the clock read once;
notifications only through the outbox, in the same transaction."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.plausible import implausible_message, is_plausible
from aftersales.core.scoping import SEE_ALL_BRANCHES
from aftersales.core.versioning import claim_version
from aftersales.notify import services as notify

from . import links, periods
from .models import (
    LOW_SATISFACTION,
    AnsweredVia,
    Cadence,
    FollowUp,
    FollowUpState,
    ReturnVisit,
    Satisfaction,
    Survey,
    SurveyState,
    VisitKind,
    VisitMethod,
    VisitSchedule,
    VisitState,
)

FOLLOW_UP_DAYS = 3  # a survey's follow-up is due this many days after the answer
AFTER_REQUEST_WINDOW = timedelta(days=30)  # the job looks this far back for closed requests
TEXT_MAX = 4000
SCHEDULE_FIELDS = ("cadence", "day_of_month", "month_of_quarter", "method", "owner", "ends_on", "after_requests",
                   "days_after_request", "active")


class Conflict(DomainError):
    """The change conflicts with existing data (a second survey of the month, a second active schedule)."""

    status = 409
    code = "conflict"


@dataclass(frozen=True)
class FollowUpLine:
    """A follow-up action entered with a visit's record."""

    description: str
    owner: object
    due_on: date


# ------------------------------------------------------------------------------------------------ building blocks

def _claim(obj, version) -> None:
    claim_version(obj, version, touch=True)


def _locked(obj):
    return type(obj).objects.select_for_update(of=("self",)).select_related("project").get(pk=obj.pk)


def _text(value, field: str, *, required_message: str | None = None) -> str:
    value = (value or "").strip()
    if required_message and not value:
        raise DomainError(required_message, field=field)
    if len(value) > TEXT_MAX:
        raise DomainError(_("At most %(n)s characters.") % {"n": TEXT_MAX}, field=field)
    return value


def _plausible(value: date | datetime | None, field: str) -> None:
    if value is not None and not is_plausible(value):
        raise DomainError(implausible_message(), field=field)


def _not_future(value: datetime, field: str, now: datetime) -> None:
    _plausible(value, field)
    if value > now + timedelta(minutes=5):  # a phone's clock a little ahead is not an error
        raise DomainError(_("This time cannot be in the future."), field=field)


def _check_owner(owner, project, field: str = "owner") -> None:
    """An owner is an active staff member who sees the project (its branch, or every branch)."""
    if owner is None:
        return
    if not owner.is_active or owner.customer_id is not None:
        raise DomainError(_("Choose a staff member."), field=field)
    if owner.branch_id not in (None, project.branch_id) and not owner.has_perm(SEE_ALL_BRANCHES):
        raise DomainError(_("%(name)s works in another branch and cannot see this project.") % {"name": owner},
                          field=field)


def _scoped(project) -> dict:
    return {"project": project, "customer_id": project.customer_id, "branch_id": project.branch_id}


def _actor(by):
    return by if by is not None and by.is_authenticated else None


def _notify_follow_up(follow_up: FollowUp) -> None:
    notify.enqueue(
        event="follow_up_assigned", about=follow_up,
        subject=_("Follow-up for %(project)s, due %(date)s") % {"project": follow_up.project.name,
                                                                "date": follow_up.due_on.isoformat()},
        body=follow_up.description, dedupe_key=f"visit-follow-up-{follow_up.pk}", recipients=[follow_up.owner])


# ------------------------------------------------------------------------------------------------ schedules

def _check_schedule(values: dict) -> None:
    if "cadence" in values and values["cadence"] not in Cadence.values:
        raise DomainError(_("Choose monthly or quarterly."), field="cadence")
    if "method" in values and values["method"] not in VisitMethod.values:
        raise DomainError(_("Choose how the visit is made."), field="method")
    day = values.get("day_of_month")
    if day is not None and not 1 <= day <= 31:
        raise DomainError(_("Give a day from 1 to 31 (31: the last day of every month)."), field="day_of_month")
    month = values.get("month_of_quarter")
    if month is not None and not 1 <= month <= 3:
        raise DomainError(_("Give the first, second or third month of the quarter."), field="month_of_quarter")
    days = values.get("days_after_request")
    if days is not None and not 0 <= days <= 90:
        raise DomainError(_("Give 0 to 90 days."), field="days_after_request")
    _plausible(values.get("starts_on"), "starts_on")
    _plausible(values.get("ends_on"), "ends_on")


@transaction.atomic
def create_schedule(*, by, project, cadence: str = Cadence.MONTHLY, day_of_month: int = 15, month_of_quarter: int = 1,
                    method: str = VisitMethod.PHONE, owner=None, starts_on: date | None = None,
                    ends_on: date | None = None, after_requests: bool = False,
                    days_after_request: int = 7) -> VisitSchedule:
    """VIS-1: return visits of `project`, monthly or quarterly (每月或季度回访一次). Visits are made from the period
    containing `starts_on` (or today, whichever is later) onwards: the current period's visit at once."""
    today = clock.today()
    starts_on = starts_on or today
    values = {"cadence": cadence, "day_of_month": day_of_month, "month_of_quarter": month_of_quarter,
              "method": method, "starts_on": starts_on, "ends_on": ends_on, "days_after_request": days_after_request}
    _check_schedule(values)
    if ends_on is not None and ends_on < starts_on:
        raise DomainError(_("A schedule cannot end before it starts."), field="ends_on")
    _check_owner(owner, project)
    first = periods.period_start(cadence, max(starts_on, today))
    schedule = VisitSchedule(**_scoped(project), owner=owner, after_requests=after_requests, created_by=_actor(by),
                             generated_until=first - timedelta(days=1), **values)
    try:
        with transaction.atomic():
            schedule.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("This project has an active visit schedule already: change that one."),
                       field="project") from None
    _generate_for(schedule.pk, today)
    schedule.refresh_from_db()
    return schedule


@transaction.atomic
def update_schedule(*, schedule: VisitSchedule, by, version: int, **changes) -> VisitSchedule:
    """Change a schedule's terms, pause it (`active`) or end it (`ends_on`). Visits made already keep their dates;
    the next period's visit follows the new terms."""
    unknown = set(changes) - set(SCHEDULE_FIELDS)
    if unknown:
        raise TypeError(f"update_schedule() cannot change {sorted(unknown)}")
    schedule = _locked(schedule)
    _check_schedule(changes)
    if "owner" in changes:
        _check_owner(changes["owner"], schedule.project)
    ends_on = changes.get("ends_on", schedule.ends_on)
    if ends_on is not None and ends_on < schedule.starts_on:
        raise DomainError(_("A schedule cannot end before it starts."), field="ends_on")
    _claim(schedule, version)
    for name, value in changes.items():
        setattr(schedule, name, value)
    try:
        with transaction.atomic():
            schedule.save(update_fields=[*changes, "updated_at"])
    except IntegrityError:
        raise Conflict(_("This project has an active visit schedule already: change that one."),
                       field="active") from None
    return schedule


def generate_due_visits(*, today: date | None = None, batch: int = 500) -> int:
    """The job: every active schedule whose visits do not reach today gets the visits of its periods up to the one
    containing today (a missed period too: it stays visible as overdue). Exactly one visit per schedule and period,
    however often and on however many workers this runs: the unique key (schedule, period) drops a second insert,
    and `generated_until` only moves forward by compare-and-set. Returns how many schedules were worked on."""
    today = today or clock.today()
    due = list(VisitSchedule.objects.filter(active=True, generated_until__lt=today)
               .order_by("generated_until", "pk").values_list("pk", flat=True)[:batch])
    for schedule_id in due:
        with transaction.atomic():
            _generate_for(schedule_id, today)
    return len(due)


def _generate_for(schedule_id: int, today: date) -> list[date]:
    schedule = VisitSchedule.objects.filter(pk=schedule_id, active=True, generated_until__lt=today).first()
    if schedule is None:
        return []  # done meanwhile by another worker, or paused
    starts = periods.periods_through(schedule.cadence, schedule.generated_until, today)
    rows = []
    for start in starts:
        due = periods.due_on(schedule.cadence, start, day_of_month=schedule.day_of_month,
                             month_of_quarter=schedule.month_of_quarter)
        if due < schedule.starts_on or (schedule.ends_on is not None and due > schedule.ends_on):
            continue
        rows.append(ReturnVisit(project_id=schedule.project_id, customer_id=schedule.customer_id,
                                branch_id=schedule.branch_id, kind=VisitKind.SCHEDULED, schedule=schedule,
                                period_start=start, due_on=due, owner_id=schedule.owner_id, method=schedule.method))
    ReturnVisit.objects.bulk_create(rows, ignore_conflicts=True)
    if starts:
        until = periods.period_end(schedule.cadence, starts[-1])
        VisitSchedule.objects.filter(pk=schedule.pk, generated_until=schedule.generated_until).update(
            generated_until=until)
    return [row.period_start for row in rows]


def generate_after_request_visits(*, now: datetime | None = None) -> int:
    """VIS-1 (issue 23 §7): a return visit after each service request closed in the last 30 days, of the projects
    whose schedule asks for it (and closed after the schedule was made). Once per request: a unique key."""
    from aftersales.service.models import ServiceRequest, State

    now = now or clock.now()
    since = now - AFTER_REQUEST_WINDOW
    schedules = list(VisitSchedule.objects.filter(active=True, after_requests=True).order_by("pk"))
    created = 0
    for schedule in schedules:
        closed = list(ServiceRequest.objects.filter(
            project_id=schedule.project_id, state=State.CLOSED, closed_at__gte=max(since, schedule.created_at))
            .order_by("closed_at", "pk").values_list("pk", "closed_at"))
        rows = [ReturnVisit(project_id=schedule.project_id, customer_id=schedule.customer_id,
                            branch_id=schedule.branch_id, kind=VisitKind.AFTER_REQUEST, service_request_id=pk,
                            due_on=closed_at.astimezone(clock.SHANGHAI).date()
                            + timedelta(days=schedule.days_after_request),
                            owner_id=schedule.owner_id, method=schedule.method)
                for pk, closed_at in closed]
        if rows:
            with transaction.atomic():
                ReturnVisit.objects.bulk_create(rows, ignore_conflicts=True)
            created += len(rows)
    return created


# ------------------------------------------------------------------------------------------------ visits

@transaction.atomic
def plan_visit(*, by, project, due_on: date, owner=None, method: str = VisitMethod.PHONE, purpose: str = "",
               service_request=None) -> ReturnVisit:
    """An unscheduled return visit, or one after a closed service request (once per request)."""
    _plausible(due_on, "due_on")
    if method not in VisitMethod.values:
        raise DomainError(_("Choose how the visit is made."), field="method")
    _check_owner(owner, project)
    if service_request is not None and service_request.project_id != project.pk:
        raise DomainError(_("The service request must be of this project."), field="service_request")
    visit = ReturnVisit(**_scoped(project), kind=VisitKind.AFTER_REQUEST if service_request else VisitKind.AD_HOC,
                        service_request=service_request, due_on=due_on, owner=owner, method=method,
                        purpose=_text(purpose, "purpose"), created_by=_actor(by))
    try:
        with transaction.atomic():
            visit.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("A return visit after this service request exists already."),
                       field="service_request") from None
    return visit


@transaction.atomic
def replan_visit(*, visit: ReturnVisit, by, version: int, due_on: date, owner=None, method: str | None = None,
                 purpose: str | None = None) -> ReturnVisit:
    """Move a planned visit to another day, or give it to someone else."""
    visit = _locked(visit)
    if visit.state != VisitState.PLANNED:
        raise IllegalTransition(_("Only a planned visit can be moved."))
    _plausible(due_on, "due_on")
    _check_owner(owner, visit.project)
    if method is not None and method not in VisitMethod.values:
        raise DomainError(_("Choose how the visit is made."), field="method")
    _claim(visit, version)
    visit.due_on, visit.owner = due_on, owner
    if method is not None:
        visit.method = method
    if purpose is not None:
        visit.purpose = _text(purpose, "purpose")
    visit.save(update_fields=["due_on", "owner", "method", "purpose", "updated_at"])
    return visit


def _check_lines(lines, project) -> list[FollowUpLine]:
    checked = []
    for index, line in enumerate(lines):
        description = _text(line.description, "follow_ups", required_message=_("Describe the follow-up action."))
        if line.owner is None:
            raise DomainError(_("Each follow-up action needs an owner."), field="follow_ups")
        _check_owner(line.owner, project, field="follow_ups")
        if line.due_on is None:
            raise DomainError(_("Each follow-up action needs a due date."), field="follow_ups")
        _plausible(line.due_on, "follow_ups")
        checked.append(FollowUpLine(description, line.owner, line.due_on))
    return checked


@transaction.atomic
def record_visit(*, visit: ReturnVisit, by, version: int, method: str | None = None, visited_at: datetime | None = None,
                 contact_person: str = "", needs: str = "", questions: str = "", answers: str = "",
                 follow_ups=()) -> ReturnVisit:
    """VIS-1: the visit was made: the customer's needs, questions and our answers, and its follow-up actions (each
    with an owner and a due date, tracked to done)."""
    now = clock.now()
    visit = _locked(visit)
    if visit.state != VisitState.PLANNED:
        raise IllegalTransition(_("This visit is %(state)s: only a planned visit can be recorded.")
                                % {"state": visit.get_state_display()})
    visited_at = visited_at or now
    _not_future(visited_at, "visited_at", now)
    if method is not None and method not in VisitMethod.values:
        raise DomainError(_("Choose how the visit is made."), field="method")
    values = {"contact_person": _text(contact_person, "contact_person"), "needs": _text(needs, "needs"),
              "questions": _text(questions, "questions"), "answers": _text(answers, "answers")}
    if len(values["contact_person"]) > 100:
        raise DomainError(_("At most %(n)s characters.") % {"n": 100}, field="contact_person")
    if not any(values[name] for name in ("needs", "questions", "answers")):
        raise DomainError(_("Write down the customer's needs, questions or what was answered."), field="needs")
    lines = _check_lines(follow_ups, visit.project)
    _claim(visit, version)
    visit.state, visit.visited_at, visit.done_by = VisitState.DONE, visited_at, _actor(by)
    if method is not None:
        visit.method = method
    for name, value in values.items():
        setattr(visit, name, value)
    visit.save(update_fields=["state", "visited_at", "done_by", "method", *values, "updated_at"])
    for line in lines:
        _create_follow_up(visit=visit, by=by, description=line.description, owner=line.owner, due_on=line.due_on)
    return visit


@transaction.atomic
def cancel_visit(*, visit: ReturnVisit, by, version: int, reason: str) -> ReturnVisit:
    visit = _locked(visit)
    if visit.state != VisitState.PLANNED:
        raise IllegalTransition(_("Only a planned visit can be cancelled."))
    reason = _text(reason, "reason", required_message=_("Say why the visit is cancelled."))
    _claim(visit, version)
    visit.state, visit.cancel_reason = VisitState.CANCELLED, reason
    visit.save(update_fields=["state", "cancel_reason", "updated_at"])
    return visit


# ------------------------------------------------------------------------------------------------ follow-ups

def _create_follow_up(*, visit=None, survey=None, by, description: str, owner, due_on: date) -> FollowUp:
    about = visit or survey
    follow_up = FollowUp.objects.create(project_id=about.project_id, customer_id=about.customer_id,
                                        branch_id=about.branch_id, visit=visit, survey=survey, description=description,
                                        owner=owner, due_on=due_on, created_by=_actor(by))
    follow_up.project = about.project
    _notify_follow_up(follow_up)
    return follow_up


@transaction.atomic
def add_follow_up(*, visit: ReturnVisit, by, description: str, owner, due_on: date) -> FollowUp:
    """One more follow-up action of a visit (planned or done)."""
    visit = _locked(visit)
    if visit.state == VisitState.CANCELLED:
        raise IllegalTransition(_("This visit was cancelled."))
    line = _check_lines([FollowUpLine(description, owner, due_on)], visit.project)[0]
    return _create_follow_up(visit=visit, by=by, description=line.description, owner=line.owner, due_on=line.due_on)


@transaction.atomic
def complete_follow_up(*, follow_up: FollowUp, by, version: int, resolution: str) -> FollowUp:
    """The follow-up action is done: what was done, by whom, when."""
    follow_up = _locked(follow_up)
    if follow_up.state != FollowUpState.OPEN:
        raise IllegalTransition(_("This follow-up action is done already."))
    resolution = _text(resolution, "resolution", required_message=_("Say what was done."))
    _claim(follow_up, version)
    follow_up.state, follow_up.done_at, follow_up.done_by, follow_up.resolution = (
        FollowUpState.DONE, clock.now(), _actor(by), resolution)
    follow_up.save(update_fields=["state", "done_at", "done_by", "resolution", "updated_at"])
    return follow_up


# ------------------------------------------------------------------------------------------------ surveys

def customer_contacts(project):
    """The contacts of the project's customer a survey can be mailed to (active, with an e-mail address)."""
    from django.contrib.auth import get_user_model

    return (get_user_model().objects.filter(customer_id=project.customer_id, is_active=True)
            .exclude(email="").order_by("pk"))


def _check_recipient(recipient, project):
    if recipient is None:
        recipient = customer_contacts(project).first()
        if recipient is None:
            raise DomainError(_("The customer has no contact with an e-mail address: add one, or fill in the survey "
                                "during a visit."), field="recipient")
    elif recipient.customer_id != project.customer_id or not recipient.is_active or not recipient.email:
        raise DomainError(_("Choose a contact of the project's customer who has an e-mail address."),
                          field="recipient")
    return recipient


def _send_link(survey: Survey, recipient, now: datetime) -> None:
    survey.link_nonce, survey.sent_to, survey.sent_at = links.new_nonce(), recipient, now
    survey.link_expires_at = now + links.VALID_FOR
    url = links.survey_url(survey)
    subject = _("System operation survey: %(project)s, %(month)s") % {
        "project": survey.project_name, "month": survey.period.strftime("%Y-%m")}
    body = _("Dear %(name)s,\n\nplease tell us how the system of %(project)s (contract %(number)s) is running: the "
             "survey takes two minutes and needs no account.\n\n%(url)s\n\nThe link works once, until %(expires)s.") % {
        "name": recipient, "project": survey.project_name, "number": survey.contract_number, "url": url,
        "expires": survey.link_expires_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")}
    # The link is a key: a private e-mail to the contact only (no robot, no in-app copy; blanked once delivered).
    notify.enqueue_private_email(event="survey_invitation", user=recipient, subject=subject, body=body,
                                 dedupe_key=f"survey-link-{survey.pk}-{survey.link_nonce}")
    # The robots hear that a survey went out, without the link.
    notify.enqueue(event="survey_invitation", about=survey, subject=subject,
                   body=_("Survey sent to %(name)s.") % {"name": recipient},
                   dedupe_key=f"survey-sent-{survey.pk}-{survey.link_nonce}")


@transaction.atomic
def create_survey(*, by, project, period: date | None = None, visit: ReturnVisit | None = None, send: bool = True,
                  recipient=None) -> Survey:
    """VIS-2: the month's system operation survey of `project` (one per project and month): mailed as a no-account
    link to the customer's contact (`send`), or left for staff to fill in during a visit."""
    now = clock.now()
    if visit is not None and visit.project_id != project.pk:
        raise DomainError(_("The visit must be of this project."), field="visit")
    if period is None:
        period = visit.due_on if visit is not None else now.astimezone(clock.SHANGHAI).date()
    _plausible(period, "period")
    period = periods.month_start(period)
    if send:
        recipient = _check_recipient(recipient, project)
    survey = Survey(**_scoped(project), period=period, visit=visit, project_name=project.name,
                    contract_number=project.contract_number, created_by=_actor(by))
    try:
        with transaction.atomic():
            survey.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("%(project)s has a survey for %(month)s already.") % {
            "project": project.name, "month": period.strftime("%Y-%m")}, field="period") from None
    if send:
        _send_link(survey, recipient, now)
        survey.save(update_fields=["link_nonce", "sent_to", "sent_at", "link_expires_at"])
    return survey


@transaction.atomic
def resend_survey_link(*, survey: Survey, by, version: int, recipient=None) -> Survey:
    """A new link (the one before stops working: 410), valid from now."""
    survey = _locked(survey)
    if survey.state != SurveyState.PENDING:
        raise IllegalTransition(_("This survey has been answered already."))
    recipient = _check_recipient(recipient or survey.sent_to, survey.project)
    _claim(survey, version)
    _send_link(survey, recipient, clock.now())
    survey.save(update_fields=["link_nonce", "sent_to", "sent_at", "link_expires_at", "updated_at"])
    return survey


def _check_answers(answers: dict, *, now: datetime, via: str) -> dict:
    unknown = set(answers) - set(ANSWERABLE)
    if unknown:
        raise TypeError(f"answer_survey() does not know {sorted(unknown)}")
    values = {name: _text(answers.get(name), name) for name in TEXTS}
    satisfaction = answers.get("satisfaction")
    if satisfaction not in Satisfaction.values:
        raise DomainError(_("Choose how satisfied you are with our service response."), field="satisfaction")
    abnormal = answers.get("abnormal")
    if not isinstance(abnormal, bool):
        raise DomainError(_("Say whether there is any abnormality: yes or no."), field="abnormal")
    if abnormal and not values["abnormal_description"]:
        raise DomainError(_("Describe the abnormality."), field="abnormal_description")
    surveyed_at = answers.get("surveyed_at") if via == AnsweredVia.STAFF else None
    surveyed_at = surveyed_at or now
    _not_future(surveyed_at, "surveyed_at", now)
    return {**values, "satisfaction": satisfaction, "abnormal": abnormal, "surveyed_at": surveyed_at}


TEXTS = ("equipment_usage", "system_operation", "system_stability", "abnormal_description", "remarks")
ANSWERABLE = ("surveyed_at", *TEXTS, "abnormal", "satisfaction")


@transaction.atomic
def answer_survey(*, survey: Survey, by, version: int, via: str = AnsweredVia.STAFF, **answers) -> Survey:
    """VIS-2: the survey's answers (exactly the seed's fields), once. A staff member fills it in during a visit
    (`surveyed_at` as given), the customer's contact answers in the portal or through the link (now). A low
    satisfaction or an abnormality opens exactly one follow-up. The mailed link stops working."""
    now = clock.now()
    survey = _locked(survey)
    if survey.state != SurveyState.PENDING:
        raise IllegalTransition(_("This survey has been answered already."))
    if via not in AnsweredVia.values:
        raise TypeError(f"answer_survey() via {via!r}")
    values = _check_answers(answers, now=now, via=via)
    _claim(survey, version)
    for name, value in values.items():
        setattr(survey, name, value)
    survey.state, survey.answered_at, survey.answered_by, survey.answered_via = (
        SurveyState.ANSWERED, now, _actor(by), via)
    survey.link_nonce = ""  # single use: the link is dead now, whoever answered
    survey.save(update_fields=[*values, "state", "answered_at", "answered_by", "answered_via", "link_nonce",
                               "updated_at"])
    reasons = []
    if survey.satisfaction <= LOW_SATISFACTION:
        reasons.append(_("Low service response satisfaction: %(label)s (%(n)s of 5).") % {
            "label": Satisfaction(survey.satisfaction).label, "n": survey.satisfaction})
    if survey.abnormal:
        reasons.append(_("Abnormality reported: %(text)s") % {"text": survey.abnormal_description})
    if reasons:
        _create_follow_up(survey=survey, by=None, description="\n".join(reasons), owner=_survey_owner(survey),
                          due_on=now.astimezone(clock.SHANGHAI).date() + timedelta(days=FOLLOW_UP_DAYS))
    return survey


def _survey_owner(survey: Survey):
    """Who follows a survey up: the visit's owner, else the project's schedule owner, else who made the survey."""
    if survey.visit_id and survey.visit.owner_id:
        return survey.visit.owner
    schedule = (VisitSchedule.objects.filter(project_id=survey.project_id, active=True, owner__isnull=False)
                .select_related("owner").first())
    if schedule is not None:
        return schedule.owner
    if survey.created_by_id:
        return survey.created_by
    from django.contrib.auth import get_user_model

    from aftersales.accounts.roles import DEPARTMENT_MANAGER

    return (get_user_model().objects.filter(branch_id=survey.branch_id, is_active=True, customer__isnull=True,
                                            groups__name=DEPARTMENT_MANAGER).order_by("pk").first())


def answer_survey_by_link(*, token: str, user, **answers) -> Survey:
    """The no-account link: a tampered token is a 404, an expired one or one already used (or replaced) a 410, one
    opened as another customer's contact a 403. A contact of the customer who is logged in answers as themselves."""
    with transaction.atomic():
        survey = links.survey_for_token(token, user, lock=True)
        by = user if user.is_authenticated and user.customer_id == survey.customer_id else None
        return answer_survey(survey=survey, by=by, version=survey.version, via=AnsweredVia.LINK, **answers)
