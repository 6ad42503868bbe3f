"""One FilterSet per list, for the page and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core import clock
from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.core.plausible import validate_plausible
from aftersales.customers.models import Customer, Project

from .forms import DateInput, MonthInput
from .models import LOW_SATISFACTION, FollowUp, FollowUpState, ReturnVisit, Survey, SurveyState, VisitKind, VisitSchedule, VisitState

OVERDUE = "overdue"
VISIT_STATES = [*VisitState.choices, (OVERDUE, _("Overdue"))]
FOLLOW_UP_STATES = [*FollowUpState.choices, (OVERDUE, _("Overdue"))]
MINE = [("mine", _("Mine"))]


def search_projects(queryset, value):
    return queryset.filter(Q(project__name__icontains=value) | Q(project__contract_number__icontains=value)
                           | Q(customer__name__icontains=value))


class StateFilter(django_filters.ChoiceFilter):
    """A state, or `overdue`: due before today and not done."""

    def filter(self, queryset, value):
        if value == OVERDUE:
            open_state = VisitState.PLANNED if queryset.model is ReturnVisit else FollowUpState.OPEN
            return queryset.filter(state=open_state, due_on__lt=clock.today())
        return super().filter(queryset, value)


class OwnerFilter(django_filters.ChoiceFilter):
    def filter(self, queryset, value):
        if value == "mine":
            return queryset.filter(owner=self.parent.request.user if self.parent.request else None)
        return queryset


class VisitFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    customer = ScopedChoiceFilter(Customer, label=_("Customer"))
    project = ScopedChoiceFilter(Project, label=_("Project"))
    state = StateFilter(choices=VISIT_STATES, label=_("State"))
    kind = django_filters.ChoiceFilter(choices=VisitKind.choices, label=_("Kind"))
    owner = OwnerFilter(choices=MINE, label=_("Owner"))
    due_from = django_filters.DateFilter(field_name="due_on", lookup_expr="gte", label=_("Due from"),
                                         validators=[validate_plausible], widget=DateInput())
    due_to = django_filters.DateFilter(field_name="due_on", lookup_expr="lte", label=_("Due until"),
                                       validators=[validate_plausible], widget=DateInput())

    class Meta:
        model = ReturnVisit
        fields = ["q", "customer", "project", "state", "kind", "owner", "due_from", "due_to"]

    def search(self, queryset, name, value):
        return search_projects(queryset, value)


class FollowUpFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    project = ScopedChoiceFilter(Project, label=_("Project"))
    state = StateFilter(choices=FOLLOW_UP_STATES, label=_("State"))
    owner = OwnerFilter(choices=MINE, label=_("Owner"))

    class Meta:
        model = FollowUp
        fields = ["q", "project", "state", "owner"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(project__name__icontains=value) | Q(project__contract_number__icontains=value)
                               | Q(customer__name__icontains=value) | Q(description__icontains=value))


class SurveyFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    project = ScopedChoiceFilter(Project, label=_("Project"))
    state = django_filters.ChoiceFilter(choices=SurveyState.choices, label=_("State"))
    month = django_filters.DateFilter(field_name="period", label=_("Month"), input_formats=["%Y-%m", "%Y-%m-%d"],
                                      method="in_month", validators=[validate_plausible],
                                      widget=MonthInput())
    low = django_filters.BooleanFilter(method="low_or_abnormal", label=_("Low satisfaction or abnormal"),
                                       widget=forms.NullBooleanSelect)

    class Meta:
        model = Survey
        fields = ["q", "project", "state", "month", "low"]

    def search(self, queryset, name, value):
        return search_projects(queryset, value)

    def in_month(self, queryset, name, value):
        return queryset.filter(period=value.replace(day=1))

    def low_or_abnormal(self, queryset, name, value):
        flagged = Q(satisfaction__lte=LOW_SATISFACTION) | Q(abnormal=True)
        return queryset.filter(flagged) if value else queryset.exclude(flagged)


class ScheduleFilter(StyledFilterSet):
    project = ScopedChoiceFilter(Project, label=_("Project"))
    active = django_filters.BooleanFilter(label=_("Active"), widget=forms.NullBooleanSelect)

    class Meta:
        model = VisitSchedule
        fields = ["project", "active"]
