"""The desk's triage page (issue 11, point 4): mail from unknown senders and unverified label reports.

One page, scoped like everything else (SEC-1): desk staff (service.handle_request) see the waiting mail of
their branch's customers and every mail whose customer is unknown; label reports through `visible()`.
Actions are POSTs to the same page (no object ids in URLs); every object named in a form is looked up
through the same scoped querysets, so a foreign or missing one is a 404.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from aftersales.assets.models import Device
from aftersales.core.errors import DomainError
from aftersales.core.scoping import visible
from aftersales.core.views import ScopedMixin
from aftersales.customers.models import Project
from aftersales.service.models import Priority, ServiceRequest

from ..labels import reports as label_reports
from ..models import InboundMail
from . import triage
from .parsing import parse_or_none, title_of

PAGE_SIZE = 20
REPORTS_LIMIT = 100
PROJECT_RESULTS_LIMIT = 20
PREVIEW_CHARS = 4000


class CreateFromMailForm(forms.Form):
    mail = forms.IntegerField(widget=forms.HiddenInput)
    project = forms.IntegerField(label=gettext_lazy("project"), required=False)
    contract_number = forms.CharField(label=gettext_lazy("or contract number"), max_length=60, required=False)
    priority = forms.ChoiceField(label=gettext_lazy("priority"), choices=Priority.choices, initial=Priority.GENERAL)
    title = forms.CharField(label=gettext_lazy("title"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("project") and not (data.get("contract_number") or "").strip():
            raise forms.ValidationError(_("Choose the project (search, or type its contract number)."))
        return data


class AppendMailForm(forms.Form):
    mail = forms.IntegerField(widget=forms.HiddenInput)
    number = forms.CharField(label=gettext_lazy("request number"), max_length=20)


class DismissMailForm(forms.Form):
    mail = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=500, required=False)


class ConfirmReporterForm(forms.Form):
    request = forms.IntegerField(widget=forms.HiddenInput)


ACTIONS = {"create": CreateFromMailForm, "append": AppendMailForm, "dismiss": DismissMailForm,
           "verify": ConfirmReporterForm}


def _first_error(form) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("The form is not valid.")


class TriagePage(ScopedMixin, View):
    model = InboundMail
    permission_required = "service.handle_request"
    template_name = "intake/triage.html"

    def get(self, request):
        mails = triage.triage_mails(request.user).select_related("customer", "request").order_by("received_at", "pk")
        page = Paginator(mails, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = []
        for mail in page.object_list:
            parsed = parse_or_none(mail)
            text = parsed.text if parsed else ""
            rows.append({
                "mail": mail, "parsed": parsed, "title": title_of(parsed) if parsed else mail.subject,
                "preview": text[:PREVIEW_CHARS], "shortened": len(text) > PREVIEW_CHARS,
                "files": [item.name for item in parsed.files] if parsed else [],
                "projects": (list(visible(Project.objects.filter(customer_id=mail.customer_id), request.user)
                                  .order_by("name", "pk")[:PROJECT_RESULTS_LIMIT]) if mail.customer_id else None),
            })
        reports = list(
            label_reports.unverified_reports(request.user).select_related("project", "customer")
            .prefetch_related(Prefetch("devices", queryset=Device.objects.only("pk", "name", "serial_number", "location")))
            .order_by("created_at", "pk")[:REPORTS_LIMIT]
        )
        return render(request, self.template_name, {
            "page_obj": page, "paginator": page.paginator, "is_paginated": page.has_other_pages(), "querystring": "",
            "rows": rows, "reports": reports, "reports_limit": REPORTS_LIMIT,
            "priorities": Priority.choices,
        })

    def post(self, request):
        form_class = ACTIONS.get(request.POST.get("action", ""))
        if form_class is None:
            messages.error(request, _("Unknown action."))
            return redirect(self.url())
        form = form_class(request.POST)
        if not form.is_valid():
            messages.error(request, _first_error(form))
            return redirect(self.url())
        try:
            text = getattr(self, f"do_{request.POST['action']}")(form.cleaned_data)
        except DomainError as error:  # also IllegalTransition: the mail was handled by someone else meanwhile
            messages.error(request, str(error.message))
        else:
            messages.success(request, text)
        return redirect(self.url())

    def url(self) -> str:
        page = self.request.POST.get("page", "")
        return reverse("intake:mail_triage") + (f"?page={page}" if page.isdigit() else "")

    # -- actions
    def waiting_mail(self, pk) -> InboundMail:
        # any state: a mail handled meanwhile gets "handled already" from the service, not a 404
        found = triage.desk_mails(self.request.user).filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def do_create(self, data) -> str:
        mail = self.waiting_mail(data["mail"])
        projects = visible(Project.objects.all(), self.request.user)
        if data.get("project"):
            project = projects.filter(pk=data["project"]).first()
        else:
            project = projects.filter(contract_number__iexact=data["contract_number"].strip()).first()
        if project is None:
            raise DomainError(_("No such project among yours."))
        created = triage.create_request_from_mail(mail=mail, by=self.request.user, project=project,
                                                  priority=data["priority"], title=data.get("title") or "")
        return _("Request %(number)s is opened from the mail.") % {"number": created.number}

    def do_append(self, data) -> str:
        mail = self.waiting_mail(data["mail"])
        target = visible(ServiceRequest.objects.all(), self.request.user).filter(
            number=data["number"].strip().strip("[]").upper()).first()
        if target is None:
            raise DomainError(_("No such request among yours."))
        triage.append_mail_to_request(mail=mail, by=self.request.user, request=target)
        return _("The mail is added to %(number)s.") % {"number": target.number}

    def do_dismiss(self, data) -> str:
        mail = self.waiting_mail(data["mail"])
        triage.dismiss_mail(mail=mail, by=self.request.user, reason=data.get("reason") or "")
        return _("The mail is dismissed.")

    def do_verify(self, data) -> str:
        target = label_reports.unverified_reports(self.request.user).filter(pk=data["request"]).first()
        if target is None:
            raise Http404
        label_reports.confirm_reporter(request=target, by=self.request.user)
        return _("The reporter of %(number)s is confirmed.") % {"number": target.number}


class ProjectChoices(ScopedMixin, View):
    """htmx: projects matching a name, contract number or customer, as radio buttons of the triage form."""

    model = Project
    permission_required = "service.handle_request"

    def get(self, request):
        query = request.GET.get("q", "").strip()[:100]
        projects = []
        if query:
            projects = list(visible(Project.objects.select_related("customer"), request.user)
                            .filter(Q(name__icontains=query) | Q(contract_number__icontains=query)
                                    | Q(customer__name__icontains=query) | Q(customer__short_name__icontains=query))
                            .order_by("name", "pk")[:PROJECT_RESULTS_LIMIT])
        mail_id = request.GET.get("mail", "")
        return render(request, "intake/triage_projects.html", {
            "projects": projects, "query": query, "limit": PROJECT_RESULTS_LIMIT,
            "uid": mail_id if mail_id.isdigit() else "x",
        })

