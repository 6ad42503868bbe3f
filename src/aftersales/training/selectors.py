"""Reads of trainings and handover checklists; every one goes through the scoping door (core.scoping.visible)."""

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.customers.models import Project

from .models import Attendee, HandoverItem, SessionState, TrainingLog, TrainingSession


def sessions_unscoped() -> QuerySet[TrainingSession]:
    """The list's rows before scoping: one query for a page whatever its length (project and customer joined, the
    attendees counted as columns)."""
    return (TrainingSession.objects.select_related("project", "customer")
            .annotate(invited=Count("attendees"), present=Count("attendees", filter=Q(attendees__attended=True))))


def sessions(user) -> QuerySet[TrainingSession]:
    return visible(sessions_unscoped(), user)


def sessions_of_project(project, user) -> QuerySet[TrainingSession]:
    return visible(TrainingSession.objects.filter(project=project), user).order_by("-starts_at", "-pk")


def session_page(user, pk) -> TrainingSession:
    """One session with everything its page shows, scoped: another customer's is a 404."""
    queryset = (TrainingSession.objects.select_related("project__customer", "planned_by", "held_recorded_by")
                .annotate(invited=Count("attendees"), present=Count("attendees", filter=Q(attendees__attended=True)))
                .prefetch_related("trainers", Prefetch("attendees", queryset=Attendee.objects.order_by("pk")),
                                  "materials"))
    session = get_visible_or_404(queryset, user, pk=pk)
    session.feedback_row = feedback_of(session)
    return session


def feedback_of(session):
    try:
        return session.feedback
    except TrainingSession.feedback.RelatedObjectDoesNotExist:
        return None


def session_log(session) -> list[TrainingLog]:
    return list(TrainingLog.objects.filter(session=session).select_related("actor").order_by("at", "pk"))


@dataclass(frozen=True)
class HandoverStatus:
    """TRN-2: how far a project's handover is. `independent` (独立运行) only when there is a checklist and every item
    of it is demonstrated."""

    total: int
    done: int

    @property
    def independent(self) -> bool:
        return self.total > 0 and self.done == self.total

    @property
    def started(self) -> bool:
        return self.total > 0


def handover_status(project) -> HandoverStatus:
    counts = HandoverItem.objects.filter(project=project).aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(demonstrated_on__isnull=False)))
    return HandoverStatus(counts["total"], counts["done"])


def handover_items(project) -> list[HandoverItem]:
    return list(HandoverItem.objects.filter(project=project).select_related("session", "recorded_by")
                .order_by("position", "pk"))


def handover_projects_unscoped() -> QuerySet[Project]:
    """Projects with their checklist and signed sessions counted as columns (subqueries: one query for a page)."""
    items = HandoverItem.objects.filter(project=OuterRef("pk")).order_by().values("project")
    signed = (TrainingSession.objects.filter(project=OuterRef("pk"), state=SessionState.SIGNED).order_by()
              .values("project"))
    return Project.objects.select_related("customer").annotate(
        items_total=Coalesce(Subquery(items.annotate(n=Count("pk")).values("n")), 0),
        items_done=Coalesce(Subquery(items.filter(demonstrated_on__isnull=False).annotate(n=Count("pk")).values("n")), 0),
        sessions_signed=Coalesce(Subquery(signed.annotate(n=Count("pk")).values("n")), 0))


def handover_projects(user) -> QuerySet[Project]:
    return visible(handover_projects_unscoped(), user)


def held_sessions_of(project, user) -> QuerySet[TrainingSession]:
    """The sessions an item may be demonstrated in: held ones of the project."""
    return visible(TrainingSession.objects.filter(project=project, state__in=[SessionState.HELD, SessionState.SIGNED]),
                   user).order_by("-starts_at", "-pk")


def project_log(project) -> list[TrainingLog]:
    return list(TrainingLog.objects.filter(project=project, item__isnull=False).select_related("actor", "item")
                .order_by("-at", "-pk")[:50])
