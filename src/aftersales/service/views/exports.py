"""Issue 12 (RPT-1): export the service request list. Whoever may see the list may export what it shows: the same
permission, the same `visible()` scope, the same FilterSet and sort keys as `queue.RequestList`."""

from django.contrib import messages
from django.db.models import F
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, pgettext
from django.views import View

from aftersales.core.clock import today
from aftersales.core.views import ScopedMixin

from .. import exporting
from ..forms import RequestListFilter
from ..models import ServiceRequest
from .queue import RequestList

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RequestExport(ScopedMixin, View):
    """The list's rows, filtered and sorted as on the page (`fmt`: csv, streamed; or xlsx). Newest first unless the
    user sorted the list. An invalid or foreign filter value is a 400 naming the filter (the list shows it empty)."""

    model = ServiceRequest
    permission_required = "service.view_servicerequest"
    fmt = "csv"

    def sorted(self, queryset):
        sort = self.request.GET.get("sort", "")
        field = RequestList.sort_fields.get(sort.lstrip("-"))
        if field is None:
            return queryset.order_by("-pk")
        ordered = F(field).desc(nulls_last=True) if sort.startswith("-") else F(field).asc(nulls_last=True)
        return queryset.order_by(ordered, "-pk")

    def filename(self) -> str:
        name = pgettext("file name", "service-requests")  # outside the f-string, where makemessages finds it
        return f"{name}-{today():%Y-%m-%d}.{self.fmt}"

    def get(self, request):
        filterset = RequestListFilter(request.GET or None, queryset=self.get_queryset(), request=request)
        if filterset.is_bound and not filterset.is_valid():
            form = filterset.form
            problems = "; ".join(f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
                                 for name, errors in form.errors.items())
            title = gettext("The export's filters are not valid: %(problems)s") % {"problems": problems}
            return render(request, "core/error.html", {"title": title}, status=400)
        requests = self.sorted(filterset.qs)
        if self.fmt == "xlsx":
            if requests.count() > exporting.XLSX_MAX_ROWS:
                messages.error(request, gettext("Too many requests for one Excel sheet; export them as CSV."))
                return redirect(f"{reverse('service:request_list')}?{request.GET.urlencode()}")
            return FileResponse(exporting.write_xlsx(requests), as_attachment=True, content_type=XLSX_CONTENT_TYPE,
                                filename=self.filename())
        response = StreamingHttpResponse(exporting.stream_csv(requests), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, self.filename())
        return response
