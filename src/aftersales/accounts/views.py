from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from rest_framework.authtoken.models import Token

from aftersales.core import clock
from aftersales.core.scoping import visible
from aftersales.core.views import ScopedDetailView, ScopedListView

from .filters import BranchFilter, StaffFilter
from .models import Branch, OnCallShift, Specialty, User
from .selectors import on_duty_shifts


class BranchList(ScopedListView):
    model = Branch
    permission_required = "accounts.view_branch"
    filterset_class = BranchFilter
    sort_fields = {"name": "name", "code": "code"}
    default_sort = "name"


class BranchDetail(ScopedDetailView):
    model = Branch
    permission_required = "accounts.view_branch"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["staff"] = self.object.staff.filter(is_active=True).order_by("position", "full_name")
        return context


class StaffList(ScopedListView):
    model = User
    permission_required = "accounts.view_user"
    filterset_class = StaffFilter
    sort_fields = {"name": "full_name", "position": "position", "specialty": "specialty", "branch": "branch__name"}
    default_sort = "full_name"

    def base_queryset(self):
        return User.objects.filter(customer__isnull=True, is_active=True).select_related("branch")


class StaffDetail(ScopedDetailView):
    model = User
    permission_required = "accounts.view_user"
    template_name = "accounts/staff_detail.html"

    def base_queryset(self):
        return User.objects.filter(customer__isnull=True).select_related("branch")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["shifts"] = self.object.shifts.select_related("branch")
        context["roles"] = self.object.groups.all()
        return context


class Roster(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """ORG-2: the recurring shifts, and who is on duty right now per branch and specialty."""

    permission_required = "accounts.view_oncallshift"
    template_name = "accounts/roster.html"

    def get_context_data(self, **kwargs):
        now = clock.now()
        shifts = visible(OnCallShift.objects.all(), self.request.user).select_related("user", "branch")
        return {
            **super().get_context_data(**kwargs),
            "now": now,
            "shifts": shifts.order_by("branch__name", "specialty", "weekday", "start_time", "pk"),
            "on_duty": sorted(on_duty_shifts(shifts, at=now), key=lambda s: (s.branch.name, s.specialty)),
            "specialties": Specialty.choices,
        }


class PasswordChange(auth_views.PasswordChangeView):
    """Every logged-in user, staff or a customer's contact, changes their own password (Django's form: the old
    password, then the new one twice through settings.AUTH_PASSWORD_VALIDATORS). The session stays; the user's
    API tokens are deleted (accounts/tokens.py, on the save) — the deletion is repeated here so the page says so."""

    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        Token.objects.filter(user=self.request.user).delete()
        messages.success(self.request, _("Your password was changed. API tokens issued before were revoked."))
        return response
