"""LOG-2 (issue 25 §3): versioned project documents — maintenance procedures, as-built drawings, network plans.

The seed: "使用CVS管理维护过程文档…持续改进及更新文档". A document belongs to a project; every upload is a new
DocumentVersion (1..n, never edited, never deleted) with its author, time, note, size and SHA-256, and the text
extracted from it for the side-by-side diff. A document is internal (our staff) or shared with the customer; a
customer's user sees shared documents only. Passwords do not belong here (documents/extract.py refuses them).

The verbs in documents/services.py are the only writers; files are served only through the scoped download views."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.core.models import TimeStampedModel


class DocumentKind(models.TextChoices):
    PROCEDURE = "procedure", _("Maintenance procedure")  # 维护规程
    AS_BUILT = "as_built", _("As-built drawing")  # 竣工图
    NETWORK = "network", _("Network plan")  # 网络规划
    MANUAL = "manual", _("Manual")  # 操作手册
    OTHER = "other", pgettext_lazy("document kind", "Other")  # 其他


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal")  # 内部
    SHARED = "shared", _("Shared with the customer")  # 与客户共享


def version_path(instance, filename):
    # Never guessable and never served by a media URL: the download views are the only door (lessons.md #7).
    return f"documents/{instance.document_id}/{secrets.token_hex(8)}-{filename[-80:]}"


class Document(TimeStampedModel):
    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="documents",
                                verbose_name=_("project"))
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind of document"), max_length=12, choices=DocumentKind, default=DocumentKind.PROCEDURE)
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility, default=Visibility.INTERNAL)
    current_number = models.PositiveIntegerField(_("current version"), default=0)
    version = models.PositiveIntegerField(default=1)  # concurrent edits (core/versioning.py)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))

    scope_customer = "project__customer_id"
    scope_branch = "project__branch_id"

    class Meta:
        verbose_name = _("project document")
        verbose_name_plural = _("project documents")
        ordering = ["project_id", "title", "pk"]
        indexes = [models.Index(fields=["project", "title"], name="document_project_title"),
                   models.Index(fields=["project", "visibility"], name="document_project_visibility")]
        constraints = [
            models.CheckConstraint(name="document_title_not_blank", condition=~Q(title="")),
            models.CheckConstraint(name="document_kind_known", condition=Q(kind__in=DocumentKind.values)),
            models.CheckConstraint(name="document_visibility_known", condition=Q(visibility__in=Visibility.values)),
        ]
        permissions = [("upload_document", "Upload project documents and new versions"),
                       ("share_document", "Choose whether a document is shared with the customer")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("documents:document_detail", args=[self.pk])

    @property
    def is_shared(self) -> bool:
        return self.visibility == Visibility.SHARED


class DocumentVersion(models.Model):
    """One upload of a document: number 1..n, unique per document; rows are never edited."""

    document = models.ForeignKey(Document, models.CASCADE, related_name="versions", verbose_name=_("document"))
    number = models.PositiveIntegerField(_("version"))
    file = models.FileField(upload_to=version_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField("SHA-256", max_length=64)
    content_type = models.CharField(_("content type"), max_length=100)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("author"))
    created_at = models.DateTimeField(_("uploaded at"))
    note = models.TextField(_("note"), blank=True)
    text = models.TextField(_("extracted text"), null=True, blank=True)  # None: a file with no text (PDF, DWG, image)

    scope_customer = "document__project__customer_id"
    scope_branch = "document__project__branch_id"

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document_id", "-number"]
        indexes = [models.Index(fields=["created_at"], name="docversion_created")]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="docversion_number_unique"),
            models.CheckConstraint(name="docversion_number_positive", condition=Q(number__gte=1)),
        ]

    def __str__(self):
        return f"{self.document_id} v{self.number} {self.original_name}"

    def get_absolute_url(self):
        return reverse("documents:document_detail", args=[self.document_id]) + f"#v{self.number}"

    def get_download_url(self):
        return reverse("documents:version_download", args=[self.pk])

    @property
    def has_text(self) -> bool:
        return self.text is not None
