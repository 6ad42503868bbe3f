"""Issue 25 §7: the verbs on canned replies. A branch's desk and managers write their branch's; only those who see
every branch write an all-branch reply. Edits compare the version the user saw (a stale one is a 409)."""

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from aftersales.core.errors import DomainError
from aftersales.core.scoping import BRANCH, EVERYTHING, scope_of
from aftersales.core.versioning import claim_version

from .models import CannedReply

MAX_BODY = 4000


def check_branch(user, branch) -> None:
    scope = scope_of(user)
    if scope.kind == EVERYTHING:
        return
    if scope.kind == BRANCH and branch is not None and branch.pk in scope.ids:
        return
    raise DomainError(_("You manage the replies of your own branch only."), field="branch")


def clean(title, body) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise DomainError(_("Give the reply a title."), field="title")
    if not body:
        raise DomainError(_("Write the reply's text."), field="body")
    if len(title) > 100:
        raise DomainError(_("At most 100 characters."), field="title")
    if len(body) > MAX_BODY:
        raise DomainError(_("At most 4000 characters."), field="body")
    return title, body


def create_reply(*, by, branch, title: str, body: str, active: bool = True) -> CannedReply:
    check_branch(by, branch)
    title, body = clean(title, body)
    with transaction.atomic():
        return CannedReply.objects.create(branch=branch, title=title, body=body, active=active, created_by=by)


def change_reply(*, reply: CannedReply, by, version: int, branch, title: str, body: str,
                 active: bool) -> CannedReply:
    check_branch(by, reply.branch)
    check_branch(by, branch)
    title, body = clean(title, body)
    with transaction.atomic():
        reply = CannedReply.objects.select_for_update().get(pk=reply.pk)
        claim_version(reply, version)
        reply.branch, reply.title, reply.body, reply.active = branch, title, body, active
        reply.save(update_fields=["branch", "title", "body", "active", "updated_at"])
    return reply


def mark_used(*, reply: CannedReply) -> None:
    """One more use (the chooser inserted it). A counter, not an edit: no version."""
    CannedReply.objects.filter(pk=reply.pk).update(used_count=F("used_count") + 1)
