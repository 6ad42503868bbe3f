"""Reads of return visits and surveys: scoped (SEC-1), ordered, with their joins; the survey results are aggregated
by the database, per project and month (Asia/Shanghai months: a survey's `period` is its month's first day)."""

from django.db.models import Avg, Count, Prefetch, Q

from aftersales.core.scoping import visible

from .models import LOW_SATISFACTION, FollowUp, ReturnVisit, Survey, SurveyState, VisitSchedule, VisitState


def visits(user):
    return visible(ReturnVisit.objects.select_related("project", "customer", "owner"), user)


def overdue(queryset, today):
    """Due and not done: planned visits (or open follow-ups) whose day has passed."""
    if queryset.model is FollowUp:
        return queryset.filter(state="open", due_on__lt=today)
    return queryset.filter(state=VisitState.PLANNED, due_on__lt=today)


def visit_page(user, pk) -> ReturnVisit:
    follow_ups = FollowUp.objects.select_related("owner", "done_by").order_by("due_on", "pk")
    return (visits(user).select_related("schedule", "service_request", "done_by", "created_by")
            .prefetch_related(Prefetch("follow_ups", queryset=follow_ups),
                              Prefetch("surveys", queryset=Survey.objects.order_by("-period", "-pk")))
            .get(pk=pk))


def follow_ups(user):
    return visible(FollowUp.objects.select_related("project", "owner", "visit", "survey"), user)


def surveys(user):
    return visible(Survey.objects.select_related("project", "customer", "sent_to", "answered_by"), user)


def schedules(user):
    return visible(VisitSchedule.objects.select_related("project", "customer", "owner"), user)


def survey_results(queryset):
    """Per project and month: surveys made, answered, their average satisfaction, how many were low (at or below
    LOW_SATISFACTION) and how many reported an abnormality — one GROUP BY in the database."""
    answered = Q(state=SurveyState.ANSWERED)
    return (queryset.order_by().values("project_id", "project__name", "project__contract_number", "period")
            .annotate(sent=Count("pk"), answered=Count("pk", filter=answered),
                      average=Avg("satisfaction", filter=answered),
                      low=Count("pk", filter=answered & Q(satisfaction__lte=LOW_SATISFACTION)),
                      abnormal=Count("pk", filter=answered & Q(abnormal=True)))
            .order_by("-period", "project__name", "project_id"))


def monthly_totals(queryset):
    """The same figures per month, over every project the user sees."""
    answered = Q(state=SurveyState.ANSWERED)
    return (queryset.order_by().values("period")
            .annotate(projects=Count("project_id", distinct=True), sent=Count("pk"),
                      answered=Count("pk", filter=answered), average=Avg("satisfaction", filter=answered),
                      low=Count("pk", filter=answered & Q(satisfaction__lte=LOW_SATISFACTION)),
                      abnormal=Count("pk", filter=answered & Q(abnormal=True)))
            .order_by("-period"))
