"""Pages of the monthly proof of service (issue 24 §4): the list of reports (a customer's contacts see their own, staff
their branch's or all), a report's web version with every figure linked to its rows, its PDF, and staff's
regeneration of a month (a new version, the old ones kept). Every report is reached through `visible()`."""

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, ListView

from aftersales.core import clock
from aftersales.core.errors import DomainError
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.core.views import ScopedMixin
from aftersales.customers.models import Customer

from . import present, services
from .models import MonthlyReport

VIEW = "proof.view_monthlyreport"


class GenerateForm(forms.Form):
    customer = forms.ModelChoiceField(label=gettext_lazy("Customer"), queryset=Customer.objects.none())
    month = forms.DateField(label=gettext_lazy("Month"), input_formats=["%Y-%m"],
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = visible(Customer.objects.order_by("name"), user)


class ReportList(ScopedMixin, ListView):
    model = MonthlyReport
    permission_required = VIEW
    paginate_by = 25
    template_name = "proof/report_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("customer").defer("facts").order_by(
            "-year", "-month", "customer__name", "-version", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["is_customer"] = bool(user.customer_id)
        if user.has_perm(services.REGENERATE) and not user.customer_id:
            year, month = services.previous_month(clock.today())
            context["generate_form"] = GenerateForm(user=user, initial={"month": clock.today().replace(
                year=year, month=month, day=1)})
        return context


class ReportDetail(ScopedMixin, DetailView):
    model = MonthlyReport
    permission_required = VIEW
    template_name = "proof/report_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "generated_by", "scope_user")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.object
        context.update(present.context(report.facts))
        context["facts"] = report.facts
        context["web"] = True
        context["is_customer"] = bool(self.request.user.customer_id)
        context["versions"] = list(visible(MonthlyReport.objects.filter(
            customer_id=report.customer_id, year=report.year, month=report.month), self.request.user)
            .defer("facts").order_by("-version"))
        context["can_regenerate"] = (self.request.user.has_perm(services.REGENERATE)
                                     and not self.request.user.customer_id)
        return context


class ReportPdf(ScopedMixin, View):
    """The PDF, scoped like the page (never a media URL)."""

    model = MonthlyReport
    permission_required = VIEW

    def get(self, request, pk):
        report = get_visible_or_404(MonthlyReport.objects.defer("facts"), request.user, pk=pk)
        if not report.pdf:
            raise Http404
        try:
            handle = report.pdf.open("rb")
        except (FileNotFoundError, OSError, ValueError):
            raise Http404 from None
        name = f"{_('Monthly service report')}-{report.label}-v{report.version}.pdf"
        response = FileResponse(handle, as_attachment=False, filename=name, content_type="application/pdf")
        response["Cache-Control"] = "private, max-age=0"
        return response


class Regenerate(ScopedMixin, View):
    """POST: the report's month again, as a new version."""

    model = MonthlyReport
    permission_required = services.REGENERATE

    def post(self, request, pk):
        report = get_visible_or_404(MonthlyReport.objects.select_related("customer").defer("facts"), request.user,
                                    pk=pk)
        return run(request, report.customer, report.year, report.month, back=report.get_absolute_url())


class Generate(ScopedMixin, View):
    """POST: a month of a customer (version 1, or the next version when the month has a report)."""

    model = MonthlyReport
    permission_required = services.REGENERATE

    def post(self, request):
        form = GenerateForm(request.POST, user=request.user)
        if not form.is_valid():
            for field, errors in form.errors.items():
                for error in errors:
                    messages.error(request, f"{form.fields[field].label if field in form.fields else ''}: {error}")
            return redirect("proof:report_list")
        month = form.cleaned_data["month"]
        return run(request, form.cleaned_data["customer"], month.year, month.month, back="proof:report_list")


def run(request, customer, year, month, *, back):
    try:
        report = services.regenerate(customer, year, month, by=request.user)  # PermissionDenied: a 403
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(request, _("Version %(version)s of %(month)s is ready and sent to the customer's contacts.")
                     % {"version": report.version, "month": report.label})
    return redirect(report)
