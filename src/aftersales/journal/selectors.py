"""LOG-1 reads: the entries a user may see (the customer history lists them, issue 25 §1), a month of one author's
days, and the team's day for a manager. Every read goes through `visible()`; a customer's user gets only the
entries marked visible to the customer. Time spent is summed in SQL."""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from aftersales.core.scoping import (
    BRANCH,
    EVERYTHING,
    is_staff_member,
    scope_of,
    visible,
)

from .models import DailyLog, LogEntry

WRITE = "journal.add_dailylog"
TEAM = "journal.view_team_logs"


def visible_entries(user) -> QuerySet[LogEntry]:
    """Exactly the log entries `user` may see: staff their scope's; a customer's user their customer's entries marked
    visible to the customer."""
    queryset = visible(LogEntry.objects.all(), user)
    if not is_staff_member(user):
        queryset = queryset.filter(visible_to_customer=True)
    return queryset.select_related("project__customer", "author").order_by("-day", "pk")


def visible_logs(user) -> QuerySet[DailyLog]:
    """The days a user may open: their own, and with the team permission their scope's. Customers: none."""
    if not is_staff_member(user):
        return DailyLog.objects.none()
    own = Q(author_id=user.pk)
    if user.has_perm(TEAM):
        return DailyLog.objects.filter(own | Q(pk__in=visible(DailyLog.objects.all(), user).values("pk")))
    return DailyLog.objects.filter(own)


def month_range(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def month_of(user, month: date) -> dict[date, dict]:
    """`user`'s days in the month: {day: {"log": id, "submitted": bool, "minutes": n, "entries": n}} (one query)."""
    first, following = month_range(month)
    rows = (DailyLog.objects.filter(author_id=user.pk, day__gte=first, day__lt=following)
            .annotate(minutes=Coalesce(Sum("entries__minutes"), 0), entry_count=Count("entries"))
            .values("pk", "day", "submitted_at", "minutes", "entry_count"))
    return {row["day"]: {"log": row["pk"], "submitted": row["submitted_at"] is not None, "minutes": row["minutes"],
                         "entries": row["entry_count"]} for row in rows}


def day_page(log: DailyLog) -> list[LogEntry]:
    """The entries of a day with their project, customer, requests and rounds (three queries)."""
    return list(log.entries.select_related("project__customer")
                .prefetch_related("requests", "rounds__plan").order_by("pk"))


def team_people(user, day: date, branch_id: int | None = None) -> QuerySet:
    """Who is expected to write a log of `day` in the manager's scope: active staff holding the permission to write
    one, except the managers themselves (who appear when they wrote that day)."""
    scope = scope_of(user)

    def holding(codename):
        return (Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label="journal")
                | Q(user_permissions__codename=codename, user_permissions__content_type__app_label="journal"))

    users = get_user_model().objects.filter(is_active=True, customer__isnull=True, branch__isnull=False)
    managers = users.filter(holding("view_team_logs")).values("pk")
    wrote = DailyLog.objects.filter(day=day).values("author_id")
    people = users.filter(pk__in=users.filter(holding("add_dailylog")).values("pk")).filter(
        ~Q(pk__in=managers) | Q(pk__in=wrote))
    if scope.kind == BRANCH:
        people = people.filter(branch_id__in=scope.ids)
    elif scope.kind != EVERYTHING:
        return people.none()
    if branch_id:
        people = people.filter(branch_id=branch_id)
    return people


def team_day(user, day: date, branch_id: int | None = None) -> list:
    """One row per person of the team for `day`: their log (if written), its entries and minutes (SQL sums). Two
    queries: the people with their day's log id, state and minutes as subqueries; then the entries of those logs."""
    logs = DailyLog.objects.filter(author_id=OuterRef("pk"), day=day)
    minutes = (LogEntry.objects.filter(author_id=OuterRef("pk"), day=day).order_by().values("author_id")
               .annotate(total=Sum("minutes")).values("total"))
    people = list(team_people(user, day, branch_id).annotate(
        log_id=Subquery(logs.values("pk")[:1]),
        log_submitted_at=Subquery(logs.values("submitted_at")[:1]),
        log_corrected_at=Subquery(logs.values("corrected_at")[:1]),
        minutes=Coalesce(Subquery(minutes, output_field=IntegerField()), Value(0)),
    ).select_related("branch").order_by("branch_id", "full_name", "username"))
    log_ids = [person.log_id for person in people if person.log_id]
    entries: dict[int, list] = {}
    if log_ids:
        for entry in (LogEntry.objects.filter(log_id__in=log_ids).select_related("project__customer")
                      .order_by("log_id", "pk")):
            entries.setdefault(entry.log_id, []).append(entry)
    for person in people:
        person.day_entries = entries.get(person.log_id, [])
    return people


def customer_month(user, month: date) -> list[LogEntry]:
    """A customer's user's view: the visible entries of their customer in a month, newest day first."""
    first, following = month_range(month)
    return list(visible_entries(user).filter(day__gte=first, day__lt=following)
                .prefetch_related("requests").order_by("-day", "pk"))
