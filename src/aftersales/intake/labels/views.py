"""Pages of device QR labels (issue 11 §2): the printable label sheet of a project, the scan page a label's QR
code opens, and the reporter's follow page. The rules live in `codes` and `reports`; these views parse and show."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache

from aftersales.assets.models import DeviceCategory
from aftersales.core import clock, site
from aftersales.core.errors import DomainError
from aftersales.core.forms import style_fields
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.core.views import ScopedMixin
from aftersales.customers.models import Project
from aftersales.service import attachments, verbs
from aftersales.service.forms import PortalRequestForm
from aftersales.service.models import Channel, EventKind, ServiceRequest, State
from aftersales.service.views import (
    DEVICE_CHOICES_LIMIT, add_domain_error, device_choices, error_status, priority_choices,
)

from . import codes, reports

# ------------------------------------------------------------------------------------------ label sheet

LAYOUTS = {  # name -> (columns, rows) on an A4 page
    "3x7": (3, 7),
    "2x5": (2, 5),
}


class LabelSheet(ScopedMixin, View):
    """打印设备标签: one project's device labels on A4 pages, several per page, never split across pages."""

    model = Project
    permission_required = "assets.view_device"

    def get(self, request, pk):
        project = get_visible_or_404(Project.objects.select_related("customer"), request.user, pk=pk)
        categories = list(DeviceCategory.objects.filter(devices__project=project, devices__retired_at__isnull=True)
                          .distinct().order_by("name"))
        wanted = request.GET.get("category", "")
        category = next((c for c in categories if str(c.pk) == wanted), None)
        layout = request.GET.get("layout", "") if request.GET.get("layout") in LAYOUTS else "3x7"
        columns, rows = LAYOUTS[layout]
        items = []
        for device in codes.sheet_devices(request.user, project, category.pk if category else None):
            url = codes.scan_url(device.label_code)
            items.append({"device": device, "url": url, "qr": mark_safe(codes.qr_svg(url))})  # segno's own markup
        per_page = columns * rows
        pages = [items[start:start + per_page] for start in range(0, len(items), per_page)]
        return render(request, "intake/label_sheet.html", {
            "project": project, "categories": categories, "category": category, "layout": layout,
            "layouts": list(LAYOUTS), "columns": columns, "rows": rows, "pages": pages, "count": len(items),
            "loopback_site_url": site.loopback_site_url(),
        })


# ------------------------------------------------------------------------------------------ scanning a label

class PublicReportForm(forms.Form):
    """What an anonymous reporter gives: who they are, how to call them back, what is wrong, a photo."""

    reporter_name = forms.CharField(label=gettext_lazy("Your name"), max_length=100)
    reporter_phone = forms.CharField(
        label=gettext_lazy("Your phone"), max_length=40,
        help_text=gettext_lazy("The service desk calls you back on this number."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    description = forms.CharField(label=gettext_lazy("What is wrong?"), max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    photo = forms.FileField(label=gettext_lazy("Photo (optional)"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)
        self.fields["reporter_name"].widget.attrs["autocomplete"] = "name"

    def clean_reporter_phone(self):
        phone = reports.normalize_phone(self.cleaned_data["reporter_phone"])
        if phone is None:
            raise forms.ValidationError(_("Enter a phone number: 7 to 20 digits; + and - are allowed."))
        return phone

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError(_("Say what is wrong."))
        return description

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo:
            return None
        try:
            content_type = attachments.check_upload(photo)  # sniffed from the bytes, size-limited
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        if not content_type.startswith("image/"):
            raise forms.ValidationError(_("The photo must be an image (JPEG, PNG, GIF or WebP)."))
        return photo


class LabelRequestForm(PortalRequestForm):
    """The portal form, opened from a label: the label's project, its device ticked, channel "label"."""

    def __init__(self, *args, device, **kwargs):
        kwargs.setdefault("initial", {"project": device.project_id, "devices": [device.pk]})
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = self.fields["project"].queryset.filter(pk=device.project_id)

    def open_arguments(self) -> dict:
        return {**super().open_arguments(), "channel": Channel.LABEL}


@method_decorator(never_cache, name="dispatch")
class LabelScan(View):
    """The page a label's QR code opens. A user who may report on the device gets the portal form pre-filled
    with the project and the device; anyone else (anonymous, another customer's user, staff who do not see the
    device) gets the public form and sees only what the label shows. An unknown code is a 404."""

    def dispatch(self, request, *args, code, **kwargs):
        self.device = codes.device_for_code(code)
        if self.device is None:
            raise Http404
        self.as_user = codes.may_report_as_user(request.user, self.device)
        self.open_report = reports.open_report_of(self.device)  # one device, one open report (issue 21 §3)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        if self.as_user:
            return self.render_user_form(LabelRequestForm(user=request.user, device=self.device))
        return self.render_public_form(PublicReportForm())

    def post(self, request):
        if self.as_user:
            return self.post_as_user(request)
        form = PublicReportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_public_form(form)
        data = form.cleaned_data
        if self.open_report is not None and request.POST.get("intent") != "separate":
            return self.add_to_open_report(form)
        try:
            created = reports.report_from_label(
                device=self.device, reporter_name=data["reporter_name"], reporter_phone=data["reporter_phone"],
                description=data["description"], photo=data["photo"], address=reports.client_address(request),
            )
        except reports.ReportLimitReached as limited:
            return self.throttled(limited)
        except DomainError as error:
            add_domain_error(form, error)
            return self.render_public_form(form)
        messages.success(request, _("Your report %(number)s is received. The service desk will call you back.")
                         % {"number": created.number})
        return redirect("intake:report_follow", token=created.public_token)

    def add_to_open_report(self, form):
        data, existing = form.cleaned_data, self.open_report
        try:
            reports.add_to_report(
                request=existing, device=self.device, reporter_name=data["reporter_name"],
                reporter_phone=data["reporter_phone"], description=data["description"], photo=data["photo"],
                address=reports.client_address(self.request))
        except reports.ReportLimitReached as limited:
            return self.throttled(limited)
        except DomainError as error:
            add_domain_error(form, error)
            return self.render_public_form(form)
        messages.success(self.request, _("What you saw is added to report %(number)s. The service desk will call you "
                                         "back if they need more.") % {"number": existing.number})
        return redirect("intake:report_follow", token=existing.public_token)

    def throttled(self, limited):
        now = clock.now()
        response = render(self.request, "intake/report_throttled.html", {
            "retry_at": limited.retry_at, "device": self.device,
            "same_day": limited.retry_at.astimezone(clock.SHANGHAI).date() == now.astimezone(clock.SHANGHAI).date(),
        }, status=429)
        response["Retry-After"] = str(limited.retry_after_seconds(now))
        return response

    # -- the public form
    def render_public_form(self, form):
        return render(self.request, "intake/label_report.html", {
            "device": self.device, "form": form, "open_report": self.open_report,
            "open_report_state": State(self.open_report.state).label if self.open_report else "",
        })

    # -- a user who may report on the device: the portal form (service/request_form.html)
    def post_as_user(self, request):
        form = LabelRequestForm(request.POST, request.FILES, user=request.user, device=self.device)
        if form.is_valid():
            try:
                created = verbs.open_request(by=request.user, uploads=form.cleaned_data["attachments"],
                                             **form.open_arguments())
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Request %(number)s is opened.") % {"number": created.number})
                return redirect(created)
        return self.render_user_form(form, status=error_status(request, 422))

    def render_user_form(self, form, status=200):
        project = self.device.project
        devices = device_choices(self.request.user, project)
        if self.device.pk not in {d.pk for d in devices}:  # a big project: the scanned device is listed anyway
            devices.insert(0, self.device)
        open_report = self.open_report
        if open_report is not None and not visible(ServiceRequest.objects.filter(pk=open_report.pk),
                                                   self.request.user).exists():
            open_report = None
        return render(self.request, "service/request_form.html", {
            "open_report": open_report, "open_report_device": self.device,
            "form": form, "desk": False, "priorities": priority_choices(), "selected_project": project,
            "selected_projects": [project], "devices": devices, "selected_devices": form.selected_device_ids(),
            "device_limit": DEVICE_CHOICES_LIMIT,
        }, status=status)


# ------------------------------------------------------------------------------------------ following a report

@method_decorator(never_cache, name="dispatch")
class ReportFollow(View):
    """The reporter's tokened link: that one request's number, state and the steps of its service with their
    times; no names, phones, notes or comments. A wrong token is a 404."""

    def get(self, request, token):
        service_request = reports.request_for_token(token)
        if service_request is None:
            raise Http404
        steps = [{"kind": kind, "label": EventKind(kind).label, "at": at}
                 for kind, at in reports.public_timeline(service_request)]
        response = render(request, "intake/report_follow.html", {
            "number": service_request.number, "state": service_request.state,
            "state_label": State(service_request.state).label, "steps": steps,
        })
        response["Referrer-Policy"] = "no-referrer"  # the token is in the URL
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response
