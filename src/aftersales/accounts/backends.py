"""Who is asking is read from the database on every request; what they may do is kept per worker under the role
version (issue 19, point 5).

The session's user and an API token's user are read with one query per request, as Django's and DRF's own
backends read them, so a deactivated user, a new password (a session carries a hash of it) or a deleted token
takes effect on the next request in every worker. A token is found by the SHA-256 of its secret (a unique index),
and the same query says whether it has expired and whether its `last_used_at` is due (accounts/tokens.py).

Django's ModelBackend reads a user's permissions with two more queries on every request. Here each worker keeps
one set per user (core.cache.WorkerCache) with the role version and superuser flag it was read under. The role
version is one row (RoleVersion) that takes a new random value whenever a role changes anywhere — a user's groups
or own permissions, a group's permissions, through the ORM's m2m API, as the admin, the staff pages and
`sync_roles` change them — and it is read with the user, in the same query. So a role change applies on the next
request in every worker; a value is never used twice, so permissions read inside a transaction that then rolled
back are never served. A change written with raw SQL reaches the workers within core.cache.TTL.
"""

import secrets
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from aftersales.core import clock
from aftersales.core.cache import WorkerCache

from . import tokens
from .models import ApiToken, RoleVersion

permission_sets = WorkerCache("permission sets")
VERSION_ROW = 1


def current_role_version() -> int:
    return RoleVersion.objects.filter(pk=VERSION_ROW).values_list("value", flat=True).first() or 0


def new_role_version(**kwargs) -> None:
    value = secrets.randbits(62)
    if not RoleVersion.objects.filter(pk=VERSION_ROW).update(value=value):
        RoleVersion.objects.bulk_create([RoleVersion(pk=VERSION_ROW, value=value)], ignore_conflicts=True)


@cache
def users_sql(by: str) -> str:
    """SQL reading a user with the role version, for `Manager.raw()`, by "id" or by API token "digest" (worked out
    once): every request reads its user, and building the same query through the ORM cost 0.57 ms against 0.10 ms for
    the raw statement (issue 19's bench). Identifiers double-quoted: standard SQL, as SQLite and PostgreSQL read it.
    By token, with the token's id and name, whether it has expired and whether its last use is to be written (the
    parameters: now, now - LAST_USED_STEP, the digest)."""
    users, api_tokens = get_user_model()._meta.db_table, ApiToken._meta.db_table
    version = f'SELECT v."value" FROM "{RoleVersion._meta.db_table}" v WHERE v."id" = {VERSION_ROW}'
    select = f'SELECT u.*, COALESCE(({version}), 0) AS role_version'
    if by == "digest":
        return (f'{select}, t."id" AS token_id, t."name" AS token_name, t."expires_at" <= %s AS token_expired, '
                f'(t."last_used_at" IS NULL OR t."last_used_at" <= %s) AS token_use_due '
                f'FROM "{users}" u JOIN "{api_tokens}" t ON t."user_id" = u."id" WHERE t."digest" = %s')
    return f'{select} FROM "{users}" u WHERE u."id" = %s'


def user_by_id(user_id):
    return next(iter(get_user_model()._default_manager.raw(users_sql("id"), [user_id])), None)


def user_by_token(secret: str, now):
    """The token's user, with `token_id`, `token_name`, `token_expired` and `token_use_due`; None if no such token."""
    params = [now, now - tokens.LAST_USED_STEP, tokens.digest_of(secret)]
    return next(iter(get_user_model()._default_manager.raw(users_sql("digest"), params)), None)


class CachedPermissionsBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = user_by_id(int(user_id))
        except (TypeError, ValueError, OverflowError):
            return None
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        version = getattr(user_obj, "role_version", None)
        if version is None:  # a user read otherwise than by a request's authentication: once per object
            version = user_obj.role_version = current_role_version()
        # One entry per user, replaced when the version differs: a worker keeps no set of an older version.
        kept = permission_sets.peek(user_obj.pk)
        if kept is not None and kept[0] == (version, user_obj.is_superuser):
            return kept[1]
        perms = frozenset(super().get_all_permissions(user_obj))
        permission_sets.put(user_obj.pk, ((version, user_obj.is_superuser), perms))
        return perms


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's `Authorization: Token <secret>` (its documented `keyword`), checked against the user's ApiToken rows with
    the user and the role version in one raw query; `request.auth` is the token (id, name and user; not read back).
    A refusal is a 401 `{code, detail}`: `token_invalid` (unknown or revoked), `token_expired`, `user_inactive`."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        now = clock.now()
        user = user_by_token(key, now)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."), code="token_invalid")
        if user.token_expired:
            raise exceptions.AuthenticationFailed(
                _("This API token has expired. Issue a new one with your password."), code="token_expired")
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."), code="user_inactive")
        if user.token_use_due:
            tokens.note_use(user.token_id, now)
        return user, ApiToken(pk=user.token_id, user=user, name=user.token_name)


def role_changed(action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        new_role_version()


def connect_signals(user_model) -> None:
    """A group's or a permission's deletion takes its memberships with it, without m2m signals; a new permission
    is a superuser's at once."""
    for sender in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(role_changed, sender=sender, dispatch_uid=f"role_version_{sender.__name__}")
    for sender in (Group, Permission):
        post_delete.connect(new_role_version, sender=sender, dispatch_uid=f"role_version_delete_{sender.__name__}")
    post_save.connect(new_role_version, sender=Permission, dispatch_uid="role_version_new_permission")
