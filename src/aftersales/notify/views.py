"""NOT-1 pages: my notifications, my channels, and (administrators) what has not gone out."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.generic import FormView, ListView

from aftersales.core.errors import DomainError

from . import selectors, services, sms
from .forms import PreferenceForm, enqueue_robot_test


def _ids(raw_values) -> list[int]:
    try:
        return [int(value) for value in raw_values]
    except (TypeError, ValueError):
        raise BadRequest(_("A notification is named by its number.")) from None


def _querystring(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class NotificationList(LoginRequiredMixin, ListView):
    """The user's own in-app notifications, newest first. POST: `read` (an id), `read_all`, or `open` (an id:
    mark it read and follow its link)."""

    template_name = "notify/notification_list.html"
    context_object_name = "notifications"
    paginate_by = 25

    def get_queryset(self):
        return selectors.inbox(self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"querystring": _querystring(self.request)}

    def post(self, request):
        if "read_all" in request.POST:
            services.mark_read(user=request.user)
            return redirect("notify:notification_list")
        opened = _ids(request.POST.getlist("open"))
        services.mark_read(user=request.user, ids=opened or _ids(request.POST.getlist("read")))
        if opened:
            notification = selectors.inbox(request.user).filter(pk=opened[0]).first()
            if notification is None:
                raise Http404
            if notification.url and _is_ours(notification.url, request):
                return redirect(notification.url)
        return redirect(request.get_full_path())


def _is_ours(url: str, request) -> bool:
    """Follow only links into this application (a notification's link may be absolute, built on SITE_URL)."""
    from urllib.parse import urlsplit

    hosts = {request.get_host(), urlsplit(settings.SITE_URL).netloc}
    return url_has_allowed_host_and_scheme(url, allowed_hosts=hosts, require_https=request.is_secure())


class PreferenceUpdate(LoginRequiredMixin, FormView):
    """NOT-1, issue 21 §12: users choose their channels: email, in-app, their own robot, SMS. The `test` button saves
    and sends one test message to their robot through the outbox."""

    template_name = "notify/preferences.html"
    form_class = PreferenceForm

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"sms_enabled": sms.enabled()}

    def form_valid(self, form):
        form.save()
        if "test" in self.request.POST:
            if enqueue_robot_test(self.request.user):
                messages.success(self.request, _("Saved. A test message is on its way to your robot."))
            else:
                messages.error(self.request, _("Enter your robot's address before sending a test message."))
            return redirect("notify:preferences")
        messages.success(self.request, _("Your notification channels are saved."))
        return redirect("notify:notification_list")


class Outbox(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """Administrators: messages not delivered yet or given up, with their last error. POST `retry` (an id)
    sends a given-up message once more."""

    permission_required = "notify.view_outboxmessage"
    template_name = "notify/outbox.html"
    context_object_name = "outbox_messages"
    paginate_by = 50
    states = ("failed", "pending")

    def current_state(self) -> str:
        state = self.request.GET.get("state", "")
        return state if state in self.states else ""

    def get_queryset(self):
        return selectors.undelivered(self.current_state())

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {
            "querystring": _querystring(self.request), "state": self.current_state(),
            "can_retry": self.request.user.has_perm("notify.change_outboxmessage")}

    def post(self, request):
        if not request.user.has_perm("notify.change_outboxmessage"):
            raise PermissionDenied
        ids = _ids(request.POST.getlist("retry"))
        if len(ids) != 1:
            raise BadRequest(_("Name one message to retry."))
        try:
            services.retry(message_id=ids[0], by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The message will be sent again now."))
        return redirect(request.get_full_path())
