"""Issue 23 §10 (and §2's invitations): iCalendar of inspection rounds — one round's invitation (.ics) for its agreed
window, and a feed per user (their own work) or per project, behind an unguessable key the user creates and may
revoke (CalendarToken). A feed answers without a session: the key is the door, and what it shows is what the key's
user may see now (core.scoping.visible, and for an engineer the rounds assigned to them); a revoked or unknown key,
or one of a user no longer active, is a 404. Training sessions and return visits are read through their apps'
models when those apps are installed, under the same scope and the user's permission to view them."""

import secrets
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError
from aftersales.core.scoping import visible
from aftersales.customers.models import Project

from . import approval_selectors, ical, selectors
from .models import CalendarToken, InspectionRound, RoundState

FEED_PAST_DAYS = 60
FEED_AHEAD_DAYS = 400
FEED_LIMIT = 500  # events per kind: a feed is a schedule, not an archive
MAX_ACTIVE_TOKENS = 20
VIEW_ROUND = "inspections.view_inspectionround"
DO, OVERSEE = "inspections.do_rounds", "inspections.oversee_rounds"


def host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "aftersales"


def round_uid(round_) -> str:
    """Stable for the life of the round: a calendar program moves the event it has when the window changes."""
    return f"inspection-round-{round_.pk}@{host()}"


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def round_event(round_, *, devices=None) -> ical.Event:
    window = approval_selectors.window_of(round_)
    summary = _("Inspection %(number)s: %(plan)s") % {"number": round_.number, "plan": round_.plan.name}
    lines = [_("Project: %(project)s") % {"project": round_.project.name},
             _("State: %(state)s") % {"state": round_.get_state_display()}]
    if round_.engineer_id:
        lines.append(_("Engineer: %(name)s") % {"name": round_.engineer.display_name})
    agreed = approval_selectors.agreed_proposal(round_)
    shown = agreed or approval_selectors.open_proposal(round_)
    if shown is not None and shown.scope:
        lines.append(_("Scope of work: %(scope)s") % {"scope": shown.scope})
    if shown is not None and shown.downtime_minutes is not None:
        lines.append(_("Expected downtime: %(minutes)s minutes") % {"minutes": shown.downtime_minutes})
    if devices is not None:
        lines.append(_("Devices (%(n)s): %(names)s") % {"n": len(devices),
                                                         "names": ", ".join(d.name for d in devices[:30])})
    status = "CONFIRMED"
    if round_.state == RoundState.AWAITING_APPROVAL:
        status = "TENTATIVE"
        lines.append(_("Waiting for the customer's approval."))
    if window is not None:
        start, end, sequence = window.starts_at, window.ends_at, window.sequence
        if not window.agreed:
            status = "TENTATIVE"
    else:  # no window agreed: the day the round is due
        start, end, sequence = round_.due_on, round_.due_on + timedelta(days=1), 0
    return ical.Event(uid=round_uid(round_), summary=summary, start=start, end=end, description="\n".join(lines),
                      location=round_.project.name, url=absolute(round_.get_absolute_url()), status=status,
                      sequence=sequence, categories=(_("Inspection"),))


def invitation(round_) -> str:
    """One round's .ics (METHOD:PUBLISH), for the round page and the link in the mails."""
    devices = approval_selectors.devices_for([round_]).get(round_.pk, [])
    return ical.calendar([round_event(round_, devices=devices)], name=str(round_.plan.name), stamp=clock.now(),
                         method="PUBLISH")


# ------------------------------------------------------------------------------------------------ tokens

def active_tokens(user):
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).select_related("project")


@transaction.atomic
def create_token(*, user, project: Project | None = None) -> CalendarToken:
    """A new feed key for `user` (of one project they may see, or of their own work)."""
    if not user.is_authenticated or not user.is_active:
        raise DomainError(_("Log in to create a calendar feed."))
    if project is not None and not visible(Project.objects.filter(pk=project.pk), user).exists():
        raise DomainError(_("Choose a project you may see."), field="project")
    if active_tokens(user).count() >= MAX_ACTIVE_TOKENS:
        raise DomainError(_("You have %(n)s feeds already: revoke one first.") % {"n": MAX_ACTIVE_TOKENS})
    return CalendarToken.objects.create(user=user, project=project, key=secrets.token_urlsafe(32),
                                        created_at=clock.now())


@transaction.atomic
def revoke_token(*, user, token_id: int) -> CalendarToken:
    """The feed's address stops working at once (404); revoking twice changes nothing."""
    token = CalendarToken.objects.select_for_update().filter(pk=token_id, user=user).first()
    if token is None:
        raise DomainError(_("This feed does not exist."), field="token")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
    return token


def feed_url(token: CalendarToken) -> str:
    return absolute(reverse("inspections:calendar_feed", args=[token.key]))


def token_for_key(key: str) -> CalendarToken | None:
    if not key or len(key) > 64:
        return None
    token = CalendarToken.objects.select_related("user", "project").filter(key=key, revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    return token


# ------------------------------------------------------------------------------------------------ feeds

def _own(user) -> bool:
    """A staff user's own feed: what is assigned to them. A customer's: everything of their projects."""
    return not user.customer_id


def feed_rounds(token: CalendarToken, *, today: date):
    user = token.user
    if not user.has_perm(VIEW_ROUND):
        return []
    rounds = selectors.round_list(user).filter(due_on__gte=today - timedelta(days=FEED_PAST_DAYS),
                                               due_on__lte=today + timedelta(days=FEED_AHEAD_DAYS))
    if token.project_id:
        rounds = rounds.filter(project_id=token.project_id)
    elif _own(user):
        rounds = rounds.filter(engineer=user)
    rounds = approval_selectors.with_proposals(rounds.order_by("due_on", "pk"))[:FEED_LIMIT]
    return [round_event(round_) for round_ in rounds]


def _model(label: str, name: str):
    try:
        return apps.get_model(label, name)
    except LookupError:
        return None


def feed_trainings(token: CalendarToken, *, now: datetime) -> list[ical.Event]:
    session_model = _model("training", "TrainingSession")
    user = token.user
    if session_model is None or not user.has_perm("training.view_trainingsession"):
        return []
    sessions = visible(session_model.objects.select_related("project"), user).filter(
        starts_at__gte=now - timedelta(days=FEED_PAST_DAYS), starts_at__lte=now + timedelta(days=FEED_AHEAD_DAYS)
    ).exclude(state="cancelled")
    if token.project_id:
        sessions = sessions.filter(project_id=token.project_id)
    elif _own(user):
        sessions = sessions.filter(trainers=user)
    events = []
    for session in sessions.order_by("starts_at", "pk")[:FEED_LIMIT]:
        url = session.get_absolute_url() if hasattr(session, "get_absolute_url") else ""
        events.append(ical.Event(
            uid=f"training-session-{session.pk}@{host()}",
            summary=_("Training: %(title)s") % {"title": getattr(session, "title", "")},
            start=session.starts_at, end=session.ends_at, location=session.project.name,
            description=_("Project: %(project)s") % {"project": session.project.name},
            url=absolute(url) if url else "", categories=(_("Training"),)))
    return events


def feed_visits(token: CalendarToken, *, today: date) -> list[ical.Event]:
    visit_model = _model("visits", "ReturnVisit")
    user = token.user
    if visit_model is None or not user.has_perm("visits.view_returnvisit"):
        return []
    visits = visible(visit_model.objects.select_related("project"), user).filter(
        due_on__gte=today - timedelta(days=FEED_PAST_DAYS), due_on__lte=today + timedelta(days=FEED_AHEAD_DAYS)
    ).exclude(state="cancelled")
    if token.project_id:
        visits = visits.filter(project_id=token.project_id)
    elif _own(user):
        visits = visits.filter(owner=user)
    events = []
    for visit in visits.order_by("due_on", "pk")[:FEED_LIMIT]:
        url = visit.get_absolute_url() if hasattr(visit, "get_absolute_url") else ""
        events.append(ical.Event(
            uid=f"return-visit-{visit.pk}@{host()}",
            summary=_("Return visit: %(project)s") % {"project": visit.project.name},
            start=visit.due_on, end=visit.due_on + timedelta(days=1), location=visit.project.name,
            description=getattr(visit, "purpose", "") or "", url=absolute(url) if url else "",
            status="CONFIRMED", categories=(_("Return visit"),)))
    return events


def feed(token: CalendarToken) -> str:
    now = clock.now()
    today = clock.today()
    events = [*feed_rounds(token, today=today), *feed_trainings(token, now=now), *feed_visits(token, today=today)]
    name = token.project.name if token.project_id else _("My schedule")
    return ical.calendar(events, name=f"{name} · {_('Aftersales')}", stamp=now)


def feed_label(token: CalendarToken) -> str:
    if token.project_id:
        return token.project.name
    return _("My schedule") if not token.user.customer_id else _("All my projects")


def round_of(user, pk) -> InspectionRound:
    return approval_selectors.with_proposals(selectors.round_list(user)).get(pk=pk)
