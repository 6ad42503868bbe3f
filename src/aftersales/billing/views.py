"""CUS-5: a manager's exception on a work order's charge sheet (the sheet itself shows with the work order)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from aftersales.core.errors import DomainError
from aftersales.core.scoping import get_visible_or_404
from aftersales.service.models import WorkOrder
from aftersales.service.views.common import add_domain_error

from . import services
from .forms import ExceptionForm
from .models import ChargeSheet


class SheetException(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    model = WorkOrder
    permission_required = "billing.approve_exception"
    form_class = ExceptionForm
    template_name = "billing/exception.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.has_perm(self.permission_required):
            self.work_order = get_visible_or_404(WorkOrder.objects.select_related("request"), request.user,
                                                 pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        sheet = ChargeSheet.objects.filter(work_order=self.work_order).prefetch_related("lines").first()
        return {**super().get_context_data(**kwargs), "work_order": self.work_order, "sheet": sheet}

    def form_valid(self, form):
        try:
            services.add_exception(work_order=self.work_order, amount=form.cleaned_data["amount"],
                                   reason=form.cleaned_data["reason"], by=self.request.user)
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The exception is on the charge sheet."))
        return redirect(self.work_order.request.get_absolute_url())
