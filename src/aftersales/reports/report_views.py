"""RPT-1: the report pages. Thin: the filter form makes a `figures.Filters`, `figures` computes, `exports` writes.

Every report page has the same filter form (the choices scoped by `visible()`, as core/filters.py does) and
`?export=csv|xlsx|pdf`; every number links to `/reports/rows/<figure>/?…`, the rows that number counts (the same
queryset, bounded pages), exportable as CSV and XLSX in full. Permission: `reports.view_reports` (managers and
customers' users; a customer's user sees only its own data).
"""

import re
from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views import View

from aftersales.accounts.models import Branch
from aftersales.core import clock
from aftersales.core.plausible import implausible_year_message, plausible_year
from aftersales.core.scoping import visible
from aftersales.customers.models import Customer, Project
from aftersales.service.models import Priority, TargetKind

from . import exports, figures
from .exports import Cell, Table
from .figures import Filters, Period

PERMISSION = "reports.view_reports"
STAFF_ONLY = {"costs"}  # our cost of a repair is the integrator's own business, never a customer's
STAFF_ONLY_FIGURES = {"warranty_costs"}
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
PAGE_SIZE = 50
ESCALATIONS_SHOWN = 200


class ReportFilterForm(forms.Form):
    month = forms.CharField(label=gettext_lazy("Month"), required=False,
                            widget=forms.TextInput(attrs={"type": "month", "class": "form-control form-control-sm"}))
    date_from = forms.DateField(label=pgettext_lazy("period", "From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}))
    date_to = forms.DateField(label=pgettext_lazy("period", "To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}))
    customer = forms.ModelChoiceField(label=gettext_lazy("Customer"), queryset=Customer.objects.none(), required=False)
    project = forms.ModelChoiceField(label=gettext_lazy("Project"), queryset=Project.objects.none(), required=False)
    branch = forms.ModelChoiceField(label=gettext_lazy("Branch"), queryset=Branch.objects.none(), required=False)
    engineer = forms.ModelChoiceField(label=gettext_lazy("Engineer"), queryset=get_user_model().objects.none(),
                                      required=False)
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), required=False,
                                 choices=[("", "---------"), *Priority.choices])
    device_model = forms.CharField(label=gettext_lazy("Device model"), required=False, max_length=100,
                                   widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}))
    within = forms.IntegerField(label=gettext_lazy("Within (days)"), required=False, min_value=0, max_value=3650,
                                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}))

    def __init__(self, data, *, user, exclude=()):
        super().__init__(data, initial={"month": f"{clock.today():%Y-%m}"})
        self.user = user
        self.fields["customer"].queryset = visible(Customer.objects.only("pk", "name").order_by("name"), user)
        self.fields["project"].queryset = visible(Project.objects.only("pk", "name", "contract_number")
                                                  .order_by("name"), user)
        if user.customer_id:
            exclude = {*exclude, "branch", "engineer"}  # a customer's user sees neither branches nor staff
        else:
            self.fields["branch"].queryset = visible(Branch.objects.only("pk", "name").order_by("name"), user)
            self.fields["engineer"].queryset = visible(
                get_user_model().objects.filter(customer__isnull=True, is_active=True)
                .only("pk", "username", "full_name", "first_name", "last_name", "branch_id"), user
            ).order_by("full_name", "username")
        for name in exclude:
            self.fields.pop(name, None)
        for name in ("customer", "project", "branch", "engineer", "priority"):
            if name in self.fields:
                self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def clean_month(self):
        value = self.cleaned_data["month"].strip()
        if not value:
            return None
        found = MONTH.match(value)
        if not found or not 1 <= int(found.group(2)) <= 12:
            raise forms.ValidationError(_("Use YYYY-MM."))
        if not plausible_year(int(found.group(1))):
            raise forms.ValidationError(implausible_year_message())
        return int(found.group(1)), int(found.group(2))

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        for name in ("date_from", "date_to"):
            if data.get(name) and not plausible_year(data[name].year):
                self.add_error(name, implausible_year_message())
        if first and last and first > last:
            self.add_error("date_to", _("The end is before the start."))
        if bool(first) != bool(last) and not self.errors:
            self.add_error("date_to" if first else "date_from", _("Give both dates, or a month."))
        return data

    def period(self) -> Period:
        data = self.cleaned_data
        if data.get("date_from") and data.get("date_to"):
            return Period.days(data["date_from"], data["date_to"])
        if data.get("month"):
            return Period.month(*data["month"])
        return Period.containing(clock.today())

    def filters(self) -> Filters:
        data = self.cleaned_data

        def pk(name):
            return data[name].pk if data.get(name) else None

        return Filters(period=self.period(), customer_id=pk("customer"), project_id=pk("project"),
                       branch_id=pk("branch"), engineer_id=pk("engineer"), priority=data.get("priority") or None,
                       device_model=(data.get("device_model") or "").strip() or None)

    def within_days(self) -> int:
        value = self.cleaned_data.get("within")
        return 90 if value is None else value


# --------------------------------------------------------------------------------------------------- the tables

KIND_LABELS = dict(TargetKind.choices)
PRIORITY_LABELS = dict(Priority.choices)


def sla_table(user, filters, form) -> Table:
    headers = [_("Target"), _("Priority"), _("Requests"), pgettext("SLA", "Met"), pgettext("SLA", "Missed"),
               _("Undecided"), _("Not applicable"), _("Met (percent)"), _("Paused (hours)"), _("Median (minutes)"),
               _("90th percentile (minutes)")]
    rows = []
    for row in figures.sla_compliance(user, filters):
        key = {"target": row["target"], "priority": row["priority"]}
        rows.append([
            Cell(str(KIND_LABELS.get(row["target"], row["target"]))),
            Cell(str(PRIORITY_LABELS.get(row["priority"], row["priority"]))),
            Cell(row["n"], "sla_n", key), Cell(row["met"], "sla_met", key), Cell(row["missed"], "sla_missed", key),
            Cell(row["undecided"], "sla_undecided", key), Cell(row["not_applicable"], "sla_not_applicable", key),
            Cell(row["met_percent"]), Cell(round(row["paused_seconds"] / 3600, 1)),
            Cell(row["median_minutes"]), Cell(row["p90_minutes"]),
        ])
    return Table(headers, rows)


def escalations_table(user, filters, form, *, limit=ESCALATIONS_SHOWN) -> Table:
    headers = [_("Number"), _("Title"), _("Target"), _("Level"), _("Fired at")]
    rows = [[Cell(row["number"], href=reverse("service:request_detail", args=[row["request_id"]])), Cell(row["title"]),
             Cell(str(KIND_LABELS.get(row["target"], row["target"]))), Cell(row["level"]),
             Cell(exports.shape_time(row["fired_at"]))]
            for row in figures.escalations(user, filters, limit=limit)]
    return Table(headers, rows)


def satisfaction_table(user, filters, form) -> Table:
    found = figures.satisfaction(user, filters)
    rows = [[Cell(str(score)), Cell(count, "satisfaction", {"score": score})]
            for score, count in found["distribution"].items()]
    rows.append([Cell(_("All rated")), Cell(found["n"], "satisfaction")])
    rows.append([Cell(_("Average")), Cell(found["average"])])
    return Table([_("Score"), _("Work orders")], rows)


def inspections_table(user, filters, form) -> Table:
    found = figures.inspection_completion(user, filters)
    names = [("due", pgettext("inspection rounds", "Due")), ("done", pgettext("inspection round", "Done")),
             ("missed", pgettext("inspection round", "Missed")), ("overridden", _("Started without approval"))]
    row = [Cell(found[name], "inspections", {"state": name}) for name, _label in names]
    return Table([label for _name, label in names] + [_("Completed (percent)")], [[*row, Cell(found["percent"])]])


def expiries_table(user, filters, form) -> Table:
    day, within = clock.today(), form.within_days()
    found = figures.expiries(user, day, within, filters)
    key = {"day": day.isoformat(), "within": within}
    return Table([_("Warranties ending"), _("Contracts ending")],
                 [[Cell(found["warranties"], "warranties", key), Cell(found["contracts"], "contracts", key)]])


def failures_table(user, filters, form) -> Table:
    headers = [_("Manufacturer"), _("Model"), _("Failures"), _("Installed"), _("Failures per unit"),
               _("Mean time between failures (days)")]
    rows = []
    for row in figures.failures_by_model(user, filters):
        key = {"manufacturer": row["manufacturer"], "model": row["model"]}
        rows.append([Cell(row["manufacturer"]), Cell(row["model"]), Cell(row["failures"], "failures", key),
                     Cell(row["installed"], "installed", key), Cell(row["per_unit"]), Cell(row["mtbf_days"])])
    return Table(headers, rows)


def costs_table(user, filters, form) -> Table:
    headers = [_("Customer"), _("Model"), _("Our cost under warranty (CNY)"), _("Our cost after warranty (CNY)"),
               _("The customer pays (CNY)"), _("Charge lines")]
    rows = []
    for row in figures.warranty_costs(user, filters):
        key = {"customer": row["customer_id"], "model": row["model"]}
        rows.append([Cell(row["customer"]), Cell(row["model"]),
                     Cell(row["under_warranty_cost"], "warranty_costs", {**key, "covered": "1"}),
                     Cell(row["after_warranty_cost"], "warranty_costs", {**key, "covered": "0"}),
                     Cell(row["customer_charged"]), Cell(row["lines"], "warranty_costs", key)])
    return Table(headers, rows)


PERIOD_FIELDS = ("month", "date_from", "date_to")
REPORTS = {  # slug: (title, description, table, fields the form leaves out, file name)
    "sla": (gettext_lazy("SLA compliance"),
            gettext_lazy("Per target and priority: met, missed, undecided and not applicable, paused time, and the "
                         "median and 90th percentile of the response and resolution times."),
            sla_table, ("within",), pgettext_lazy("file name", "sla-compliance")),
    "escalations": (gettext_lazy("Escalations"), gettext_lazy("The requests escalated in the period, at their highest "
                                                               "level."),
                    escalations_table, ("within",), pgettext_lazy("file name", "escalations")),
    "satisfaction": (gettext_lazy("Satisfaction"), gettext_lazy("The customers' scores of the work orders confirmed in "
                                                                 "the period."),
                     satisfaction_table, ("within",), pgettext_lazy("file name", "satisfaction")),
    "inspections": (gettext_lazy("Inspection completion"), gettext_lazy("The inspection rounds due in the period."),
                    inspections_table, ("within", "priority"), pgettext_lazy("file name", "inspection-completion")),
    "expiries": (gettext_lazy("Warranty and contract expiries"),
                 gettext_lazy("Warranties and service contracts ending from today within the days given."),
                 expiries_table, (*PERIOD_FIELDS, "engineer", "priority"), pgettext_lazy("file name", "expiries")),
    "failures": (gettext_lazy("Failures by device model"),
                 gettext_lazy("Devices named on the requests opened in the period, per installed unit, and the mean "
                              "time between failures."),
                 failures_table, ("within",), pgettext_lazy("file name", "failures-by-model")),
    "costs": (gettext_lazy("Repair and parts cost under warranty"),
              gettext_lazy("Our cost of the charge lines issued in the period, under and after warranty, per customer "
                           "and device model."),
              costs_table, ("within",), pgettext_lazy("file name", "warranty-costs")),
}


# ---------------------------------------------------------------------------------------------------- the pages

class ReportAccess(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required = PERMISSION


def filter_query(form) -> str:
    """The filters as they were given, for the links to the rows and the exports."""
    if not form.is_bound:
        return ""
    return urlencode([(name, value) for name in form.fields for value in form.data.getlist(name) if value])


def period_label(period: Period) -> str:
    last = (period.end - timedelta(days=1)).date()
    return f"{period.start.date():%Y-%m-%d} – {last:%Y-%m-%d}"


class ReportIndex(ReportAccess, View):
    def get(self, request):
        reports = [{"slug": slug, "title": title, "description": description,
                    "url": reverse(f"reports:report_{slug}")} for slug, (title, description, *_rest) in REPORTS.items()
                   if not (request.user.customer_id and slug in STAFF_ONLY)]
        return render(request, "reports/report_index.html", {"reports": reports})


class ReportPage(ReportAccess, View):
    slug = None

    def get(self, request):
        if request.user.customer_id and self.slug in STAFF_ONLY:
            raise PermissionDenied
        title, description, make_table, exclude, filename = REPORTS[self.slug]
        form = ReportFilterForm(request.GET or None, user=request.user, exclude=exclude)
        export = request.GET.get("export", "")
        if export not in ("", "csv", "xlsx", "pdf"):
            form.is_valid()
            form.add_error(None, _("Unknown export format."))
        if form.is_bound and not form.is_valid():
            return render(request, "reports/report_page.html", {
                "title": title, "description": description, "form": form, "slug": self.slug}, status=400)
        if not form.is_bound:
            form.cleaned_data = {}
        filters = form.filters()
        subtitle = period_label(filters.period) if self.slug != "expiries" else _(
            "From %(day)s, within %(days)s days") % {"day": clock.today().isoformat(), "days": form.within_days()}
        name = f"{filename}-{filters.period.start:%Y-%m}"
        if export and self.slug == "escalations":
            table = escalations_table(request.user, filters, form, limit=None)  # every escalated request
        else:
            table = make_table(request.user, filters, form)
        if export == "csv":
            return exports.csv_response(name, table.headers, exports.table_rows(table))
        if export == "xlsx":
            return exports.xlsx_response(name, title, table.headers, exports.table_rows(table))
        if export == "pdf":
            return exports.pdf_response(str(title), subtitle, table, name)
        query = filter_query(form)
        rows = [[{"value": cell.value, "url": self.cell_url(cell, query)} for cell in row] for row in table.rows]
        return render(request, "reports/report_page.html", {
            "title": title, "description": description, "form": form, "slug": self.slug, "subtitle": subtitle,
            "headers": table.headers, "rows": rows, "query": query,
            "truncated": self.slug == "escalations" and len(table.rows) >= ESCALATIONS_SHOWN})

    @staticmethod
    def cell_url(cell: Cell, query: str) -> str | None:
        if cell.href:
            return cell.href
        if cell.figure is None or cell.value in (None, 0, ""):
            return None
        params = "&".join(part for part in (query, urlencode({k: v for k, v in cell.key.items() if v is not None}))
                          if part)
        return f"{reverse('reports:rows', args=[cell.figure])}?{params}"


FIGURE_KEYS = {"sla_n": ("target", "priority"), "sla_met": ("target", "priority"), "sla_missed": ("target", "priority"),
               "sla_undecided": ("target", "priority"), "sla_not_applicable": ("target", "priority"),
               "escalations": (), "satisfaction": ("score",), "inspections": ("state",),
               "warranties": ("day", "within"), "contracts": ("day", "within"),
               "failures": ("manufacturer", "model"), "installed": ("manufacturer", "model"),
               "warranty_costs": ("customer", "model", "covered"), "open_assigned": (), "on_site": (),
               "device_requests": ("device",), "targets_met": (), "targets_missed": ()}
FIGURE_TITLES = {
    "sla_n": gettext_lazy("Requests"), "sla_met": pgettext_lazy("SLA", "Met"), "sla_missed": pgettext_lazy("SLA", "Missed"),
    "sla_undecided": gettext_lazy("Undecided"), "sla_not_applicable": gettext_lazy("Not applicable"),
    "escalations": gettext_lazy("Escalations"), "satisfaction": gettext_lazy("Satisfaction"),
    "inspections": gettext_lazy("Inspection rounds"), "warranties": gettext_lazy("Warranties ending"),
    "contracts": gettext_lazy("Contracts ending"), "failures": gettext_lazy("Failures"),
    "installed": gettext_lazy("Installed"), "warranty_costs": gettext_lazy("Charge lines"),
    "open_assigned": gettext_lazy("Open assignments"), "on_site": gettext_lazy("Time on site"),
    "device_requests": gettext_lazy("Requests naming the device"),
    "targets_met": gettext_lazy("Service targets met"), "targets_missed": gettext_lazy("Service targets missed"),
}


class ReportRows(ReportAccess, View):
    """The rows one number counts: the same queryset as the figure, in bounded pages (or all of it, exported)."""

    def get(self, request, figure):
        if figure not in FIGURE_KEYS:
            raise Http404
        if request.user.customer_id and figure in STAFF_ONLY_FIGURES:
            raise PermissionDenied
        form = ReportFilterForm(request.GET or None, user=request.user)
        if form.is_bound and not form.is_valid():
            return render(request, "reports/rows.html", {"form": form, "title": FIGURE_TITLES[figure]}, status=400)
        if not form.is_bound:
            form.cleaned_data = {}
        key = {name: request.GET[name] for name in FIGURE_KEYS[figure] if name in request.GET}
        queryset = figures.rows(figure, request.user, form.filters(), **key).order_by("-pk")
        columns = exports.columns_of(queryset.model)
        headers = [column.header for column in columns]
        name = f"{pgettext('file name', 'report-rows')}-{figure}"
        export = request.GET.get("export", "")
        if export == "csv":
            return exports.csv_response(name, headers, exports.iter_rows(queryset))
        if export == "xlsx":
            return exports.xlsx_response(name, FIGURE_TITLES[figure], headers, exports.iter_rows(queryset))
        paginator = Paginator(exports.row_queryset(queryset), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        link = exports.LINKS.get(queryset.model, (None, None))[0]
        rows = []
        for raw in page.object_list:
            pk, values = exports.shape(queryset.model, raw)
            rows.append({"url": reverse(link, args=[pk]) if link and pk else None, "values": values})
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("export", None)
        return render(request, "reports/rows.html", {
            "title": FIGURE_TITLES[figure], "figure": figure, "headers": headers, "rows": rows, "page_obj": page,
            "paginator": paginator, "is_paginated": page.has_other_pages(), "querystring": query.urlencode(),
            "subtitle": period_label(form.filters().period), "cell": cell_label(key)})


def cell_label(key: dict) -> str:
    """What the number counted, in words: "答复服务方案 · 一般" for an SLA cell; other keys as given."""
    labels = {"target": KIND_LABELS, "priority": PRIORITY_LABELS}
    return " · ".join(str(labels.get(name, {}).get(value, value)) for name, value in key.items()
                      if name not in ("day", "customer") and value not in ("", None))
