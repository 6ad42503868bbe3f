"""LOG-1 pages: the history of a customer and of a project (newest first, an "older" link carrying the keyset
cursor), its filters, and its export (`?export=csv` or `xlsx`, the whole filtered history, streamed in keyset chunks).
A customer or project outside the user's scope is a 404, like a missing one; bad filters or a bad cursor are a 400."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View

from aftersales.core.scoping import get_visible_or_404
from aftersales.core.views import ScopedMixin
from aftersales.customers.models import Customer, Project
from aftersales.reports.exports import csv_response, shape_time, xlsx_response

from . import timeline
from .forms import HistoryFilter

PAGE_SIZE = 50


@login_required
def history_home(request):
    """A customer's contact goes to their customer's history; staff choose a customer in the customer list (each
    customer's and project's page links its history)."""
    if request.user.customer_id:
        return redirect("history:customer", request.user.customer_id)
    return redirect("customers:customer_list")


class CustomerHistory(ScopedMixin, View):
    model = Customer
    permission_required = "customers.view_customer"

    def get(self, request, pk):
        customer = get_visible_or_404(Customer.objects.all(), request.user, pk=pk)
        return _history(request, subject=customer, customer=customer.pk, filename=f"history-customer-{customer.pk}")


class ProjectHistory(ScopedMixin, View):
    model = Project
    permission_required = "customers.view_project"

    def get(self, request, pk):
        project = get_visible_or_404(Project.objects.all(), request.user, pk=pk)
        return _history(request, subject=project, project=project.pk, customer=project.customer_id, filename=f"history-project-{project.pk}")


def _history(request, *, subject, filename, **where):
    form = HistoryFilter(request.GET)
    context = {"subject": subject, "form": form, "is_customer": bool(request.user.customer_id),
               "is_project": "project" in where}
    if not form.is_valid():
        return render(request, "history/history.html", context, status=400)
    filters = form.filters() | where
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        rows = (_export_row(entry) for entry in timeline.all_entries(request.user, **filters))
        headers = [_("Time"), _("Kind"), _("Title"), _("State"), _("By"), _("Summary"), _("Link")]
        if export == "csv":
            return csv_response(filename, headers, rows)
        return xlsx_response(filename, pgettext("customer history", "History"), headers, rows)
    try:
        page = timeline.page(request.user, cursor=form.cleaned_data["cursor"] or None, size=PAGE_SIZE, **filters)
    except timeline.BadCursor as error:
        form.add_error("cursor", error.message)
        return render(request, "history/history.html", context, status=400)
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("export", None)
    older = None
    if page.next_cursor:
        query["cursor"] = page.next_cursor
        older = f"?{query.urlencode()}"
        query.pop("cursor")
    context |= {"page": page, "older": older, "first": bool(form.cleaned_data["cursor"]),
                "newest": f"?{query.urlencode()}", "query": query.urlencode()}
    return render(request, "history/history.html", context)


def _export_row(entry) -> list:
    return [shape_time(entry.at), str(entry.kind.label), entry.title, entry.state, entry.actor, entry.summary,
            entry.url]
