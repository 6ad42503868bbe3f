"""Issue 25 §7 reads: the replies a user may manage (their branch's, and for the general manager and the
administrator every one), the ones they see in the list (plus the all-branch ones), and the ones offered on a
request's page (its branch's and the all-branch ones, active)."""

from django.db.models import Q, QuerySet

from aftersales.core.scoping import EVERYTHING, is_staff_member, scope_of, visible

from .models import CannedReply


def manageable(user) -> QuerySet[CannedReply]:
    """What `user` may open and edit: through `visible()`, so an all-branch reply only for those who see all."""
    return visible(CannedReply.objects.all(), user)


def listed(user) -> QuerySet[CannedReply]:
    """The management list: the replies `user` manages and the all-branch ones (read-only for a branch)."""
    if not is_staff_member(user):
        return CannedReply.objects.none()
    if scope_of(user).kind == EVERYTHING:
        return CannedReply.objects.select_related("branch").order_by("title", "pk")
    return (CannedReply.objects.filter(Q(branch__isnull=True) | Q(pk__in=manageable(user).values("pk")))
            .select_related("branch").order_by("title", "pk"))


def visible_replies(user) -> QuerySet[CannedReply]:
    """Every reply `user` may read (the list's rows)."""
    return listed(user)


def offered(user, request) -> QuerySet[CannedReply]:
    """The active replies offered on `request`'s reply and comment forms: the request's branch's and the all-branch
    ones, to staff who may see the request (the caller got it through `visible()`)."""
    if not is_staff_member(user) or not user.has_perm("replies.view_cannedreply"):
        return CannedReply.objects.none()
    return (CannedReply.objects.filter(Q(branch__isnull=True) | Q(branch_id=request.branch_id), active=True)
            .order_by("title", "pk"))
