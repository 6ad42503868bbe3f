"""Forms of the service pages. They parse and check input; the services decide (style.md §5).

Choices of related objects always come from `visible()` (SEC-1: form choices too)."""

import base64
import binascii
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.accounts.models import Branch, Position
from aftersales.assets.models import Device
from aftersales.assets.selectors import retired_refusal
from aftersales.core import clock
from aftersales.core.errors import DomainError
from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.core.forms import style_fields
from aftersales.core.plausible import PlausibleDateTimeField, validate_plausible
from aftersales.core.scoping import SEE_ALL_BRANCHES, visible
from aftersales.customers.models import Customer, Project
from aftersales.parts import services as parts_services
from aftersales.parts.forms import split_serials

from . import attachments, part_lines
from . import search as request_search
from .models import OPEN_STATES, Channel, Priority, ServiceMode, ServiceRequest, State, Target, WorkResult

MAX_FILES = attachments.MAX_FILES
SIGNATURE_MAX_BYTES = 1024 * 1024
DESK_CHANNELS = [Channel.PHONE, Channel.ONSITE, Channel.REMOTE, Channel.EMAIL]
SATISFACTION_CHOICES = [(n, str(n)) for n in range(5, 0, -1)]


# ------------------------------------------------------------------------------------------ uploads

class MultipleFileInput(forms.ClearableFileInput):
    """Several files; with `kept_owner` set (keep_files_for), the files kept from the form's last try come back as
    ticked checkboxes named `<name>-kept` beside the input, and count as chosen again (issue 21 §11)."""

    allow_multiple_selected = True
    kept_owner = ""  # whose kept files this input may take back; "" keeps nothing

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.kept: list[attachments.KeptFile] = []  # shown beside the input when the form comes back
        self.reopened: dict[str, attachments.KeptUpload | None] = {}

    def __deepcopy__(self, memo):
        copied = super().__deepcopy__(memo)  # a widget's copy is shallow: each form gets its own state
        copied.kept, copied.reopened = [], {}
        return copied

    @staticmethod
    def kept_name(name: str) -> str:
        return f"{name}-kept"

    def value_from_datadict(self, data, files, name):
        chosen = super().value_from_datadict(data, files, name)
        if not self.kept_owner:
            return chosen
        tokens = data.getlist(self.kept_name(name))[:MAX_FILES] if hasattr(data, "getlist") else []
        kept = []
        for token in dict.fromkeys(tokens):
            if token not in self.reopened:  # once per form: the bound field reads its data more than once
                self.reopened[token] = attachments.reopen(token, owner=self.kept_owner)
            if self.reopened[token] is not None:
                kept.append(self.reopened[token])
        if not kept:
            return chosen
        return [*kept, *(chosen if isinstance(chosen, (list, tuple)) else [chosen] if chosen else [])]

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        if not self.kept:
            return html
        base = f"{(attrs or {}).get('id') or name}-kept"
        items = format_html_join(
            "", '<div class="form-check kept-file"><input class="form-check-input" type="checkbox" name="{}" value="{}" '
                'id="{}{}" checked> <label class="form-check-label" for="{}{}">{} <span class="text-muted small">{}'
                '</span></label></div>',
            ((self.kept_name(name), kept.token, base, i, base, i, kept.name, filesizeformat(kept.size))
             for i, kept in enumerate(self.kept)))
        return format_html('<div class="kept-files mb-1"><div class="small text-muted">{}</div>{}</div>{}',
                           _("Kept from your last try (untick a file to leave it out); add more below:"), items, html)


class MultipleFileField(forms.FileField):
    """Several files in one input; each is type-sniffed and size-checked before anything is written."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = [item for item in (data if isinstance(data, (list, tuple)) else [data]) if item]
        if not uploads:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(uploads) > MAX_FILES:
            raise forms.ValidationError(_("Attach at most %(n)s files.") % {"n": MAX_FILES})
        cleaned = [super(MultipleFileField, self).clean(upload, initial) for upload in uploads]
        if errors := attachments.check_uploads(cleaned):
            raise forms.ValidationError(errors)
        return cleaned


def keep_files_for(form, user):
    """Issue 21 §11: the form's file inputs keep what `user` chose when the form is sent back with an error."""
    owner = attachments.owner_of(user)
    for field in form.fields.values():
        if isinstance(field.widget, MultipleFileInput):
            field.widget.kept_owner = owner
    return form


def keep_chosen_files(form) -> None:
    """Before a bound form is shown again with its errors: store the files its user chose and show them as kept.

    Only when the error is elsewhere (a missing title, a stale version, a refused transition): when the files
    themselves are refused (type, size, count, or storing them failed), nothing new is written (a bad file writes
    nothing) and the user chooses again with the bad one left out; files kept from an earlier try stay kept. Once per
    form."""
    if not form.is_bound or getattr(form, "files_kept", False):
        return
    form.files_kept = True
    for name, field in form.fields.items():
        widget = field.widget
        if not isinstance(widget, MultipleFileInput) or not widget.kept_owner:
            continue
        data = form[name].data
        chosen = (data if isinstance(data, (list, tuple)) else [data] if data else [])[:MAX_FILES]
        refused = bool(form.errors.get(name))
        widget.kept = [upload.kept if isinstance(upload, attachments.KeptUpload)
                       else attachments.keep(upload, owner=widget.kept_owner)
                       for upload in chosen if isinstance(upload, attachments.KeptUpload) or not refused]


def discard_kept_files(form_class, data, user) -> None:
    """After a form of `form_class` went through: delete the kept files `data` (its POST) carried."""
    owner = attachments.owner_of(user)
    for name, field in form_class.base_fields.items():
        if isinstance(field.widget, MultipleFileInput):
            tokens = data.getlist(MultipleFileInput.kept_name(name))[:MAX_FILES]
            attachments.discard([attachments.reopen(token, owner=owner) for token in tokens])


class VersionForm(forms.Form):
    """Every POST carries the version the user saw; a stale one is a conflict, never a silent overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


def radio(choices, **kwargs):
    return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **kwargs)


# ------------------------------------------------------------------------------------------ intake

class RequestForm(forms.Form):
    """SRQ-1/2: what both intake forms ask. `project` and `devices` choices are the user's scope."""

    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none(),
                                     error_messages={"required": _("Choose the project.")})
    priority = radio(Priority.choices, label=_("Priority"))
    devices = forms.ModelMultipleChoiceField(label=_("Affected devices"), queryset=Device.objects.none(), required=False,
                                             widget=forms.CheckboxSelectMultiple)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))
    business_impact = forms.CharField(label=_("Impact on the business"), widget=forms.Textarea(attrs={"rows": 2}),
                                      required=False)
    attachments = MultipleFileField(label=_("Attachments"),
                                    help_text=_("Screenshots, photos, PDF, ZIP or text logs; at most 10 MB each."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = visible(Project.objects.select_related("customer"), user).order_by("name")
        self.fields["devices"].queryset = visible(Device.objects.all(), user)
        style_fields(self)

    def clean_devices(self):
        devices = self.cleaned_data["devices"]
        if refusal := retired_refusal(devices):  # issue 22 §3: a retired device names the one that replaced it
            raise forms.ValidationError(refusal)
        return devices

    def clean(self):
        data = super().clean()
        project, devices = data.get("project"), data.get("devices")
        if project and devices and any(device.project_id != project.pk for device in devices):
            self.add_error("devices", _("Affected devices must belong to the request's project."))
        return data

    def selected_device_ids(self) -> set[int]:
        values = self["devices"].value() or []
        return {int(v) for v in values if str(v).isdigit()}

    def open_arguments(self) -> dict:
        data = self.cleaned_data
        return {"project": data["project"], "priority": data["priority"], "title": data["title"],
                "description": data["description"], "business_impact": data["business_impact"],
                "devices": list(data["devices"])}


class DeskIntakeForm(RequestForm):
    """The fast phone-call form of the desk: who called, on which channel."""

    channel = radio([(c.value, c.label) for c in DESK_CHANNELS], label=_("Channel"), initial=Channel.PHONE)
    reporter_name = forms.CharField(label=_("Caller"), max_length=100)  # who called, not the desk
    reporter_phone = forms.CharField(label=_("Caller's phone"), max_length=40, required=False)

    def open_arguments(self) -> dict:
        data = self.cleaned_data
        return {**super().open_arguments(), "channel": data["channel"], "reporter_name": data["reporter_name"],
                "reporter_phone": data["reporter_phone"]}


class PortalRequestForm(RequestForm):
    """The customer's own report from the portal."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Choosing the project loads its devices (htmx).
        self.fields["project"].widget.attrs.update({
            "class": "form-select", "hx-get": reverse("service:device_choices"), "hx-trigger": "change",
            "hx-target": "#device-choices", "hx-swap": "outerHTML", "hx-include": "this",
        })

    def open_arguments(self) -> dict:
        return {**super().open_arguments(), "channel": Channel.PORTAL if self.user.customer_id else Channel.ONSITE}


# ------------------------------------------------------------------------------------------ filters

class DeskFilter(StyledFilterSet):
    """The desk queue's filter bar. Choices are scoped; the branch filter is for see-all users only."""

    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=request_search.MAX_LENGTH, widget=forms.TextInput(
        attrs={"placeholder": _("Number, phone, serial, contract, name or title")}))
    branch = ScopedChoiceFilter(Branch, label=_("Branch"))
    customer = ScopedChoiceFilter(Customer, label=_("Customer"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("Priority"))
    state = django_filters.ChoiceFilter(choices=[(s.value, s.label) for s in OPEN_STATES], label=_("State"))
    # Issue 24 §1: the desk home's figures open exactly the rows they count (reports/homes.py counts with risk_q).
    risk = django_filters.ChoiceFilter(method="by_risk", label=_("Risk"), choices=[
        ("overdue", _("Overdue")), ("soon", _("Due soon")), ("ok", _("On track")), ("paused", _("Clock paused"))])
    unassigned = django_filters.BooleanFilter(method="by_unassigned", label=_("Unassigned"))
    BY_METHOD = ("risk", "unassigned")  # not plain lookups: the desk's compiled queue leaves them to the queryset

    class Meta:
        model = ServiceRequest
        fields = ["q", "branch", "customer", "priority", "state"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is None or not request.user.has_perm(SEE_ALL_BRANCHES):
            del self.filters["branch"]
        if type(self) is not DeskFilter:  # the desk's own: lists of every request keep their filter bar
            for name in self.BY_METHOD:
                self.filters.pop(name, None)

    @staticmethod
    def risk_q(risk: str, now) -> Q:
        """An open request's risk as the desk colours it (service_tags.open_risk): overdue (a running target past
        its due time), soon (past a warning time, none due yet), ok (neither), paused. `next_due_at` is the earliest
        due time of the running targets (None while paused)."""
        warned = Exists(Target.objects.filter(request=OuterRef("pk"), started_at__isnull=False, met_at__isnull=True,
                                              warn_at__lte=now))
        if risk == "paused":
            return Q(paused=True)
        if risk == "overdue":
            return Q(paused=False, next_due_at__lte=now)
        not_due = Q(paused=False) & (Q(next_due_at__gt=now) | Q(next_due_at__isnull=True))
        return not_due & (warned if risk == "soon" else ~warned)

    def by_risk(self, queryset, name, value):
        return queryset.filter(self.risk_q(value, clock.now()))

    def by_unassigned(self, queryset, name, value):
        return queryset.filter(assignee__isnull=value)

    def search(self, queryset, name, value):
        one_customer = bool(self.request and self.request.user.customer_id)
        return request_search.search_requests(queryset, value, one_customer=one_customer)  # issue 21 §8, the top bar's too


def opened_day_filter(label):
    """A local (Asia/Shanghai) calendar day of `created_at`; the one date rule (core/plausible.py) keeps the day's
    midnight a valid datetime, as on the API's filters."""
    return django_filters.DateFilter(method="opened_between", label=label,
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                     validators=[validate_plausible])


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


class RequestListFilter(DeskFilter):
    """All requests the user may see, closed ones included; customers get no branch or customer filter.
    `created_from` / `created_to` are local days, both included: the period is [from 00:00, to + 1 day 00:00)."""

    state = django_filters.ChoiceFilter(choices=State.choices, label=_("State"))
    project = ScopedChoiceFilter(Project, label=_("Project"))
    created_from = opened_day_filter(_("Opened from"))
    created_to = opened_day_filter(_("Opened until"))

    class Meta:
        model = ServiceRequest
        fields = ["q", "branch", "customer", "project", "priority", "state", "created_from", "created_to"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if request is not None and request.user.customer_id:
            self.filters.pop("customer", None)

    def opened_between(self, queryset, name, value):
        if name == "created_from":
            return queryset.filter(created_at__gte=local_midnight(value))
        return queryset.filter(created_at__lt=local_midnight(value + timedelta(days=1)))


class CustomerOrderForm(forms.Form):
    """SRQ-2: with several open problems the customer orders them (1 first). One field per open request."""

    def __init__(self, *args, requests, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests = list(requests)
        for request in self.requests:
            self.fields[f"rank_{request.pk}"] = forms.IntegerField(
                label=request.number, min_value=1, max_value=99, required=False, initial=request.customer_rank,
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm rank-input", "style": "width: 5em"}),
            )

    @transaction.atomic
    def save(self) -> int:
        """The customer's own order is a plain field of their requests; nothing else changes."""
        changed = 0
        for request in self.requests:
            if f"rank_{request.pk}" not in self.data:  # on another page of the list: left as it is
                continue
            rank = self.cleaned_data.get(f"rank_{request.pk}")
            if rank != request.customer_rank:
                changed += ServiceRequest.objects.filter(pk=request.pk, state__in=OPEN_STATES).update(customer_rank=rank)
        return changed


# ------------------------------------------------------------------------------------------ desk actions

class ReplyForm(VersionForm):
    mode = radio(ServiceMode.choices, label=_("Service mode"))
    plan = forms.CharField(label=_("Service plan"), widget=forms.Textarea)
    scheduled_for = PlausibleDateTimeField(label=_("Scheduled for"), required=False,
                                           widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                           input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class DispatchForm(VersionForm):
    engineer = forms.ModelChoiceField(label=_("Engineer"), queryset=get_user_model().objects.none(),
                                      error_messages={"required": _("Choose an engineer.")})

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        # The engineers dispatching.suggest considers: the branch's own, and those with a shift there.
        self.fields["engineer"].queryset = (
            get_user_model().objects.filter(customer__isnull=True, is_active=True, position=Position.ENGINEER)
            .filter(Q(branch_id=request.branch_id) | Q(shifts__branch_id=request.branch_id)).distinct()
        )


class ReasonForm(VersionForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ResumeForm(VersionForm):
    pass


class PriorityForm(VersionForm):
    priority = radio(Priority.choices, label=_("New priority"))
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ContingencyForm(VersionForm):
    plan = forms.CharField(label=_("Agreed contingency plan"), widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("E.g. a spare unit lent until the repair is done."))


class AdvisorForm(VersionForm):
    advisor = forms.ModelChoiceField(
        label=_("Technical advisor"),
        # The advisor pool serves every branch (SRQ-9); names of staff only, never customer data.
        queryset=get_user_model().objects.filter(position=Position.TECHNICAL_ADVISOR, is_active=True,
                                                 customer__isnull=True).order_by("full_name", "username"),
    )
    note = forms.CharField(label=_("Question for the advisor"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(VersionForm):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))


# ------------------------------------------------------------------------------------------ engineer

class ArriveForm(forms.Form):
    """Arrival with proof: the browser's position, else a photo, else the customer's confirmation."""

    latitude = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    accuracy = forms.FloatField(required=False, min_value=0, widget=forms.HiddenInput)
    photo = forms.FileField(label=_("Photo of the site"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}))
    confirmed_by_customer = forms.BooleanField(label=_("The customer confirms my arrival"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo:
            try:
                content_type = attachments.check_upload(photo)
            except DomainError as error:
                raise forms.ValidationError(error.message) from None
            if not content_type.startswith("image/"):
                raise forms.ValidationError(_("The arrival photo must be an image."))
        return photo

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise forms.ValidationError(_("Give both latitude and longitude."))
        if data.get("latitude") is None and not data.get("photo") and not data.get("confirmed_by_customer"):
            raise forms.ValidationError(
                _("Arrival needs proof: allow the position, add a photo or have the customer confirm."))
        return data


class WorkOrderForm(VersionForm):
    """SRQ-7: the engineer's work order. Catalogue parts go on PART_ROWS fixed lines (a row without a part is left
    out), each taken from a location the engineer may use, their van by default (issue 22 §7); what is not in the
    catalogue goes in the parts note. `cleaned_data["parts"]` holds the lines for the verb."""

    actions = forms.CharField(label=_("Actions taken"), widget=forms.Textarea(attrs={"rows": 4}))
    parts_used = forms.CharField(label=_("Parts note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                 help_text=_("Anything used that is not in the parts catalogue."))
    minutes_spent = forms.IntegerField(label=_("Time spent (minutes)"), min_value=0, max_value=100000,
                                       widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    result = radio(WorkResult.choices, label=_("Result"))
    attachments = MultipleFileField(label=_("Screenshots"),
                                    help_text=_("Required when the problem is not solved."),
                                    widget=MultipleFileInput(attrs={"accept": "image/*,application/pdf,text/plain"}))

    PART_ROWS = 3

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer = part_lines.offer_for(user)
        # No location to take parts from (no van, no stock to manage): no part rows, the note only.
        self.rows = range(1, self.PART_ROWS + 1) if self.offer.locations else range(0)
        self.line_rows: list[int] = []  # the form row of each line of cleaned_data["parts"]
        part_choices = self.part_choices()
        location_choices = [(pk, location.name if location == self.offer.van else
                             f"{location.name} · {location.branch.name}")
                            for pk, location in self.offer.locations.items()]
        van = self.offer.van.pk if self.offer.van else None
        for row in self.rows:
            self.fields[f"part_{row}"] = forms.TypedChoiceField(
                label=_("Part"), required=False, coerce=int, empty_value=None, choices=part_choices)
            self.fields[f"quantity_{row}"] = forms.IntegerField(
                label=_("Quantity"), required=False, min_value=1, max_value=parts_services.MAX_QUANTITY, initial=1,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
            self.fields[f"location_{row}"] = forms.TypedChoiceField(
                label=pgettext_lazy("part line", "From"), required=False, coerce=int, empty_value=None, initial=van,
                choices=[("", "—"), *location_choices] if van is None else location_choices)
            self.fields[f"serials_{row}"] = forms.CharField(
                label=_("Serial numbers"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 1}),
                help_text=_("Serial-tracked parts only: one per unit, one per line (or scan them)."))
        style_fields(self)

    def part_choices(self) -> list:
        """The parts in the engineer's van first (with how many are left there), then the rest of the catalogue."""
        def label(part):
            text = f"{part.name} · {part.part_number}"
            return f"{text} [SN]" if part.serial_tracked else text

        in_van = [(pk, _("{part} — {n} in the van").format(part=label(self.offer.parts[pk]), n=n))
                  for pk, n in self.offer.in_van.items()]
        others = [(pk, label(part)) for pk, part in self.offer.parts.items() if pk not in self.offer.in_van]
        if not in_van:
            return [("", "—"), *others]
        return [("", "—"), (_("In my van"), in_van), (_("Catalogue"), others)]

    def part_rows(self) -> list[dict]:
        """The rows as the template lays them out: their fields, whether they hold anything."""
        rows = []
        for row in self.rows:
            fields = {name: self[f"{name}_{row}"] for name in part_lines.LINE_FIELDS}
            chosen = self.is_bound and bool(self.data.get(self.add_prefix(f"part_{row}")))
            rows.append({"number": row, "chosen": chosen, "errors": any(field.errors for field in fields.values()),
                         **fields})
        return rows

    def clean(self):
        data = super().clean()
        lines, self.line_rows = [], []
        for row in self.rows:
            part = data.get(f"part_{row}")
            if part is None:
                if data.get(f"serials_{row}", "").strip() and not self.has_error(f"part_{row}"):
                    self.add_error(f"part_{row}", _("Choose the part these serial numbers belong to."))
                continue
            quantity = data.get(f"quantity_{row}")
            if quantity is None:
                if not self.has_error(f"quantity_{row}"):
                    self.add_error(f"quantity_{row}", _("Give the quantity."))
                continue
            location = data.get(f"location_{row}")
            lines.append(part_lines.PartLine(
                part=self.offer.parts[part], quantity=quantity,
                serials=tuple(split_serials(data.get(f"serials_{row}", ""))),
                location=self.offer.locations[location] if location is not None else None))
            self.line_rows.append(row)
        data["parts"] = lines
        return data

    def field_of(self, field: str | None) -> str | None:
        """The form field a verb's refusal is about: a part line's (`parts.<index>.<name>`) is its row's."""
        line = part_lines.parse_line_field(field)
        if line is None:
            return field
        index, name = line
        return f"{name}_{self.line_rows[index]}" if index < len(self.line_rows) else None


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class WorkOrderDecisionForm(StyledForm):
    """The work order and the version the customer saw; shared by the portal and the on-screen signature."""

    work_order = forms.IntegerField(widget=forms.HiddenInput)
    work_order_version = forms.IntegerField(widget=forms.HiddenInput)


class SatisfactionForm(StyledForm):
    satisfaction = forms.TypedChoiceField(label=_("Satisfaction"), choices=SATISFACTION_CHOICES, coerce=int,
                                          widget=forms.RadioSelect, required=False, empty_value=None)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ConfirmForm(WorkOrderDecisionForm, SatisfactionForm):
    pass


class RateForm(WorkOrderDecisionForm):
    """Issue 21 §4: the stars given later, when the confirmation had none."""

    satisfaction = forms.TypedChoiceField(label=_("Satisfaction"), choices=SATISFACTION_CHOICES, coerce=int,
                                          widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(WorkOrderDecisionForm):
    reason = forms.CharField(label=_("Why is the work not accepted?"), widget=forms.Textarea(attrs={"rows": 2}))


class SignatureForm(ConfirmForm):
    """On-screen signature on the engineer's device: a PNG data URL from the signature pad."""

    signer_name = forms.CharField(label=_("Name of the signer"), max_length=100)
    signature = forms.CharField(widget=forms.HiddenInput, error_messages={"required": _("Please sign in the box.")})

    def clean_signature(self):
        value = self.cleaned_data["signature"]
        prefix = "data:image/png;base64,"
        if not value.startswith(prefix):
            raise forms.ValidationError(_("Please sign in the box."))
        try:
            png = base64.b64decode(value[len(prefix):], validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(_("The signature could not be read. Please sign again.")) from None
        if len(png) > SIGNATURE_MAX_BYTES or attachments.sniff(png[:16]) != "image/png":
            raise forms.ValidationError(_("The signature could not be read. Please sign again."))
        return ContentFile(png, name="signature.png")


class LinkConfirmForm(SatisfactionForm):
    """Confirmation by the signed link: no login, so the person gives their name."""

    signer_name = forms.CharField(label=_("Your name"), max_length=100)
    field_order = ["signer_name", "satisfaction", "comment"]


class LinkRejectForm(StyledForm):
    signer_name = forms.CharField(label=_("Your name"), max_length=100)
    reason = forms.CharField(label=_("Why is the work not accepted?"), widget=forms.Textarea(attrs={"rows": 2}))


# ------------------------------------------------------------------------------------------ incident reports (SRQ-8)

class IncidentReportForm(StyledForm):
    """The report's five parts. `report_version` is the report's version the writer saw; empty while none exists."""

    report_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    cause = forms.CharField(label=_("Cause"), widget=forms.Textarea(attrs={"rows": 3}))
    impact = forms.CharField(label=_("Impact"), widget=forms.Textarea(attrs={"rows": 3}))
    timeline = forms.CharField(label=_("Course of events"), widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=_("What happened when, from the first alarm to the recovery."))
    fix = forms.CharField(label=_("Fix"), widget=forms.Textarea(attrs={"rows": 3}))
    prevention = forms.CharField(label=_("Prevention"), widget=forms.Textarea(attrs={"rows": 3}))


class IncidentSubmitForm(StyledForm):
    report_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class IncidentConfirmForm(StyledForm):
    """The customer confirms the report they saw (its version)."""

    report_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class IncidentRejectForm(IncidentConfirmForm):
    reason = forms.CharField(label=_("Why is the report not accepted?"), widget=forms.Textarea(attrs={"rows": 2}))


class IncidentLinkRejectForm(StyledForm):
    """Rejection by the signed link: no login, so the person gives their name with the reason."""

    signer_name = forms.CharField(label=_("Your name"), max_length=100)
    reason = forms.CharField(label=_("Why is the report not accepted?"), widget=forms.Textarea(attrs={"rows": 2}))


class AttachmentsForm(StyledForm):
    attachments = MultipleFileField(label=_("Files"), required=True,
                                    help_text=_("Screenshots, photos, PDF, ZIP or text logs; at most 10 MB each."))
