"""API tokens (issue 20, point 1): each user has named tokens that expire, that they list and revoke, and that die
with a new password or a deactivation.

- Issued by the password endpoint (`/api/auth/token/`), the API (`/api/auth/tokens/`) or the tokens page, valid for
  settings.AFTERSALES_API_TOKEN_DAYS days or fewer as the owner chooses; the secret is shown once and only its
  SHA-256 is kept (accounts/models.py ApiToken). accounts/backends.py checks a token with one indexed query.
- Revoking deletes the row. An expired row is kept EXPIRED_KEPT (its client is told "expired", not "invalid"), then
  the owner's next issue deletes it; at most MAX_LIVE unexpired tokens per user.
- A new password or a deactivation deletes the user's tokens: whoever held the old password (or the departed user)
  keeps no access through a token made with it. Sessions need nothing: Django ends them on a password change (a
  session carries a hash of the password) and refuses inactive users. Every way of setting a password (the password
  page, a reset, the admin, a contact's form, `changepassword`) goes through `User.set_password`, which marks the
  user; Django's own rehash at login (PBKDF2 → Argon2, the same password) does not (accounts/models.py).
  Deactivation: any save of an inactive user."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError

from .models import ApiToken

MAX_LIVE = 50
EXPIRED_KEPT = timedelta(days=30)
LAST_USED_STEP = timedelta(hours=1)  # `last_used_at` is written at most once per this, so reads stay write-free


class TooManyTokens(DomainError):
    code = "too_many_tokens"


class TokenNotFound(DomainError):
    status = 404
    code = "not_found"


def max_days() -> int:
    return settings.AFTERSALES_API_TOKEN_DAYS


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(*, user, name: str, now, days: int | None = None) -> tuple[ApiToken, str]:
    """An unsaved token and its secret: 40 hex digits, like the keys of DRF's tokens, so clients' fields fit."""
    secret = secrets.token_hex(20)
    token = ApiToken(user=user, name=name, digest=digest_of(secret), created_at=now,
                     expires_at=now + timedelta(days=days or max_days()))
    return token, secret


@transaction.atomic
def issue_token(*, user, name: str | None = None, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token of `user`, valid `days` (at most, and by default, AFTERSALES_API_TOKEN_DAYS), and its secret."""
    if days is not None and not 1 <= days <= max_days():
        raise DomainError(_("A token is valid for 1 to %(max)d days.") % {"max": max_days()}, field="days")
    now = clock.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now - EXPIRED_KEPT).delete()
    # A soft cap (two concurrent issues may both pass it): it bounds a script that asks for a token at every run.
    if ApiToken.objects.filter(user=user, expires_at__gt=now).count() >= MAX_LIVE:
        raise TooManyTokens(_("You have %(max)d valid API tokens. Revoke some on the API tokens page first.")
                            % {"max": MAX_LIVE})
    token, secret = new_token(user=user, name=name or ApiToken.DEFAULT_NAME, now=now, days=days)
    token.save()
    return token, secret


@transaction.atomic
def revoke_token(*, user, token_id: int | None) -> None:
    """The owner revokes one of their tokens; another user's token is "not found", like a missing one."""
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete() if token_id is not None else (0, {})
    if not deleted:
        raise TokenNotFound(_("There is no such API token."))


def tokens_of(user):
    """The owner's tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def note_use(token_id: int, now) -> None:
    """`last_used_at`, to the LAST_USED_STEP: a conditional UPDATE, so concurrent requests write it once."""
    ApiToken.objects.filter(pk=token_id).exclude(last_used_at__gt=now - LAST_USED_STEP).update(last_used_at=now)


def drop_tokens(sender, instance, update_fields=None, raw=False, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. the last_login update at every login
    if not instance.is_active or instance.password_replaced:
        ApiToken.objects.filter(user_id=instance.pk).delete()


def password_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is None or "password" in update_fields:
        instance.password_replaced = False  # saved: a later save of the same object is an ordinary one


def connect(user_model) -> None:
    pre_save.connect(drop_tokens, sender=user_model, dispatch_uid="accounts_drop_tokens")
    post_save.connect(password_saved, sender=user_model, dispatch_uid="accounts_password_saved")
