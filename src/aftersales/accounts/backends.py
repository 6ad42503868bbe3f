"""Permission sets, API tokens and session users kept per worker process (perf-floor.md §4), in
core.cache.WorkerCache copies.

Django's ModelBackend reads a user's permissions with two queries on every request and the session's user with
another, DRF's token authentication the token and its user. Roles change rarely: a change made in this process
(group membership, a role's permissions, the user row, a token) clears the copies at once; other workers read
again within core.cache.TTL seconds — which bounds how long a revoked permission, a deactivated user or a session
ended by a password change can still be used. The menu (base.html) is cached for the same time and cleared with them.
"""

import copy

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from aftersales.core.cache import WorkerCache

_permissions = WorkerCache("permission sets")  # cleared by the receivers of connect_signals()
_tokens = WorkerCache("api tokens")
_users = WorkerCache("session users")


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            perms = _permissions.get(user_obj.pk, lambda: frozenset(super(CachedPermissionsBackend, self)
                                                                    .get_all_permissions(user_obj)))
            user_obj._perm_cache = set(perms)
        return user_obj._perm_cache

    def get_user(self, user_id):
        """The session's user, kept per worker like a token's; each request gets its own copy. Nothing is kept
        for a missing or inactive user."""
        user = _users.get(user_id, lambda: super(CachedPermissionsBackend, self).get_user(user_id), keep_none=False)
        return copy.copy(user) if user is not None else None


class CachedTokenAuthentication(TokenAuthentication):
    """The token's user is kept per worker like the permissions, so an API call does not load token and user
    again. Each request gets its own copy of the user."""

    def authenticate_credentials(self, key):
        # raises for an unknown key or an inactive user; nothing is kept then
        user, token = _tokens.get(key, lambda: super(CachedTokenAuthentication, self).authenticate_credentials(key))
        return copy.copy(user), token


def clear_permission_cache(**kwargs) -> None:
    """Drop the permission sets, the tokens' users and the fragments that depend on permissions (the menu)."""
    _permissions.clear()
    _tokens.clear()
    _users.clear()
    cache.clear()


def connect_signals(user_model) -> None:
    """Group membership and direct permissions change through m2m signals, which WorkerCache does not watch;
    a user row (is_active, is_superuser) is watched here too, and the menu is cleared with every change."""
    for sender in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(clear_permission_cache, sender=sender, dispatch_uid=f"perm_cache_{sender.__name__}")
    for sender in (user_model, Group, Permission, Token):
        post_save.connect(clear_permission_cache, sender=sender, dispatch_uid=f"perm_cache_save_{sender.__name__}")
        post_delete.connect(clear_permission_cache, sender=sender, dispatch_uid=f"perm_cache_delete_{sender.__name__}")
