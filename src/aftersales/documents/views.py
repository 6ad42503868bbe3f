"""Pages of project documents (LOG-2, issue 25 §3): the list of all documents in the user's scope, a project's
documents, a document with its version history, uploading a document or a new version, the visibility (staff),
the side-by-side diff of two versions, and the scoped downloads.

A customer's user sees shared documents only: an internal one is a 404, exactly like a missing one. Downloads are
served by these views (FileResponse with the original name), never by a media URL."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from aftersales.core.rows import row_id
from aftersales.core.scoping import get_visible_or_404, is_staff_member
from aftersales.core.views import ScopedListView, ScopedMixin
from aftersales.core.verb_forms import error_status, run_verb
from aftersales.customers.models import Project

from . import diffing, selectors, services
from .filters import DocumentFilter
from .forms import DocumentForm, UploadVersionForm, VisibilityForm
from .models import Document, DocumentVersion

VIEW = "documents.view_document"
VIEW_VERSION = "documents.view_documentversion"
UPLOAD = "documents.upload_document"
SHARE = "documents.share_document"


def document_for(user, pk) -> Document:
    return get_visible_or_404(selectors.visible_documents(user).select_related("project__customer"), user, pk=pk)


class DocumentList(ScopedListView):
    """Every document the user may see, newest change first."""

    model = Document
    permission_required = VIEW
    filterset_class = DocumentFilter
    template_name = "documents/document_list.html"

    def get_queryset(self):
        return selectors.document_list(self.request.user)

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if not is_staff_member(self.request.user):
            filterset.filters.pop("visibility", None)  # a customer's user sees shared documents only
        return filterset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        documents = list(context["object_list"])
        current = selectors.current_versions(documents)
        context["rows"] = [(document, current.get(document.pk)) for document in documents]
        context["is_customer"] = not is_staff_member(self.request.user)
        return context


class ProjectDocuments(ScopedMixin, View):
    """A project's documents (linked from the project page)."""

    model = Project
    permission_required = VIEW

    def get(self, request, pk):
        project = get_visible_or_404(Project.objects.select_related("customer"), request.user, pk=pk)
        documents = list(selectors.project_documents(request.user, project))
        current = selectors.current_versions(documents)
        rows = [(document, current.get(document.pk)) for document in documents]
        return render(request, "documents/project_documents.html", {
            "project": project, "rows": rows, "can_upload": request.user.has_perm(UPLOAD),
            "is_customer": not is_staff_member(request.user)})


class DocumentCreate(ScopedMixin, View):
    """A new document of a project, with its first version."""

    model = Project
    permission_required = UPLOAD

    def project(self):
        return get_visible_or_404(Project.objects.select_related("customer"), self.request.user, pk=self.kwargs["pk"])

    def render(self, project, form, status=200):
        return render(self.request, "documents/document_form.html", {"project": project, "form": form},
                      status=status)

    def get(self, request, pk):
        return self.render(self.project(), DocumentForm())

    def post(self, request, pk):
        project = self.project()
        form = DocumentForm(request.POST, request.FILES)
        created = []
        status = run_verb(form, lambda data: created.append(services.create_document(
            by=request.user, project=project, title=data["title"], kind=data["kind"], visibility=data["visibility"],
            upload=data["file"], note=data["note"])))
        if status:
            return self.render(project, form, error_status(request, status))
        messages.success(request, _("The document is saved as version 1."))
        return redirect(created[0])


class DocumentDetail(ScopedMixin, View):
    """A document and its version history: number, author, time, note, size, download, diff with the previous."""

    model = Document
    permission_required = VIEW

    def get(self, request, pk):
        document = document_for(request.user, pk)
        versions = list(selectors.history(document))
        staff = is_staff_member(request.user)
        return render(request, "documents/document_detail.html", {
            "document": document, "versions": versions, "is_customer": not staff,
            "can_upload": staff and request.user.has_perm(UPLOAD),
            "can_share": staff and request.user.has_perm(SHARE)})


class DocumentAction(ScopedMixin, View):
    """One verb on one document: GET shows its form, POST runs it."""

    model = Document
    form_class = UploadVersionForm
    template_name = "documents/version_form.html"

    def make_form(self, document, data=None, files=None):
        return self.form_class(data, files, initial={"version": document.version})

    def render(self, document, form, status=200):
        return render(self.request, self.template_name, {"document": document, "form": form}, status=status)

    def get(self, request, pk):
        document = document_for(request.user, pk)
        return self.render(document, self.make_form(document))

    def post(self, request, pk):
        document = document_for(request.user, pk)
        form = self.make_form(document, request.POST, request.FILES)
        status = run_verb(form, lambda data: self.perform(document, data))
        if status:
            return self.render(document, form, error_status(request, status))
        messages.success(request, self.success_message(document))
        return redirect(document)


class UploadVersion(DocumentAction):
    """Version n+1 of a document. The document's version the user saw is compared (a concurrent upload → 409)."""

    permission_required = UPLOAD

    def perform(self, document, data):
        self.added = services.add_version(document=document, by=self.request.user, version=data["version"],
                                          upload=data["file"], note=data["note"])

    def success_message(self, document):
        return _("Version %(n)s is saved.") % {"n": self.added.number}


class ChangeVisibility(DocumentAction):
    """Internal, or shared with the customer (staff)."""

    permission_required = SHARE
    form_class = VisibilityForm
    template_name = "documents/visibility_form.html"

    def make_form(self, document, data=None, files=None):
        return self.form_class(data, initial={"version": document.version, "visibility": document.visibility})

    def perform(self, document, data):
        services.set_visibility(document=document, by=self.request.user, version=data["version"],
                                visibility=data["visibility"])

    def success_message(self, document):
        return _("Visibility changed: %(visibility)s.") % {"visibility": document.get_visibility_display()}


class DocumentDiff(ScopedMixin, View):
    """Two versions side by side (?from=<n>&to=<m>; by default the current one and the one before it). Files without
    text (PDF, drawings, images) have no text diff: the page offers both downloads."""

    model = Document
    permission_required = VIEW

    def number(self, name, default):
        raw = self.request.GET.get(name)
        if raw in (None, ""):
            return default
        value = row_id(raw)
        if value is None:
            raise Http404
        return value

    def get(self, request, pk):
        document = document_for(request.user, pk)
        to = self.number("to", document.current_number)
        start = self.number("from", to - 1)
        wanted = {n for n in (start, to) if n >= 1}
        found = {row.number: row for row in document.versions.select_related("author").filter(number__in=wanted)}
        if wanted - found.keys():
            raise Http404
        old, new = found.get(start), found.get(to)
        diff = None
        if old is not None and new is not None and old.text is not None and new.text is not None:
            diff = diffing.side_by_side(old.text, new.text)
        numbers = list(range(document.current_number, 0, -1))
        return render(request, "documents/document_diff.html", {
            "document": document, "old": old, "new": new, "diff": diff, "numbers": numbers,
            "is_customer": not is_staff_member(request.user)})


class VersionDownload(ScopedMixin, View):
    """The only way to a version's file: scoped (an internal document's is a 404 for a customer), never a media
    URL, always as an attachment under its original name (RFC 5987 for Chinese names: FileResponse does it)."""

    model = DocumentVersion
    permission_required = VIEW_VERSION

    def get(self, request, pk):
        version = get_visible_or_404(selectors.visible_versions(request.user).defer("text"), request.user, pk=pk)
        return version_response(version)


def version_response(version) -> HttpResponse:
    try:
        handle = version.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=version.original_name,
                            content_type=version.content_type or "application/octet-stream")
    response["Content-Security-Policy"] = "sandbox"  # an uploaded file never runs as our page
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=0"
    return response
