"""The engineer's verbs on site (SRQ-5, SRQ-7) and the customer's confirmation of a work order: signed on the
engineer's screen, or in the portal."""

from django import forms
from django.contrib import messages
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.scoping import get_visible_or_404

from .. import part_lines, verbs
from ..actions import awaiting_work_order, unrated_work_order
from ..forms import ArriveForm, ConfirmForm, RateForm, RejectForm, SignatureForm, WorkOrderForm, keep_files_for
from ..models import State, WorkOrder
from .common import add_domain_error, done, error_status, request_queryset, safe_next
from .request_actions import KeepsChosenFiles, RequestAction

# -- the engineer's verbs: the state machine guards them (a second tap is an IllegalTransition), so a
# priority change by the desk meanwhile does not block an engineer standing on site.


class EngineerAction(RequestAction):
    form_class = forms.Form
    expanded = True

    @classmethod
    def initial(cls, request_obj):
        return {}


class Depart(EngineerAction):
    name, title = "depart", gettext_lazy("Depart")
    submit_label = gettext_lazy("Depart")
    success_message = gettext_lazy("Departure recorded.")

    def perform(self, request_obj, form):
        verbs.depart(request=request_obj, by=self.request.user)


class Arrive(EngineerAction):
    name, title = "arrive", gettext_lazy("Arrive on site")
    form_class = ArriveForm
    partial = "service/_arrive_panel.html"
    submit_label = gettext_lazy("Arrive")
    success_message = gettext_lazy("Arrival recorded.")

    def perform(self, request_obj, form):
        data = form.cleaned_data
        verbs.arrive(request=request_obj, by=self.request.user, latitude=data["latitude"], longitude=data["longitude"],
                     accuracy_m=data["accuracy"], photo=data["photo"] or None,
                     confirmed_by_customer=data["confirmed_by_customer"])


class Leave(EngineerAction):
    name, title = "leave", gettext_lazy("Leave the site")
    submit_label = gettext_lazy("Leave")
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("Leaving recorded.")

    def perform(self, request_obj, form):
        verbs.leave(request=request_obj, by=self.request.user)


class SubmitWorkOrder(KeepsChosenFiles, EngineerAction):
    name, title = "work_order", gettext_lazy("Work order")
    form_class = WorkOrderForm
    partial = "service/_work_order_form.html"
    submit_label = gettext_lazy("Submit the work order")
    success_message = gettext_lazy("The work order is submitted and waits for the customer's confirmation.")

    @classmethod
    def initial(cls, request_obj):
        return {"version": request_obj.version}

    @classmethod
    def make_form(cls, request_obj, user, data=None, files=None):
        # The part lines offer what this user may take out of where (their van first): the form needs the user.
        return keep_files_for(cls.form_class(data, files, initial=cls.initial(request_obj), user=user), user)

    on_site = False

    def perform(self, request_obj, form):
        data = form.cleaned_data
        try:
            verbs.submit_work_order(request=request_obj, by=self.request.user, version=data["version"],
                                    actions=data["actions"], minutes_spent=data["minutes_spent"],
                                    result=data["result"], parts_used=data["parts_used"], parts=data["parts"],
                                    uploads=data["attachments"])
        except DomainError as error:
            error.field = form.field_of(error.field)  # a refused part line: under its row's field
            raise
        self.on_site = request_obj.state == State.ON_SITE

    def post(self, request, pk):
        response = super().post(request, pk)
        if self.on_site and response.status_code in (204, 302):
            # On site the customer signs next (SRQ-7: the engineer leaves only after the confirmation).
            return done(request, reverse("service:sign", args=[pk]))
        return response


# -- confirmation of a work order: on the engineer's screen with a signature, or in the portal

class WithWorkOrders:
    """An action on one of the request's work orders: the request is read with them (and their engineers)."""

    def get_object(self):
        queryset = request_queryset().prefetch_related("work_orders__engineer")
        request_obj = get_visible_or_404(queryset, self.request.user, pk=self.kwargs["pk"])
        part_lines.attach(request_obj.work_orders.all())  # the summary the customer confirms shows them
        return request_obj


class WorkOrderDecision(WithWorkOrders, RequestAction):
    """Confirm or reject the work order awaiting confirmation (`decision` = confirm / reject)."""

    confirm_form, reject_form = ConfirmForm, RejectForm
    expanded = True
    via = ""

    @classmethod
    def initial(cls, request_obj):
        work_order = awaiting_work_order(request_obj)
        return {"work_order": work_order.pk, "work_order_version": work_order.version} if work_order else {}

    @classmethod
    def make_form(cls, request_obj, user, data=None, files=None, decision="confirm"):
        form_class = cls.reject_form if decision == "reject" else cls.confirm_form
        return form_class(data, files, initial=cls.initial(request_obj), prefix=decision)

    @classmethod
    def panel(cls, http_request, request_obj, form=None, *, available):
        panel = super().panel(http_request, request_obj, form, available=available)
        bound_reject = form is not None and isinstance(form, cls.reject_form)
        panel["confirm_form"] = cls.make_form(request_obj, http_request.user) if bound_reject or form is None else form
        panel["reject_form"] = form if bound_reject else cls.make_form(request_obj, http_request.user, decision="reject")
        panel["work_order"] = awaiting_work_order(request_obj)
        return panel


    def post(self, request, pk):
        request_obj = self.get_object()
        decision = "reject" if request.POST.get("decision") == "reject" else "confirm"
        form = self.make_form(request_obj, request.user, request.POST, request.FILES, decision=decision)
        status = 422
        if form.is_valid():
            try:
                work_order = get_visible_or_404(WorkOrder.objects.filter(request=request_obj), request.user,
                                                pk=form.cleaned_data["work_order"])
                if decision == "reject":
                    self.reject(work_order, form)
                else:
                    self.confirm(work_order, form)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                if decision == "reject":
                    messages.warning(request, _("The work is rejected; the request is reopened."))
                else:
                    messages.success(request, _("The work order is confirmed; the request is closed."))
                return done(request, safe_next(request, self.success_url(request_obj)))
        if status == 409:
            request_obj = self.get_object()
        return self.render(request_obj, form, status=error_status(request, status))

    def success_url(self, request_obj):
        return request_obj.get_absolute_url()

    def reject(self, work_order, form):
        data = form.cleaned_data
        verbs.reject_work_order(work_order=work_order, by=self.request.user, reason=data["reason"], via=self.via,
                                version=data["work_order_version"])


class ConfirmInPortal(WorkOrderDecision):
    """The customer's user confirms or rejects in the portal (SRQ-7)."""

    name, title = "confirm", gettext_lazy("Confirm the work")
    partial = "service/_confirm_form.html"
    via = "portal"

    def confirm(self, work_order, form):
        data = form.cleaned_data
        verbs.confirm_work_order(work_order=work_order, by=self.request.user, via=self.via,
                                 version=data["work_order_version"], satisfaction=data["satisfaction"],
                                 comment=data["comment"])


class SignOnScreen(WorkOrderDecision):
    """The customer signs on the engineer's screen (signature pad → PNG). The signer is the customer's
    person on site, who has no login: the work order records their name and signature, not a user."""

    name, title = "sign", gettext_lazy("Customer's signature")
    partial = "service/_signature_form.html"
    confirm_form = SignatureForm
    via = "signature"

    def confirm(self, work_order, form):
        data = form.cleaned_data
        verbs.confirm_work_order(work_order=work_order, by=None, signer_name=data["signer_name"], via=self.via,
                                 version=data["work_order_version"], signature=data["signature"],
                                 satisfaction=data["satisfaction"], comment=data["comment"])

    def reject(self, work_order, form):
        # Recorded by the engineer on whose screen the customer refused to sign.
        data = form.cleaned_data
        verbs.reject_work_order(work_order=work_order, by=self.request.user, reason=data["reason"], via="onsite",
                                version=data["work_order_version"])

    def success_url(self, request_obj):
        return reverse("service:my_work")


class RateWorkOrder(WithWorkOrders, RequestAction):
    """Issue 21 §4: the customer rates a work order they confirmed without the stars."""

    name, title = "rate", gettext_lazy("Rate the work")
    form_class = RateForm
    partial = "service/_rate_form.html"
    submit_label = gettext_lazy("Send the rating")
    success_message = gettext_lazy("Thank you for the rating.")

    @classmethod
    def initial(cls, request_obj):
        work_order = unrated_work_order(request_obj)
        return {"work_order": work_order.pk, "work_order_version": work_order.version} if work_order else {}

    @classmethod
    def extra_context(cls, http_request, request_obj):
        return {"work_order": unrated_work_order(request_obj)}


    def perform(self, request_obj, form):
        data = form.cleaned_data
        work_order = get_visible_or_404(WorkOrder.objects.filter(request=request_obj), self.request.user,
                                        pk=data["work_order"])
        verbs.rate_work_order(work_order=work_order, by=self.request.user, version=data["work_order_version"],
                              satisfaction=data["satisfaction"], comment=data["comment"])
