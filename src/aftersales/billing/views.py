"""CUS-5: a manager's exception on the charge sheet of a work order or of a repair case (the sheet itself shows with
the work order and on the case page)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from aftersales.core.errors import DomainError
from aftersales.core.scoping import get_visible_or_404
from aftersales.repairs.models import RepairCase
from aftersales.service.models import WorkOrder
from aftersales.service.views.common import add_domain_error

from . import services
from .forms import ExceptionForm
from .models import ChargeSheet


class SheetException(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    """The exception page of a work order's sheet; RepairSheetException below for a repair case's."""

    model = WorkOrder
    permission_required = "billing.approve_exception"
    form_class = ExceptionForm
    template_name = "billing/exception.html"
    owner = "work_order"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.has_perm(self.permission_required):
            self.job = get_visible_or_404(self.jobs(), request.user, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def jobs(self):
        return WorkOrder.objects.select_related("request")

    def back(self) -> tuple[str, str]:
        request = self.job.request
        return request.get_absolute_url(), f"{request.number} {request.title}"

    def get_context_data(self, **kwargs):
        sheet = ChargeSheet.objects.filter(**{self.owner: self.job}).prefetch_related("lines").first()
        back_url, back_label = self.back()
        return {**super().get_context_data(**kwargs), "sheet": sheet, "back_url": back_url, "back_label": back_label}

    def form_valid(self, form):
        try:
            services.add_exception(**{self.owner: self.job}, amount=form.cleaned_data["amount"],
                                   reason=form.cleaned_data["reason"], by=self.request.user)
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The exception is on the charge sheet."))
        return redirect(self.back()[0])


class RepairSheetException(SheetException):
    model = RepairCase
    owner = "repair_case"

    def jobs(self):
        return RepairCase.objects.select_related("device")

    def back(self) -> tuple[str, str]:
        return self.job.get_absolute_url() + "#charge-sheet", f"{self.job.number} {self.job.device.name}"
