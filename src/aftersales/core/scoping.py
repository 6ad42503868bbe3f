"""SEC-1: the only door to customer data.

Every list, detail page, export, API view, search and form choice passes its queryset through
`visible()`. A model opts in by declaring two lookup paths:

    scope_customer = "project__customer_id"   # lookup of the owning customer's id
    scope_branch = "project__branch_id"       # lookup of the serving branch's id

`scope_of(user)` makes the one decision: a customer's user sees only its customer's rows; staff with
`see_all_branches` see everything; other staff see their branch; anyone else sees nothing. The decision is
an immutable `Scope` value, `visible()` applies it, and anything scoped that is cached (compiled queries,
filter choices) is keyed by that same value, so a cache can never disagree with the rule.
"""

from dataclasses import dataclass

from django.db.models import Model, QuerySet
from django.http import Http404

SEE_ALL_BRANCHES = "accounts.see_all_branches"

NOBODY, CUSTOMER, BRANCH, EVERYTHING = "nobody", "customer", "branch", "everything"


@dataclass(frozen=True, slots=True)
class Scope:
    """What a user may see: `kind` is one of NOBODY, CUSTOMER, BRANCH, EVERYTHING; `ids` the customer's or the
    branch's id (empty for NOBODY and EVERYTHING)."""

    kind: str
    ids: tuple[int, ...] = ()

    def apply(self, queryset: QuerySet) -> QuerySet:
        model = queryset.model
        if self.kind == EVERYTHING:
            return queryset
        if self.kind == CUSTOMER and model.scope_customer is not None:  # None: staff-only data
            return queryset.filter(**{f"{model.scope_customer}__in": self.ids})
        if self.kind == BRANCH:
            return queryset.filter(**{f"{model.scope_branch}__in": self.ids})
        return queryset.none()


NOTHING = Scope(NOBODY)


def scope_of(user) -> Scope:
    """The one decision of what `user` may see."""
    if not user or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.customer_id:
        return Scope(CUSTOMER, (user.customer_id,))
    if user.has_perm(SEE_ALL_BRANCHES):
        return Scope(EVERYTHING)
    if user.branch_id:
        return Scope(BRANCH, (user.branch_id,))
    return NOTHING


def visible(queryset: QuerySet, user) -> QuerySet:
    return scope_of(user).apply(queryset)


def get_visible_or_404(queryset: QuerySet, user, **lookup) -> Model:
    """A foreign object and a missing one look alike: both are 404."""
    try:
        return visible(queryset, user).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None


def is_staff_member(user) -> bool:
    return bool(user and user.is_authenticated and not user.customer_id)
