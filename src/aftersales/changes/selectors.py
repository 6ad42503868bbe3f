"""Reads of change notices (LOG-3): scoped through `visible()`, joins chosen here, always ordered."""

from django.db.models import Count, QuerySet

from aftersales.core.scoping import get_visible_or_404, visible

from .models import OPEN_STATES, ChangeNotice, CompatibilityTest


def notices_unscoped() -> QuerySet[ChangeNotice]:
    """The list's rows: project and customer joined, the number of tests counted in SQL."""
    return (ChangeNotice.objects.select_related("project", "customer")
            .annotate(test_count=Count("tests", distinct=True)))


def visible_notices(user) -> QuerySet[ChangeNotice]:
    """Every change notice `user` may see (the customer's history, helper A): a customer's contacts their own
    customer's, staff their branch's, those who see all branches every one. Nothing is hidden per row."""
    return visible(ChangeNotice.objects.select_related("project", "customer"), user).order_by("-submitted_at", "-pk")


def open_notices(user) -> QuerySet[ChangeNotice]:
    """Awaiting our answer, the nearest deadline first (the desk's block and the list's "open" filter)."""
    return visible(ChangeNotice.objects.filter(state__in=OPEN_STATES).select_related("customer"), user).order_by(
        "answer_due_at", "pk")


def notice_page(user, pk) -> ChangeNotice:
    return get_visible_or_404(ChangeNotice.objects.select_related(
        "project", "customer", "branch", "submitted_by", "answered_by", "withdrawn_by"), user, pk=pk)


def tests_of(notice) -> list[CompatibilityTest]:
    return list(notice.tests.select_related("tested_by").order_by("tested_at", "pk"))


def devices_of(notice) -> list:
    return list(notice.devices.select_related("category").order_by("name", "pk"))
