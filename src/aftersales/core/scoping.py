"""SEC-1: the only door to customer data.

Every list, detail page, export, API view, search and form choice passes its queryset through
`visible()`. A model opts in by declaring two lookup paths:

    scope_customer = "project__customer_id"   # lookup of the owning customer's id
    scope_branch = "project__branch_id"       # lookup of the serving branch's id

A customer's user sees only its customer's rows; staff with `see_all_branches` see everything;
other staff see their branch; anyone else sees nothing.
"""

from django.db.models import Model, QuerySet
from django.http import Http404

SEE_ALL_BRANCHES = "accounts.see_all_branches"


def visible(queryset: QuerySet, user) -> QuerySet:
    model = queryset.model
    if not user or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.customer_id:
        if model.scope_customer is None:  # staff-only data
            return queryset.none()
        return queryset.filter(**{model.scope_customer: user.customer_id})
    if user.has_perm(SEE_ALL_BRANCHES):
        return queryset
    if user.branch_id:
        return queryset.filter(**{model.scope_branch: user.branch_id})
    return queryset.none()


def scope_key(user) -> tuple:
    """Users with the same key see the same rows through visible()."""
    if not user or not user.is_authenticated or not user.is_active:
        return ("nobody",)
    if user.customer_id:
        return ("customer", user.customer_id)
    if user.has_perm(SEE_ALL_BRANCHES):
        return ("all",)
    if user.branch_id:
        return ("branch", user.branch_id)
    return ("nobody",)


def get_visible_or_404(queryset: QuerySet, user, **lookup) -> Model:
    """A foreign object and a missing one look alike: both are 404."""
    try:
        return visible(queryset, user).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None


def is_staff_member(user) -> bool:
    return bool(user and user.is_authenticated and not user.customer_id)
