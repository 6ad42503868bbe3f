"""Filters of the document list, for the page and the API alike."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.customers.models import Project

from .models import Document, DocumentKind, DocumentVersion, Visibility

MAX_SEARCH = 100


class DocumentFilter(StyledFilterSet):
    project = ScopedChoiceFilter(Project, label=_("Project"))
    kind = filters.ChoiceFilter(label=_("Kind of document"), choices=DocumentKind.choices)
    visibility = filters.ChoiceFilter(label=_("Visibility"), choices=Visibility.choices)
    q = filters.CharFilter(label=_("Search"), method="search", max_length=MAX_SEARCH,
                           help_text="Words of the title or of the project's name.")

    class Meta:
        model = Document
        fields = ["project", "kind", "visibility", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(project__name__icontains=value))


class VersionFilter(filters.FilterSet):
    document = filters.NumberFilter(field_name="document_id", min_value=1, max_value=2**63 - 1,
                                    help_text="The versions of one document (newest first).")

    class Meta:
        model = DocumentVersion
        fields = ["document"]
