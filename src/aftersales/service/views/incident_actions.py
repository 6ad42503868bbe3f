"""Incident reports (SRQ-8): written by staff, submitted to the customer, confirmed or rejected by them in the
portal. The report has its own version (the forms carry `report_version`), checked by the verbs."""

from django.contrib import messages
from django.db import IntegrityError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.scoping import get_visible_or_404

from .. import verbs
from ..actions import incident_report_of
from ..forms import IncidentConfirmForm, IncidentRejectForm, IncidentReportForm, IncidentSubmitForm
from .common import add_domain_error, done, error_status, request_queryset, safe_next
from .request_actions import RequestAction


class IncidentAction(RequestAction):
    expanded = True

    def get_object(self):
        return get_visible_or_404(request_queryset().select_related("incident_report"), self.request.user,
                                  pk=self.kwargs["pk"])

    @classmethod
    def extra_context(cls, http_request, request_obj):
        return {"report": incident_report_of(request_obj)}


class WriteIncidentReport(IncidentAction):
    """The draft: written, and revised after a rejection. A concurrent save is shown with the report as it
    is now; the text typed is kept, and saving again is a deliberate choice."""

    name, title = "incident_report", gettext_lazy("Incident report")
    action = "write_incident"
    form_class = IncidentReportForm
    partial = "service/_incident_report_form.html"
    submit_label = gettext_lazy("Save the draft")
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The incident report draft is saved.")
    expanded = False
    conflict = False

    @classmethod
    def initial(cls, request_obj):
        report = incident_report_of(request_obj)
        if report is None:
            return {}
        return {"report_version": report.version, **{name: getattr(report, name) for name in verbs.INCIDENT_FIELDS}}

    def perform(self, request_obj, form):
        data = form.cleaned_data
        report, seen = incident_report_of(request_obj), data["report_version"]
        try:
            if (report is None) != (seen is None):  # written (or gone) since the form was shown
                raise StaleObject()
            try:
                verbs.save_incident_report(request=request_obj, by=self.request.user, version=seen,
                                           **{name: data[name] for name in verbs.INCIDENT_FIELDS})
            except IntegrityError:  # two first drafts at the same moment: the first is kept
                raise StaleObject() from None
        except StaleObject:
            self.conflict = True
            raise

    def render(self, request_obj, form, status=200):
        if self.conflict and form.is_bound:
            # The panel shows the report as saved now next to the text typed; saving again overwrites it.
            current = incident_report_of(request_obj)
            form.data = form.data.copy()
            form.data["report_version"] = current.version if current else ""
            form.conflict = True
        return super().render(request_obj, form, status=status)

    @classmethod
    def panel(cls, http_request, request_obj, form=None, *, available):
        panel = super().panel(http_request, request_obj, form, available=available)
        panel["conflict"] = getattr(form, "conflict", False)
        return panel


class SubmitIncidentReport(IncidentAction):
    name, title = "submit_incident", gettext_lazy("Submit the incident report to the customer")
    form_class = IncidentSubmitForm
    partial = "service/_incident_submit_form.html"
    submit_label = gettext_lazy("Submit to the customer")
    success_message = gettext_lazy("The incident report is submitted and waits for the customer's confirmation.")

    @classmethod
    def initial(cls, request_obj):
        report = incident_report_of(request_obj)
        return {"report_version": report.version} if report else {}

    def perform(self, request_obj, form):
        report = incident_report_of(request_obj)
        if report is None:
            raise IllegalTransition(_("There is no incident report to submit yet."))
        verbs.submit_incident_report(report=report, by=self.request.user, version=form.cleaned_data["report_version"])


class AnswerIncidentReport(IncidentAction):
    """The customer's user confirms the incident report in the portal, or rejects it with a reason
    (`decision` = confirm / reject)."""

    name, title = "answer_incident", gettext_lazy("Confirm the incident report")
    partial = "service/_incident_answer_form.html"

    @classmethod
    def initial(cls, request_obj):
        report = incident_report_of(request_obj)
        return {"report_version": report.version} if report else {}

    @classmethod
    def make_form(cls, request_obj, user, data=None, files=None, decision="confirm"):
        form_class = IncidentRejectForm if decision == "reject" else IncidentConfirmForm
        return form_class(data, files, initial=cls.initial(request_obj), prefix=decision)

    @classmethod
    def panel(cls, http_request, request_obj, form=None, *, available):
        panel = super().panel(http_request, request_obj, form, available=available)
        bound_reject = isinstance(form, IncidentRejectForm)
        panel["confirm_form"] = cls.make_form(request_obj, http_request.user) if bound_reject or form is None else form
        panel["reject_form"] = form if bound_reject else cls.make_form(request_obj, http_request.user, decision="reject")
        return panel

    def post(self, request, pk):
        request_obj = self.get_object()
        decision = "reject" if request.POST.get("decision") == "reject" else "confirm"
        form = self.make_form(request_obj, request.user, request.POST, request.FILES, decision=decision)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = incident_report_of(request_obj)
                if report is None:
                    raise IllegalTransition(_("No incident report is waiting for your confirmation."))
                verbs.answer_incident_report(report=report, by=request.user, accept=decision == "confirm",
                                             reason=data.get("reason", ""), via="portal",
                                             version=data["report_version"])
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                if decision == "reject":
                    messages.warning(request, _("The incident report is rejected; it goes back to its author."))
                else:
                    messages.success(request, _("The incident report is confirmed."))
                return done(request, safe_next(request, request_obj.get_absolute_url()))
        if status == 409:
            request_obj = self.get_object()
        return self.render(request_obj, form, status=error_status(request, status))
