"""Generic, scoped page views. Every list and detail page goes through `visible()` (SEC-1)."""

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _
from django.views.generic import CreateView, DetailView, UpdateView
from django_filters.views import FilterView

from . import history
from .errors import DomainError, StaleObject
from .scoping import get_visible_or_404, is_staff_member, visible

MAX_PAGE_SIZE = 100


class ScopedMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Login, a model permission, and the scoped queryset."""

    model = None

    def base_queryset(self):
        return self.model._default_manager.all()

    def get_queryset(self):
        return visible(self.base_queryset(), self.request.user)

    def get_permission_required(self):
        if self.permission_required is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must name its permission")
        return super().get_permission_required()


class CountedBy:
    """A queryset as Django's Paginator reads it, counted by `count` (e.g. a compiled query); its pages are the
    queryset's own slices."""

    def __init__(self, queryset, count):
        self.queryset, self.count = queryset, count

    def __getitem__(self, window):
        return self.queryset[window]

    @property
    def ordered(self) -> bool:
        return self.queryset.ordered


class CountUpTo:
    """The rows of a queryset counted up to `limit` (one query, which stops there)."""

    def __init__(self, queryset, limit: int):
        self.queryset, self.limit = queryset, limit

    def count(self) -> int:
        return self.queryset.order_by()[:self.limit].count()


class ScopedListView(ScopedMixin, FilterView):
    """A list page with search (`q` through the FilterSet), filters, sorting (`sort`) and pagination."""

    paginate_by = 25
    sort_fields: dict[str, str] = {}  # ?sort=key -> order_by field; "-key" sorts descending
    default_sort = "-pk"
    template_name_suffix = "_list"
    # A search's matches are counted up to this many, the page then says "more than": counting every request a common
    # word finds among a million costs more than the page itself (bench/NOTES.md, issue 21 §8).
    search_count_limit: int | None = None

    def searching(self) -> bool:
        return bool(self.request.GET.get("q", "").strip())

    def paginate_queryset(self, queryset, page_size):
        limit = self.search_count_limit
        if limit and self.searching() and not isinstance(queryset, CountedBy):
            queryset = CountedBy(queryset, CountUpTo(queryset, limit + 1).count)
        return super().paginate_queryset(queryset, page_size)

    def get_paginate_by(self, queryset):
        try:
            size = int(self.request.GET.get("size", self.paginate_by))
        except ValueError:
            size = self.paginate_by
        return max(1, min(size, MAX_PAGE_SIZE))

    def current_sort(self) -> str:
        wanted = self.request.GET.get("sort", "")
        return wanted if wanted.lstrip("-") in self.sort_fields else ""

    def requested_ordering(self, *, tiebreak: str = "-pk") -> tuple | None:
        """`order_by` arguments of the order the user clicked (empty values last), or None when none was asked for."""
        sort = self.current_sort()
        if not sort:
            return None
        field = F(self.sort_fields[sort.lstrip("-")])
        return field.desc(nulls_last=True) if sort.startswith("-") else field.asc(nulls_last=True), tiebreak

    def sorted_by_request(self, queryset, *, tiebreak: str = "-pk"):
        """The queryset in the order the user clicked, or None when no sort was asked for."""
        ordering = self.requested_ordering(tiebreak=tiebreak)
        return None if ordering is None else queryset.order_by(*ordering)

    def get_queryset(self):
        queryset = super().get_queryset()
        by_request = self.sorted_by_request(queryset)
        if by_request is not None:
            return by_request
        return queryset.order_by(self.default_sort, "-pk") if self.default_sort != "-pk" else queryset.order_by("-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["querystring"] = query.urlencode()
        query.pop("sort", None)
        context["sort_querystring"] = query.urlencode()
        context["current_sort"] = self.current_sort()
        context["sort_fields"] = self.sort_fields
        paginator, limit = context.get("paginator"), self.search_count_limit
        capped = paginator is not None and limit and self.searching() and paginator.count > limit
        context["count_over"] = limit if capped else None
        return context


class ScopedDetailView(ScopedMixin, DetailView):
    def get_object(self, queryset=None):
        return get_visible_or_404(self.base_queryset(), self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if is_staff_member(self.request.user):
            context["audit_entries"] = history.audit_entries(self.object)
        return context


class AtomicFormMixin:
    """Each form submission is one transaction; a DomainError becomes a form error."""

    def form_valid(self, form):
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except DomainError as error:
            form.add_error(error.field, error.message)
            return self.form_invalid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 422 if self.request.htmx else 200
        return response


class ScopedUpdateView(ScopedMixin, AtomicFormMixin, UpdateView):
    """Edits are compare-and-set on `updated_at`: the second of two concurrent edits gets a form error."""

    template_name = "core/form.html"

    def get_object(self, queryset=None):
        return get_visible_or_404(self.base_queryset(), self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["edit_version"] = self.object.updated_at.isoformat()
        return context

    def form_valid(self, form):
        seen = self.request.POST.get("edit_version")
        try:
            with transaction.atomic():
                current = type(self.object)._default_manager.select_for_update().filter(pk=self.object.pk)
                current_version = current.values_list("updated_at", flat=True).first()
                if seen is None or current_version is None or current_version.isoformat() != seen:
                    raise StaleObject()
                self.object = self.save_form(form)
        except DomainError as error:
            form.add_error(error.field, error.message)
            return self.form_invalid(form)
        return redirect(self.get_success_url())

    def save_form(self, form):
        return form.save()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class ScopedCreateView(ScopedMixin, AtomicFormMixin, CreateView):
    template_name = "core/form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


def error_page(request, status: int, code: str, title) -> HttpResponse:
    """Django's own error answers (an unknown URL, a broken request, a crash): a page for people, the API's error
    body `{code, detail}` in JSON for API clients."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "detail": str(title)}, status=status)
    return render(request, "core/error.html", {"title": title}, status=status)


def bad_request(request, exception=None):
    return error_page(request, 400, "bad_request", _("Bad request"))


def permission_denied(request, exception=None):
    return error_page(request, 403, "permission_denied", _("You may not open this page."))


def page_not_found(request, exception=None):
    return error_page(request, 404, "not_found", _("Not found"))


def server_error(request):
    return error_page(request, 500, "server_error", _("Something went wrong on our side."))


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: without an answer, a 404 line for every visitor."""
    return redirect(static("aftersales/favicon.svg"), permanent=True)
