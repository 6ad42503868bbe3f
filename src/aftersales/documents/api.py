"""Project documents over the API (LOG-2, issue 25 §3): scoped lists and details; create a document with its first
version and upload a new version (multipart); change the visibility; read versions and download their files.

A customer's user sees shared documents only (an internal one is a 404, like another customer's). A stale `version`
is a 409 with nothing written; bad input (a password in the file, the same file again, too large) a 400 with the
field."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.api_base import (
    AuditActorMixin,
    ErrorOut,
    ScopedPrimaryKeyField,
    require_perm,
    requires,
)
from aftersales.core.api_settings import VerbPermissions
from aftersales.customers.models import Project

from . import selectors, services
from .filters import DocumentFilter, VersionFilter
from .models import Document, DocumentKind, DocumentVersion, Visibility
from .views import SHARE, UPLOAD, version_response

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class DocumentVersionOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.display_name", default=None, read_only=True)
    has_text = serializers.SerializerMethodField(help_text="False: a file with no text to compare (PDF, drawing, "
                                                          "image).")
    download_url = serializers.CharField(source="get_download_url", read_only=True,
                                         help_text="The scoped download page.")

    class Meta:
        model = DocumentVersion
        fields = ["id", "document", "number", "original_name", "size", "sha256", "content_type", "author",
                  "created_at", "note", "has_text", "download_url"]

    def get_has_text(self, version) -> bool:
        with_text = getattr(version, "with_text", None)  # annotated by the lists (the text itself is not loaded)
        return bool(with_text) if with_text is not None else version.text is not None


class DocumentOut(serializers.ModelSerializer):
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Document
        fields = ["id", "project", "title", "kind", "visibility", "current_number", "version", "created_at",
                  "updated_at", "url"]


class DocumentIn(serializers.Serializer):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.INTERNAL)
    file = serializers.FileField(allow_empty_file=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class DocumentVersionIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                       help_text="The document's `version` you saw: a concurrent upload is a 409.")
    file = serializers.FileField(allow_empty_file=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class DocumentVisibilityIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    visibility = serializers.ChoiceField(choices=Visibility.choices)


class DocumentViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    """LOG-2: project documents in the caller's scope (a customer's user: the shared ones)."""

    queryset = Document.objects.all()  # always narrowed by get_queryset()
    serializer_class = DocumentOut
    filterset_class = DocumentFilter
    permission_classes = [VerbPermissions]

    def get_queryset(self):
        return selectors.visible_documents(self.request.user).order_by("-updated_at", "-pk")

    def data(self, serializer) -> dict:
        data = serializer(data=self.request.data, context={"user": self.request.user})
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    @extend_schema(request={"multipart/form-data": DocumentIn}, responses={201: DocumentOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        """A new document of a project with its first version (multipart `file`)."""
        require_perm(request, UPLOAD)
        data = self.data(DocumentIn)
        document = services.create_document(by=request.user, project=data["project"], title=data["title"],
                                            kind=data["kind"], visibility=data["visibility"], upload=data["file"],
                                            note=data["note"])
        return Response(DocumentOut(document).data, status=201)

    @extend_schema(request={"multipart/form-data": DocumentVersionIn}, responses={201: DocumentVersionOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(UPLOAD)
    def versions(self, request, pk=None):
        """Upload version n+1 (multipart `file`, with the document's `version`)."""
        document = self.get_object()  # scoped: another customer's is a 404 whatever the body says
        data = self.data(DocumentVersionIn)
        row = services.add_version(document=document, by=request.user, version=data["version"], upload=data["file"],
                                   note=data["note"])
        return Response(DocumentVersionOut(row).data, status=201)

    @extend_schema(request=DocumentVisibilityIn, responses={200: DocumentOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(SHARE)
    def visibility(self, request, pk=None):
        """Internal, or shared with the customer."""
        document = self.get_object()
        data = self.data(DocumentVisibilityIn)
        services.set_visibility(document=document, by=request.user, **data)
        return Response(DocumentOut(Document.objects.get(pk=document.pk)).data)


class DocumentVersionViewSet(AuditActorMixin, viewsets.ReadOnlyModelViewSet):
    """LOG-2: the versions of the documents in the caller's scope, and their files."""

    queryset = DocumentVersion.objects.all()  # always narrowed by get_queryset()
    serializer_class = DocumentVersionOut
    permission_classes = [VerbPermissions]
    filterset_class = VersionFilter

    def get_queryset(self):
        return (selectors.with_text_flag(selectors.visible_versions(self.request.user)).select_related("author")
                .order_by("-created_at", "-pk"))

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ErrorOut})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The version's file, under its original name."""
        return version_response(self.get_object())


def register(router) -> None:
    router.register("documents", DocumentViewSet, basename="document")
    router.register("document-versions", DocumentVersionViewSet, basename="documentversion")
