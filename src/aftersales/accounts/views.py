from base64 import b32encode

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import (
    LoginRequiredMixin,
    PermissionRequiredMixin,
    UserPassesTestMixin,
)
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from aftersales.core import clock
from aftersales.core.scoping import is_staff_member, visible
from aftersales.core.views import ScopedDetailView, ScopedListView

from . import otp
from .filters import BranchFilter, StaffFilter
from .forms import (
    CodeForm,
    PasswordResetForm,
    RemoveDeviceForm,
    SetPasswordForm,
    reset_allowed,
)
from .lockout import client_ip, forget_failures, lockout_response
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
    API tokens die with the save (accounts/tokens.py)."""

    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed. API tokens issued before were revoked."))
        return response


class PasswordReset(auth_views.PasswordResetView):
    """Issue 20, point 1: any user, staff or a customer's contact, asks for a reset link by mail. The answer is the
    same whether the address belongs to an account or not; a mail goes out at most RESETS_PER_ADDRESS times an hour
    per address (accounts/forms.py). The link is built on settings.SITE_URL, not on the request's Host header."""

    form_class = PasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_extra_email_context(self) -> dict:
        return {"site_url": settings.SITE_URL.rstrip("/"), "minutes": settings.PASSWORD_RESET_TIMEOUT // 60}

    def form_valid(self, form):
        if not reset_allowed(form.cleaned_data["email"], client_ip(self.request)):
            return HttpResponseRedirect(self.get_success_url())  # the same answer, no mail
        self.extra_email_context = self.get_extra_email_context()
        return super().form_valid(form)


class PasswordResetDone(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    """The link from the mail: a new password, twice, through the validators. The link works once (the token holds
    the password's hash and the last login) and expires after settings.PASSWORD_RESET_TIMEOUT. The new password
    ends the user's sessions and revokes their API tokens (accounts/tokens.py)."""

    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def safe_next(request, default: str) -> str:
    """The `next` parameter if it points into this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def grouped(text: str, size: int = 4) -> str:
    return " ".join(text[i:i + size] for i in range(0, len(text), size))


class TwoFactor(LoginRequiredMixin, UserPassesTestMixin, TemplateView):
    """Issue 20, point 1: a staff member turns the second factor on (a pending device: its QR code and key, confirmed
    by one of its codes) or off (with the password or a current code). POST `action`: start, confirm or remove."""

    template_name = "accounts/two_factor.html"

    def test_func(self):
        return is_staff_member(self.request.user)

    def get_context_data(self, **kwargs):
        user = self.request.user
        device = otp.confirmed_device(user)
        pending = None if device else otp.pending_device(user)
        context = {
            **super().get_context_data(**kwargs),
            "device": device,
            "pending": pending,
            "required": otp.required(user),
            "next": safe_next(self.request, ""),
            "confirm_form": kwargs.get("confirm_form") or CodeForm(),
            "remove_form": kwargs.get("remove_form") or RemoveDeviceForm(),
        }
        if pending is not None:
            context["qr_uri"] = segno.make(pending.config_url, error="m").svg_data_uri(scale=5, border=2)
            context["secret"] = grouped(b32encode(pending.bin_key).decode())
        return context

    def post(self, request, *args, **kwargs):
        user, action = request.user, request.POST.get("action")
        here = otp.step_url(otp.ENROL, safe_next(request, "") or None)  # this page again, with its `next`
        if action == "start" and otp.confirmed_device(user) is None:
            otp.start_enrolment(user)
            return redirect(here)
        if action == "confirm":
            form = CodeForm(request.POST)
            device = otp.confirm_enrolment(user, form.cleaned_data["code"]) if form.is_valid() else None
            if device is None:
                if form.is_valid():
                    form.add_error("code", _("This code is not right. Check the time on your phone and enter the "
                                             "code now shown."))
                return self.render_to_response(self.get_context_data(confirm_form=form))
            django_otp.login(request, device)
            otp.remember(request, user)
            messages.success(request, _("Two-factor authentication is on. From now on you will be asked for a code "
                                        "after your password."))
            return redirect(safe_next(request, reverse("accounts:two_factor")))
        if action == "remove":
            form = RemoveDeviceForm(request.POST)
            if form.is_valid() and otp.remove_devices(user, form.cleaned_data["password"]):
                otp.remember(request, user)
                messages.success(request, _("Two-factor authentication is off."))
                return redirect("accounts:two_factor")
            if form.is_valid():
                otp.record_failure(request, user)
                if otp.locked(request, user):
                    logout(request)
                    return lockout_response(request)
                form.add_error("password", _("Neither your password nor a current code."))
            return self.render_to_response(self.get_context_data(remove_form=form))
        return redirect(here)


class TwoFactorVerify(FormView):
    """Issue 20, point 1: after the password, the code from the authenticator app. A wrong code is a failed login for
    the lockout (django-axes): at the limit the session is logged out and the account or address locked."""

    form_class = CodeForm
    template_name = "accounts/two_factor_verify.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return auth_views.redirect_to_login(request.get_full_path())
        if user.is_verified() or otp.confirmed_device(user) is None:
            otp.remember(request, user)  # e.g. the device was removed by an administrator meanwhile
            return redirect(safe_next(request, resolve_url(settings.LOGIN_REDIRECT_URL)))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "next": safe_next(self.request, "")}

    def form_valid(self, form):
        request, user = self.request, self.request.user
        if otp.locked(request, user):
            logout(request)
            return lockout_response(request)
        if otp.must_wait(user):
            form.add_error("code", _("Several wrong codes in a row: wait a few seconds, then enter the code now "
                                     "shown."))
            return self.form_invalid(form)
        device = otp.verified_device(user, form.cleaned_data["code"])
        if device is None:
            otp.record_failure(request, user)
            if otp.locked(request, user):
                logout(request)
                return lockout_response(request)
            form.add_error("code", _("This code is not right. Enter the code now shown by your authenticator app."))
            return self.form_invalid(form)
        django_otp.login(request, device)
        if settings.AXES_ENABLED:
            forget_failures(request, user)
        return redirect(safe_next(request, resolve_url(settings.LOGIN_REDIRECT_URL)))
