"""Reads of plans, rounds, checklists and completion; every read of customer data goes through `visible()` (SEC-1)
and, for engineers, narrows to the rounds assigned to them. Each owns its joins and its order."""

from collections import defaultdict
from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth

from aftersales.core.scoping import visible

from .models import (
    PENDING_STATES,
    Answer,
    ChecklistItem,
    ChecklistTemplate,
    DeviceCheck,
    Finding,
    FindingState,
    InspectionPlan,
    InspectionRound,
    RoundEvent,
    RoundState,
)

DO, OVERSEE = "inspections.do_rounds", "inspections.oversee_rounds"


def only_assigned(user) -> bool:
    """An engineer (who does rounds but does not oversee them) sees the rounds assigned to them only."""
    return bool(user.is_authenticated and not user.customer_id and user.has_perm(DO) and not user.has_perm(OVERSEE))


def rounds_for(user) -> QuerySet:
    rounds = visible(InspectionRound.objects.all(), user)
    if only_assigned(user):
        rounds = rounds.filter(engineer=user)
    return rounds


def round_list(user) -> QuerySet:
    return rounds_for(user).select_related("plan", "project", "customer", "engineer")


def plans_for(user) -> QuerySet:
    return visible(InspectionPlan.objects.select_related("project", "customer"), user)


def checklists() -> QuerySet:
    """Checklists are the company's own working rules, shared by every branch: staff read them all."""
    return ChecklistTemplate.objects.select_related("category", "current")


def round_page(user, pk) -> InspectionRound:
    """One round with everything its page shows: the devices, their checklist items, the current answers, the
    events (a fixed number of queries whatever the round's size)."""
    return _with_sheet(round_list(user)).get(pk=pk)


def round_page_unscoped(pk) -> InspectionRound:
    """round_page for a caller that has its own key to the round (INS-5: the report's signed link)."""
    return _with_sheet(InspectionRound.objects.select_related("plan", "project", "customer", "engineer")).get(pk=pk)


def _with_sheet(rounds) -> QuerySet:
    return rounds.select_related("approved_by", "overridden_by", "missed_reason_by").prefetch_related(
        Prefetch("checks", queryset=DeviceCheck.objects.select_related("device__category", "checklist__template")
                 .prefetch_related(Prefetch("checklist__items", queryset=ChecklistItem.objects.order_by("position")))
                 .order_by("position")),
        Prefetch("answers", queryset=Answer.objects.filter(is_current=True).select_related("by"), to_attr="current_answers"),
        Prefetch("events", queryset=RoundEvent.objects.select_related("actor").order_by("at", "pk")),
    )


def sheet(round_) -> list[dict]:
    """The round page's rows: each device with its items and their current answers (from round_page's prefetch), and
    the items to re-check (INS-4: flagged in the plan's previous round; their devices come first once started)."""
    answers = {(a.device_check_id, a.item_id): a for a in round_.current_answers}
    flagged = rechecks(round_)
    rows = []
    for check in round_.checks.all():
        items = [(item, answers.get((check.pk, item.pk))) for item in check.checklist.items.all()]
        rows.append({"check": check, "items": items, "answered": sum(1 for _i, a in items if a),
                     "findings": sum(1 for _i, a in items if a and a.finding),
                     "recheck_items": {item.pk for item, _a in items if (check.device_id, item.label) in flagged}})
    return rows


def previous_round(round_) -> InspectionRound | None:
    """The plan's latest round before this one that was started (done, or missed after it started)."""
    return (InspectionRound.objects.filter(plan_id=round_.plan_id, period_start__lt=round_.period_start,
                                           started_at__isnull=False)
            .order_by("-period_start").only("pk", "period_start").first())


def rechecks(round_) -> set[tuple[int, str]]:
    """INS-4: (device, item label) of the findings of the plan's previous round that were not dismissed: this round
    checks them again first. Labels, not item ids, so a checklist revised since still matches its items."""
    previous = previous_round(round_)
    if previous is None:
        return set()
    return set(Finding.objects.filter(round_id=previous.pk).exclude(state=FindingState.DISMISSED)
               .values_list("device_id", "item__label"))


def findings_of(round_) -> list[Finding]:
    """A round's findings with what became of them (device, item, answer, request, repair case joined)."""
    return list(Finding.objects.filter(round_id=round_.pk)
                .select_related("device", "item", "answer", "service_request", "repair_case", "handled_by",
                                "device_check")
                .order_by("device_check__position", "item__position", "pk"))


def history_of(device, user=None, *, limit: int = 24) -> list[DeviceCheck]:
    """The device's inspection history, newest first: each check with its round and its current answers (findings
    first). `user` scopes it (None: the caller has scoped the device already)."""
    rounds = InspectionRound.objects.all() if user is None else rounds_for(user)
    return list(DeviceCheck.objects.filter(device=device, round__in=rounds)
                .select_related("round__plan", "round__engineer", "checklist__template")
                .prefetch_related(Prefetch("answers", queryset=Answer.objects.filter(is_current=True)
                                           .select_related("item").order_by("-finding", "item__position"),
                                           to_attr="current_answers"))
                .order_by("-round__due_on", "-pk")[:limit])


def completion(user, *, year: int, month: int | None = None, project=None) -> list[dict]:
    """INS-1 / RPT-1: per project and month (the month a round is due, Asia/Shanghai dates): rounds due, done,
    missed, still open, and overridden, counted by the database; the missed and overridden rounds named."""
    rounds = rounds_for(user).filter(due_on__year=year)
    if month:
        rounds = rounds.filter(due_on__month=month)
    if project is not None:
        rounds = rounds.filter(project=project)
    rows = list(rounds.annotate(month=TruncMonth("due_on")).values("project_id", "project__name", "customer__name",
                                                                     "month")
                .annotate(due=Count("pk"), done=Count("pk", filter=Q(state=RoundState.DONE)),
                          missed=Count("pk", filter=Q(state=RoundState.MISSED)),
                          open=Count("pk", filter=Q(state__in=PENDING_STATES)),
                          overridden=Count("pk", filter=Q(overridden_at__isnull=False)))
                .order_by("month", "project__name", "project_id"))
    named = defaultdict(lambda: {"missed_rounds": [], "overridden_rounds": []})
    for round_ in (rounds.filter(Q(state=RoundState.MISSED) | Q(overridden_at__isnull=False))
                   .select_related("plan", "engineer").order_by("due_on", "pk")):
        key = (round_.project_id, date(round_.due_on.year, round_.due_on.month, 1))
        if round_.state == RoundState.MISSED:
            named[key]["missed_rounds"].append(round_)
        if round_.overridden_at is not None:
            named[key]["overridden_rounds"].append(round_)
    for row in rows:
        month_start = row["month"] if isinstance(row["month"], date) else row["month"].date()
        row["month"] = month_start
        row["rate"] = round(100 * row["done"] / row["due"]) if row["due"] else None
        row.update(named.get((row["project_id"], month_start), {"missed_rounds": [], "overridden_rounds": []}))
    return rows
