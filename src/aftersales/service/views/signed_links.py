"""Confirmation by signed link (SRQ-7, SRQ-8): the expiring, single-use links of the notifications. No login: the
token is the key. A bad link answers 404, an expired or used one 410, one opened as another customer's contact 403; each shows why
and offers nothing to submit."""

from django.shortcuts import render
from django.views import View

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject

from .. import confirmation, part_lines, verbs
from ..forms import IncidentLinkRejectForm, LinkConfirmForm, LinkRejectForm
from .common import add_domain_error


class ConfirmByLink(View):
    """SRQ-7: the signed, expiring, single-use link from the notification. No login: the token is the key.
    A bad, expired or used link shows why, and offers nothing to submit."""

    template_name = "service/confirm_link.html"

    def get(self, request, token):
        try:
            work_order = confirmation.work_order_for_token(token, request.user)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        return self.render(work_order, LinkConfirmForm(prefix="confirm"), LinkRejectForm(prefix="reject"))

    def post(self, request, token):
        try:
            work_order = confirmation.work_order_for_token(token, request.user)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        decision = "reject" if request.POST.get("decision") == "reject" else "confirm"
        confirm_form = LinkConfirmForm(request.POST if decision == "confirm" else None, prefix="confirm")
        reject_form = LinkRejectForm(request.POST if decision == "reject" else None, prefix="reject")
        form = reject_form if decision == "reject" else confirm_form
        status = 200
        if form.is_valid():
            data = form.cleaned_data
            user = request.user
            # A logged-in contact of this customer confirms as themselves; anyone else by the name they give.
            by = user if user.is_authenticated and user.customer_id == work_order.request.customer_id else None
            try:
                if decision == "reject":
                    reason = data["reason"] if by else f'{data["reason"]}\n— {data["signer_name"]}'
                    verbs.reject_work_order(work_order=work_order, by=by, reason=reason, via="link",
                                            version=work_order.version)
                else:
                    verbs.confirm_work_order(work_order=work_order, by=by, signer_name=data["signer_name"], via="link",
                                             version=work_order.version, satisfaction=data["satisfaction"],
                                             comment=data["comment"])
            except (IllegalTransition, StaleObject) as error:
                return render(request, self.template_name, {"link_error": error.message}, status=409)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                return render(request, self.template_name, {"decided": decision, "work_order": work_order})
        return self.render(work_order, confirm_form, reject_form, status=status)

    def render(self, work_order, confirm_form, reject_form, status=200):
        part_lines.attach([work_order])
        return render(self.request, self.template_name, {
            "work_order": work_order, "request_obj": work_order.request, "confirm_form": confirm_form,
            "reject_form": reject_form,
        }, status=status)


class ConfirmIncidentByLink(View):
    """SRQ-8: the incident report's signed, expiring, single-use link from the notification; like
    ConfirmByLink. A bad, expired or used link shows why, and offers nothing to submit."""

    template_name = "service/confirm_incident_link.html"

    def get(self, request, token):
        try:
            report = confirmation.incident_report_for_token(token, request.user)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        return self.render(report, IncidentLinkRejectForm(prefix="reject"))

    def post(self, request, token):
        try:
            report = confirmation.incident_report_for_token(token, request.user)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        decision = "reject" if request.POST.get("decision") == "reject" else "confirm"
        reject_form = IncidentLinkRejectForm(request.POST if decision == "reject" else None, prefix="reject")
        if decision == "confirm" or reject_form.is_valid():
            user = request.user
            # A logged-in contact of this customer answers as themselves; anyone else by the name they give.
            by = user if user.is_authenticated and user.customer_id == report.request.customer_id else None
            reason = ""
            if decision == "reject":
                data = reject_form.cleaned_data
                reason = data["reason"] if by else f'{data["reason"]}\n— {data["signer_name"]}'
            try:
                verbs.answer_incident_report(report=report, by=by, accept=decision == "confirm", reason=reason,
                                             via="link", version=report.version)
            except (IllegalTransition, StaleObject) as error:
                return render(request, self.template_name, {"link_error": error.message}, status=409)
            except DomainError as error:
                if decision == "confirm":
                    return render(request, self.template_name, {"link_error": error.message})
                add_domain_error(reject_form, error)
            else:
                return render(request, self.template_name, {"decided": decision, "report": report})
        return self.render(report, reject_form)

    def render(self, report, reject_form, status=200):
        return render(self.request, self.template_name, {
            "report": report, "request_obj": report.request, "reject_form": reject_form,
        }, status=status)
