"""Pages of findings (INS-4) and of the inspection report (INS-5, issue 23 §5, §6): a round's findings with one action
each (a service request, a repair case, dismissed with a reason), the printable report, issuing it, and its
confirmation by the customer — signed on our engineer's screen, in the portal, or through the mailed link (no login:
the token is the key; a bad link answers 404, an expired or used one 410, one opened as another customer's contact
403, and offers nothing to submit).

Views stay thin: a form parses, a verb decides. Every round is reached through selectors.rounds_for (SEC-1)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.views import ScopedMixin

from . import findings, reports, selectors
from .models import (
    Finding,
    InspectionReport,
    InspectionRound,
    ReportSignedVia,
    ReportState,
    RoundState,
)
from .report_forms import (
    FindingActionForm,
    IssueReportForm,
    ReportSignFields,
    ReportSignForm,
)
from .views import add_domain_error, status_for

VIEW_ROUND = "inspections.view_inspectionround"
HANDLE = "inspections.handle_findings"
ADD_REQUEST, WORK_REPAIR = "service.add_servicerequest", "repairs.work_repair"


def page_round(user, pk) -> InspectionRound:
    from django.http import Http404

    try:
        return selectors.round_page(user, pk)
    except InspectionRound.DoesNotExist:
        raise Http404 from None


def may_handle(user) -> bool:
    return bool(not user.customer_id and user.has_perm(HANDLE))


def finding_actions(user) -> list[str]:
    if not may_handle(user):
        return []
    return [name for name, perm in (("request", ADD_REQUEST), ("repair", WORK_REPAIR), ("dismiss", None))
            if perm is None or user.has_perm(perm)]


class Findings(ScopedMixin, View):
    """GET: the round's findings and what became of them, with the actions this user may take. POST: one action."""

    model = InspectionRound
    permission_required = VIEW_ROUND
    template_name = "inspections/report/findings.html"

    def get(self, request, pk):
        return self.render(page_round(request.user, pk))

    def post(self, request, pk):
        round_ = page_round(request.user, pk)
        form = FindingActionForm(request.POST)
        if not form.is_valid():
            return self.render(round_, form, status=status_for(request, 422))
        data = form.cleaned_data
        if data["action"] not in finding_actions(request.user):
            raise PermissionDenied
        finding = Finding.objects.filter(round_id=round_.pk, pk=data["finding"]).first()
        if finding is None:
            form.add_error(None, _("This finding is not part of the round."))
            return self.render(round_, form, status=status_for(request, 422))
        extra = {"reason": data["reason"]} if data["action"] == "dismiss" else {}
        try:
            done = findings.ACTIONS[data["action"]](finding=finding, by=request.user, version=data["version"], **extra)
        except (IllegalTransition, StaleObject) as error:
            add_domain_error(form, error)
            return self.render(page_round(request.user, pk), form, status=status_for(request, 409))
        except DomainError as error:
            add_domain_error(form, error)
            return self.render(round_, form, status=status_for(request, 409 if error.status == 409 else 422))
        messages.success(request, _("The finding is handled: %(state)s.") % {"state": done.get_state_display()})
        return redirect(reverse("inspections:findings", args=[pk]) + f"#finding-{done.pk}")

    def render(self, round_, failed=None, status=200):
        return render(self.request, self.template_name, {
            "object": round_, "findings": selectors.findings_of(round_), "failed": failed,
            "actions": finding_actions(self.request.user), "is_customer": bool(self.request.user.customer_id),
        }, status=status)


class Report(ScopedMixin, View):
    """INS-5: the round's report, printable; both sides keep it (our staff here, the customer in the portal)."""

    model = InspectionRound
    permission_required = VIEW_ROUND
    template_name = "inspections/report/report.html"

    def get(self, request, pk):
        round_ = page_round(request.user, pk)
        context = reports.content(round_)
        report = context["report"]
        user = request.user
        context.update({
            "object": round_, "is_customer": bool(user.customer_id),
            "can_issue": may_handle(user) and round_.state == RoundState.DONE
            and (report is None or report.state == ReportState.AWAITING),
            "can_confirm": report is not None and report.state == ReportState.AWAITING
            and (bool(user.customer_id) or may_handle(user)),
        })
        return render(request, self.template_name, context)


class IssueReport(ScopedMixin, View):
    """Our side writes the evaluation and suggestions and sends the report to the customer (again: a new link)."""

    model = InspectionRound
    permission_required = HANDLE
    template_name = "inspections/report/issue.html"

    def form_for(self, round_, data=None):
        report = InspectionReport.objects.filter(round_id=round_.pk).first()
        initial = ({"evaluation": report.evaluation, "suggestions": report.suggestions, "version": report.version}
                   if report else {"evaluation": round_.summary})
        return IssueReportForm(data, initial=initial), report

    def get(self, request, pk):
        round_ = page_round(request.user, pk)
        form, report = self.form_for(round_)
        return self.render(round_, form, report)

    def post(self, request, pk):
        round_ = page_round(request.user, pk)
        form, report = self.form_for(round_, request.POST)
        status = 422
        if form.is_valid():
            try:
                reports.issue_report(round=round_, by=request.user, **form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The report is sent to the customer for confirmation."))
                return redirect("inspections:report", pk=pk)
        return self.render(round_, form, report, status=status_for(request, status))

    def render(self, round_, form, report, status=200):
        return render(self.request, self.template_name, {
            "object": round_, "form": form, "report": report, "available": round_.state == RoundState.DONE
            and (report is None or report.state == ReportState.AWAITING)}, status=status)


class ConfirmReport(ScopedMixin, View):
    """The customer signs the report: a customer's user in the portal, or the customer's person on our engineer's
    screen (they have no login: the report records their name, their signature and whose screen it was)."""

    model = InspectionRound
    permission_required = VIEW_ROUND
    template_name = "inspections/report/confirm.html"

    def via(self):
        user = self.request.user
        if user.customer_id:
            return ReportSignedVia.PORTAL
        return ReportSignedVia.SCREEN if may_handle(user) else None

    def report_of(self, round_):
        return InspectionReport.objects.filter(round_id=round_.pk).first()

    def get(self, request, pk):
        round_ = page_round(request.user, pk)
        report = self.report_of(round_)
        initial = {"version": report.version if report else 1}
        if self.via() == ReportSignedVia.PORTAL:
            initial["signer_name"] = request.user.display_name
        return self.render(round_, report, ReportSignForm(initial=initial))

    def post(self, request, pk):
        round_ = page_round(request.user, pk)
        report = self.report_of(round_)
        via = self.via()
        if via is None:
            raise PermissionDenied
        form = ReportSignForm(request.POST)
        status = 422
        if report is None:
            form.add_error(None, _("The report has not been issued yet."))
        elif form.is_valid():
            who = {"by": request.user} if via == ReportSignedVia.PORTAL else {"on_screen_of": request.user}
            try:
                reports.confirm_report(report=report, via=via, **who, **form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The report is confirmed with the customer's signature."))
                return redirect("inspections:report", pk=pk)
        return self.render(round_, report, form, status=status_for(request, status))

    def render(self, round_, report, form, status=200):
        context = reports.content(round_)
        context.update({"object": round_, "report": report, "form": form, "via": self.via(),
                        "available": report is not None and report.state == ReportState.AWAITING
                        and self.via() is not None,
                        "action_url": reverse("inspections:report_confirm", args=[round_.pk])})
        return render(self.request, self.template_name, context, status=status)


class ReportByLink(View):
    """INS-5: the signed, expiring, single-use link from the mail. No login: the token is the key."""

    template_name = "inspections/report/link.html"

    def get(self, request, token):
        try:
            report = reports.report_for_token(token, request.user)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        return self.render(report, ReportSignFields())

    def post(self, request, token):
        try:
            report = reports.report_for_token(token, request.user)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        form = ReportSignFields(request.POST)
        user = request.user
        # A logged-in contact of this customer signs as themselves; anyone else by the name they give.
        by = user if user.is_authenticated and user.customer_id == report.customer_id else None
        if form.is_valid():
            try:
                reports.confirm_report(report=report, version=report.version, via=ReportSignedVia.LINK, by=by,
                                       **form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                return render(request, self.template_name, {"link_error": error.message}, status=409)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                return render(request, self.template_name, {"signed": True, "report": report})
        return self.render(report, form, status=422 if request.htmx else 200)

    def render(self, report, form, status=200):
        round_ = selectors.round_page_unscoped(report.round_id)
        context = reports.content(round_)
        context.update({"object": round_, "report": report, "form": form, "via": ReportSignedVia.LINK,
                        "available": True, "by_link": True})
        return render(self.request, self.template_name, context, status=status)
