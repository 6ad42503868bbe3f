from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import ListView

from aftersales.core.clock import today
from aftersales.core.errors import DomainError
from aftersales.core.scoping import get_visible_or_404
from aftersales.core.views import ScopedCreateView, ScopedDetailView, ScopedListView, ScopedMixin, ScopedUpdateView
from aftersales.customers.models import Project

from . import exporting, importing
from .filters import DeviceFilter
from .forms import DeviceForm
from .models import IN_SERVICE, Device
from .selectors import expiring, in_service_successor

DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 3650


class DeviceList(ScopedListView):
    model = Device
    permission_required = "assets.view_device"
    filterset_class = DeviceFilter
    sort_fields = {
        "name": "name", "serial": "serial_number", "model": "model", "category": "category__name",
        "project": "project__name", "warranty_end": "warranty_end", "installed": "installed_on",
    }

    def base_queryset(self):
        return Device.objects.select_related("project", "category", "manufacturer")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "today": today()}


class DeviceDetail(ScopedDetailView):
    model = Device
    permission_required = "assets.view_device"

    def base_queryset(self):
        # A retired device's page opens too (issue 22 §3): its history, and the device that replaced it.
        return Device.objects.select_related("project__customer", "category", "manufacturer", "replaced_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["today"] = today()
        context["warranty"] = self.object.warranty_status(context["today"])
        if self.object.retired_at is not None and self.object.replaced_by_id is not None:
            context["in_service_now"] = in_service_successor(self.object.replaced_by)
        return context


class DeviceCreate(ScopedCreateView):
    model = Device
    form_class = DeviceForm
    permission_required = "assets.add_device"
    extra_context = {"form_title": _("New device")}

    def get_initial(self):
        project_id = self.request.GET.get("project")
        return {"project": project_id} if project_id and project_id.isdigit() else {}


class DeviceUpdate(ScopedUpdateView):
    model = Device
    form_class = DeviceForm
    permission_required = "assets.change_device"


class WarrantyExpiring(ScopedMixin, ListView):
    """CUS-4: devices whose warranty ends within N days (`?days=`)."""

    model = Device
    permission_required = "assets.view_device"
    paginate_by = 50
    template_name = "assets/warranty_expiring.html"

    def days(self) -> int:
        try:
            return max(0, min(int(self.request.GET.get("days", DEFAULT_EXPIRY_DAYS)), MAX_EXPIRY_DAYS))
        except ValueError:
            return DEFAULT_EXPIRY_DAYS

    def get_queryset(self):
        scoped = super().get_queryset().filter(IN_SERVICE).select_related("project__customer", "category", "manufacturer")
        return expiring(scoped, within_days=self.days())

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "days": self.days(), "today": today(), "querystring": f"days={self.days()}"}


# ---------------------------------------------------------------------------------------------- CUS-3 import / export


class DeviceImportForm(forms.Form):
    file = forms.FileField(
        label=_("Device list (.xlsx or .csv)"),
        widget=forms.FileInput(attrs={"accept": ".xlsx,.csv", "class": "form-control"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            importing.check_upload(upload.name, upload.size)
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        return upload


class DeviceImportMixin(ScopedMixin):
    """Import needs both adding and changing devices; everything it touches is scoped to the user."""

    model = Device
    permission_required = ("assets.add_device", "assets.change_device")

    def project_from(self, value):
        if value in (None, ""):
            return None
        if not str(value).isdigit():
            raise Http404
        return get_visible_or_404(Project.objects.all(), self.request.user, pk=value)

    def render_upload(self, *, form=None, project=None, error=None):
        return render(self.request, "assets/device_import.html", {
            "form": form or DeviceImportForm(), "project": project, "upload_error": error,
            "columns": importing.COLUMNS, "max_mb": importing.MAX_BYTES // 2**20, "max_rows": importing.MAX_ROWS,
        })

    def render_preview(self, token, plan, project):
        shown = plan.rejected_rows[:PREVIEW_ROWS]
        shown += [row for row in plan.rows if not row.errors][: PREVIEW_ROWS - len(shown)]
        shown.sort(key=lambda row: row.line)
        return render(self.request, "assets/device_import_preview.html", {
            "plan": plan, "counts": plan.counts, "rows": shown, "hidden_rows": len(plan.rows) - len(shown),
            "token": token, "project": project, "file_name": plan.file.name,
        })

    def load(self, token):
        """(project, parsed file) of this user's stashed upload; StashExpired / ImportFileError otherwise."""
        payload, data = importing.unstash(self.request.user, token)
        project = self.project_from(payload.get("p"))
        return project, importing.parse(payload["n"], data, contract_optional=project is not None)


PREVIEW_ROWS = 1000  # rows shown on the preview page (every row with an error among them); all rows are imported


class DeviceImport(DeviceImportMixin, View):
    """Step 1: upload. The file is checked, kept for this user, and the preview follows."""

    def get(self, request):
        return self.render_upload(project=self.project_from(request.GET.get("project")))

    def post(self, request):
        project = self.project_from(request.POST.get("project"))
        form = DeviceImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_upload(form=form, project=project)
        upload = form.cleaned_data["file"]
        data = upload.read(importing.MAX_BYTES + 1)
        try:
            importing.parse(upload.name, data, contract_optional=project is not None)
        except DomainError as error:
            form.add_error("file", error.message)
            return self.render_upload(form=form, project=project)
        token = importing.stash(request.user, upload.name, data, project)
        return redirect(f"{reverse('assets:device_import_preview')}?{urlencode({'token': token})}")


class DeviceImportPreview(DeviceImportMixin, View):
    """Step 2: what each row will do (GET), and step 3: confirm, which writes everything or nothing (POST)."""

    def get(self, request):
        token = request.GET.get("token", "")
        if not token:
            return self.render_upload()
        try:
            project, parsed = self.load(token)
            plan = importing.plan(parsed, request.user, default_project=project)
        except DomainError as error:
            return self.render_upload(error=error.message)
        return self.render_preview(token, plan, project)

    def post(self, request):
        token = request.POST.get("token", "")
        try:
            project, parsed = self.load(token)
        except DomainError as error:
            return self.render_upload(error=error.message)
        try:
            _plan, result = importing.commit(
                parsed, request.user, default_project=project, expected_fingerprint=request.POST.get("fingerprint", ""),
                **importing.request_address(request),
            )
        except (importing.RowErrors, importing.PlanChanged) as error:
            messages.error(request, error.message)
            return self.render_preview(token, error.plan, project)
        except DomainError as error:
            messages.error(request, error.message)
            return self.render_preview(token, importing.plan(parsed, request.user, default_project=project), project)
        importing.discard(request.user, token)
        counts = {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
        if result.written:
            messages.success(request, gettext(
                "Import finished: %(created)d devices created, %(updated)d updated, %(unchanged)d unchanged."
            ) % counts)
        else:
            messages.info(request, gettext("Nothing was written: all %(unchanged)d rows already match the registry.") % counts)
        url = reverse("assets:device_list")
        return redirect(f"{url}?{urlencode({'project': project.pk})}" if project else url)


class DeviceImportRejected(DeviceImportMixin, View):
    """The rejected rows of an upload as CSV, with the reasons: fix them and upload that file again."""

    def get(self, request):
        try:
            project, parsed = self.load(request.GET.get("token", ""))
            plan = importing.plan(parsed, request.user, default_project=project)
        except DomainError as error:
            return self.render_upload(error=error.message)
        response = StreamingHttpResponse(exporting.rejected_rows_csv(plan), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            True, f"{pgettext('file name', 'rejected-rows')}-{today():%Y-%m-%d}.csv"
        )
        return response


class DeviceImportTemplate(DeviceImportMixin, View):
    """An empty .xlsx with the import's headers."""

    def get(self, request):
        return FileResponse(
            exporting.write_xlsx(None), as_attachment=True, content_type=XLSX_CONTENT_TYPE,
            filename=f"{pgettext('file name', 'device-import-template')}.xlsx",
        )


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DeviceExport(ScopedMixin, View):
    """The device list as the user filtered and sorted it, in the import's format (`fmt`: csv or xlsx)."""

    model = Device
    permission_required = "assets.view_device"
    fmt = "csv"

    def devices(self):
        queryset = self.get_queryset()
        filterset = DeviceFilter(self.request.GET or None, queryset=queryset, request=self.request)
        queryset = filterset.qs if not filterset.is_bound or filterset.is_valid() else queryset.none()
        sort = self.request.GET.get("sort", "")
        if sort.lstrip("-") in DeviceList.sort_fields:
            field = DeviceList.sort_fields[sort.lstrip("-")]
            return queryset.order_by(f"-{field}" if sort.startswith("-") else field, "-pk")
        return queryset.order_by("project__contract_number", "name", "pk")

    def filename(self) -> str:
        return f"{pgettext('file name', 'devices')}-{today():%Y-%m-%d}.{self.fmt}"

    def get(self, request):
        devices = self.devices()
        if self.fmt == "xlsx":
            if devices.count() > exporting.XLSX_MAX_ROWS:
                messages.error(request, gettext("Too many devices for one Excel sheet; export them as CSV."))
                return redirect(f"{reverse('assets:device_list')}?{request.GET.urlencode()}")
            return FileResponse(
                exporting.write_xlsx(devices), as_attachment=True, content_type=XLSX_CONTENT_TYPE,
                filename=self.filename(),
            )
        response = StreamingHttpResponse(exporting.stream_csv(devices), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, self.filename())
        return response
