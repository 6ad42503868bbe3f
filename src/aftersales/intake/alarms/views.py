"""Pages of the alarm channel (issue 11 §3–4): the unmatched alarms and the integration keys.

For the desk (service.handle_request) and administrators, scoped by the customer's branch (SEC-1). Mapping,
replaying and dismissing unmatched events needs intake.add_devicealias; creating and deactivating keys
intake.add_integrationkey / intake.change_integrationkey (administrators). Actions post to the list page
itself, so no page takes an object id in its path.
"""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from aftersales.assets.models import Device
from aftersales.core.errors import DomainError
from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.core.forms import style_fields
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.core.views import ScopedListView, ScopedMixin
from aftersales.customers.models import Customer, Project

from ..models import AlarmEvent, AlarmOutcome, IntegrationKey
from . import desk, keys, receiving, rules

DESK_PERM = "service.handle_request"
MAP_PERM = "intake.add_devicealias"
ADD_KEY_PERM = "intake.add_integrationkey"
CHANGE_KEY_PERM = "intake.change_integrationkey"


def _posted_object(request, queryset, name):
    """The object named by a POST field, if the user may see it; anything else is a 404."""
    value = request.POST.get(name, "")
    if not value.isdigit():
        raise Http404
    return get_visible_or_404(queryset, request.user, pk=int(value))


# ------------------------------------------------------------------------------------------ unmatched alarms

class UnmatchedFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=gettext_lazy("Search"))
    customer = ScopedChoiceFilter(Customer, label=gettext_lazy("Customer"))
    alarm_type = django_filters.CharFilter(label=gettext_lazy("Alarm type"))

    class Meta:
        model = AlarmEvent
        fields = ["q", "customer", "alarm_type"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(reason__icontains=value) | Q(key__name__icontains=value))


class MapForm(forms.Form):
    serial = forms.CharField(label=gettext_lazy("Serial number"), max_length=100)
    manufacturer = forms.CharField(label=gettext_lazy("Manufacturer"), max_length=100, required=False)
    replay = forms.BooleanField(label=gettext_lazy("Replay its events"), required=False)


class UnmatchedAlarms(ScopedListView):
    """Events for devices we could not find, with the reason; map an external id, replay, or dismiss."""

    model = AlarmEvent
    permission_required = DESK_PERM
    filterset_class = UnmatchedFilter
    template_name = "intake/alarm_unmatched.html"
    sort_fields = {"received": "received_at"}
    default_sort = "-received_at"

    def base_queryset(self):
        return AlarmEvent.objects.filter(outcome=AlarmOutcome.UNMATCHED).select_related("key__project", "customer")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_map"] = self.request.user.has_perm(MAP_PERM)
        context["alarm_types"] = {k: str(v) for k, v in rules.ALARM_TYPES.items()}
        return context

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm(MAP_PERM):
            raise PermissionDenied
        event = _posted_object(request, AlarmEvent.objects.select_related("key__customer", "key__project"), "event")
        action = request.POST.get("action")
        try:
            if action == "map":
                self._map(request, event)
            elif action == "replay":
                result = desk.replay(event, by=request.user)
                level = messages.WARNING if result.outcome == AlarmOutcome.UNMATCHED else messages.SUCCESS
                messages.add_message(request, level, result.message)
            elif action == "dismiss":
                desk.dismiss(event, by=request.user)
                messages.success(request, _("The event is set aside; it stays in the record."))
            else:
                raise Http404
        except DomainError as error:
            messages.error(request, error.message)
        return redirect(reverse("intake:alarm_unmatched") + (f"?{request.GET.urlencode()}" if request.GET else ""))

    def _map(self, request, event):
        form = MapForm(request.POST)
        if not form.is_valid():
            raise DomainError(_("Give the serial number of the device to map to."))
        probe = receiving.AlarmInput(alarm_type=event.alarm_type, raised=True, serial=form.cleaned_data["serial"].strip(),
                                  manufacturer=form.cleaned_data["manufacturer"].strip())
        device, reason = receiving.resolve_device(event.key, probe)
        if device is None or not visible(Device.objects.filter(pk=device.pk), request.user).exists():
            raise DomainError(reason or _("No such device."))
        alias, results = desk.map_external_id(event, device=device, by=request.user,
                                                replay_events=form.cleaned_data["replay"])
        opened = sum(1 for r in results if r.outcome == AlarmOutcome.OPENED)
        messages.success(request, _("“%(id)s” now means %(device)s; %(n)s event(s) handled, %(opened)s request(s) opened.") % {
            "id": alias.external_id, "device": device.name, "n": len(results), "opened": opened})


# ------------------------------------------------------------------------------------------ integration keys

class KeyFilter(StyledFilterSet):
    customer = ScopedChoiceFilter(Customer, label=gettext_lazy("Customer"))
    active = django_filters.BooleanFilter(label=gettext_lazy("Active"))

    class Meta:
        model = IntegrationKey
        fields = ["customer", "active"]


class IntegrationKeys(ScopedListView):
    model = IntegrationKey
    permission_required = DESK_PERM
    filterset_class = KeyFilter
    template_name = "intake/key_list.html"
    sort_fields = {"name": "name", "used": "last_used_at", "created": "created_at"}

    def base_queryset(self):
        return IntegrationKey.objects.select_related("customer", "project", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_add"] = self.request.user.has_perm(ADD_KEY_PERM)
        context["can_change"] = self.request.user.has_perm(CHANGE_KEY_PERM)
        return context

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm(CHANGE_KEY_PERM) or request.POST.get("action") != "deactivate":
            raise PermissionDenied
        key = _posted_object(request, IntegrationKey.objects.all(), "key")
        keys.deactivate_key(key)
        messages.success(request, _("Key “%(name)s” is deactivated: its events are refused from now on.") % {"name": key.name})
        return redirect("intake:key_list")


class KeyForm(forms.Form):
    customer = forms.ModelChoiceField(label=gettext_lazy("Customer"), queryset=Customer.objects.none())
    project = forms.ModelChoiceField(label=gettext_lazy("Project"), queryset=Project.objects.none(), required=False,
                                     help_text=gettext_lazy("Empty: every project of the customer."))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("The monitoring system it is for, e.g. “Zabbix 天网机房”."))
    auto_close_recovered = forms.BooleanField(
        label=gettext_lazy("Close recovered requests automatically"), required=False, initial=True,
        help_text=gettext_lazy("A cleared alarm closes its request if nobody was dispatched yet; otherwise the desk decides."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = visible(Customer.objects.order_by("name"), user)
        self.fields["project"].queryset = visible(Project.objects.select_related("customer").order_by("customer__name", "name"), user)
        style_fields(self)

    def clean(self):
        data = super().clean()
        customer, project = data.get("customer"), data.get("project")
        if customer and project and project.customer_id != customer.pk:
            self.add_error("project", _("The project must belong to the customer."))
        return data


class IntegrationKeyCreate(ScopedMixin, View):
    """Create a key; the answer shows it once (never stored, never redirected through a session)."""

    model = IntegrationKey
    permission_required = ADD_KEY_PERM

    def get(self, request):
        return self._form(KeyForm(user=request.user))

    def post(self, request):
        form = KeyForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                key, plain = keys.create_key(by=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                response = render(request, "intake/key_created.html", {
                    "key": key, "plain_key": plain,
                    "endpoint": request.build_absolute_uri(reverse("alarm-event-list")),
                })
                response["Cache-Control"] = "no-store"
                return response
        return self._form(form, status=422 if request.htmx else 200)

    def _form(self, form, status=200):
        return render(self.request, "intake/key_form.html", {"form": form}, status=status)
