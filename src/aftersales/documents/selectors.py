"""Reads of project documents. The one rule beyond the scope: a customer's user sees shared documents only (an
internal one is a 404 for them, exactly like a missing one). helper A's history lists rows through these."""

from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet

from aftersales.core.scoping import visible

from .models import Document, DocumentVersion, Visibility


def visible_documents(user) -> QuerySet[Document]:
    """Exactly the documents `user` may see: their scope, and for a customer's user the shared ones only."""
    queryset = visible(Document.objects.all(), user)
    if user.is_authenticated and user.customer_id:
        queryset = queryset.filter(visibility=Visibility.SHARED)
    return queryset


def visible_versions(user) -> QuerySet[DocumentVersion]:
    """Exactly the versions `user` may see (those of visible_documents)."""
    queryset = visible(DocumentVersion.objects.all(), user)
    if user.is_authenticated and user.customer_id:
        queryset = queryset.filter(document__visibility=Visibility.SHARED)
    return queryset


def document_list(user) -> QuerySet[Document]:
    """Documents with their project, customer and current version's author, newest change first."""
    return visible_documents(user).select_related("project__customer").order_by("-updated_at", "-pk")


def project_documents(user, project) -> QuerySet[Document]:
    return visible_documents(user).filter(project=project).order_by("kind", "title", "pk")


def history(document) -> QuerySet[DocumentVersion]:
    """A document's versions, newest first, without the (possibly large) extracted text."""
    return with_text_flag(document.versions.select_related("author")).order_by("-number")


def with_text_flag(versions: QuerySet[DocumentVersion]) -> QuerySet[DocumentVersion]:
    """Versions without their (possibly large) text, with `with_text`: whether they have one to compare."""
    return versions.defer("text").annotate(
        with_text=ExpressionWrapper(Q(text__isnull=False), output_field=BooleanField()))


def current_versions(documents) -> dict[int, DocumentVersion]:
    """The current version of each of `documents` (one query, whatever their number), keyed by document id."""
    ids = [document.pk for document in documents]
    if not ids:
        return {}
    rows = (DocumentVersion.objects.filter(document_id__in=ids, number=F("document__current_number"))
            .select_related("author").defer("text"))
    return {row.document_id: row for row in rows}
