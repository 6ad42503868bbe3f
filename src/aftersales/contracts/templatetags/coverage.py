"""The device page's coverage card (CUS-4): the device's periods, today's answer and the answer for a day asked
about. An inclusion tag, so the assets templates only place it: `{% load coverage %}{% coverage_card object %}`."""

from django import template

from aftersales.core.clock import today

from ..coverage import merge, periods_of
from ..forms import CoverageDayForm
from ..models import ResponseTier

register = template.Library()


@register.inclusion_tag("contracts/_coverage_card.html", takes_context=True)
def coverage_card(context, device):
    request = context["request"]
    on = today()
    periods = periods_of(device)  # one query: the warranty periods come from the device's own dates
    rows = [(period, "current" if period.covers(on) else "past" if period.ends_on < on else "future")
            for period in periods]
    asked = request.GET.get("coverage_on")
    form = CoverageDayForm({"coverage_on": asked} if asked else None)
    answer = None
    if form.is_bound and form.is_valid():
        day = form.cleaned_data["coverage_on"]
        answer = {"day": day, "coverage": merge(periods, day)}
    return {"device": device, "rows": rows, "today": on, "now": merge(periods, on), "form": form,
            "answer": answer, "perms": context.get("perms"), "request": request}


@register.filter
def tier_label(value: str) -> str:
    """A response tier's label ("7x24" -> 7×24); "" stays empty."""
    return ResponseTier(value).label if value in ResponseTier.values else value
