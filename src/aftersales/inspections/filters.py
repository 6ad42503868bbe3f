"""Filters of rounds and plans, for the pages and the API alike."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from aftersales.accounts.models import User
from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.customers.models import Project

from .models import InspectionPlan, InspectionRound, RoundState

MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")


class MonthFilter(filters.CharFilter):
    """`YYYY-MM`: the rounds due that month."""

    def filter(self, queryset, value):
        if not value:
            return queryset
        year, month = (int(part) for part in value.split("-"))
        return queryset.filter(due_on__year=year, due_on__month=month)


def month_field_validator(value):
    if value and not MONTH.match(value):
        raise forms.ValidationError(_("Give a month as YYYY-MM."), code="invalid_month")


class RoundFilter(StyledFilterSet):
    project = ScopedChoiceFilter(Project, label=_("Project"))
    state = filters.ChoiceFilter(label=_("State"), choices=RoundState.choices)
    month = MonthFilter(label=_("Month"), max_length=7, validators=[month_field_validator],
                        help_text="YYYY-MM: the rounds due that month.")
    engineer = ScopedChoiceFilter(User, label=_("Engineer"))
    plan = filters.NumberFilter(field_name="plan_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = InspectionRound
        fields = ["project", "state", "month", "engineer", "plan"]

    @property
    def form(self):
        form = super().form
        if "month" in form.fields:
            form.fields["month"].widget.attrs.setdefault("placeholder", "2026-11")
        return form


class PlanFilter(StyledFilterSet):
    project = ScopedChoiceFilter(Project, label=_("Project"))
    active = filters.BooleanFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = InspectionPlan
        fields = ["project", "active"]
