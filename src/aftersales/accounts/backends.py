"""Permission sets cached per worker process (perf-floor.md §4).

Django's ModelBackend reads a user's permissions with two queries on every request. Roles change
rarely, so each worker keeps the set for PERMISSION_TTL seconds. A change made in this process
(group membership, a role's permissions, the user row) clears the cache at once; other workers
see it within the TTL — which bounds how long a revoked permission can still be used. The menu
(base.html) is cached for the same time and cleared with it.
"""

import copy
import time

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

PERMISSION_TTL = 30  # seconds

_cache: dict[int, tuple[float, frozenset[str]]] = {}
_tokens: dict[str, tuple[float, object, object]] = {}


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            entry = _cache.get(user_obj.pk)
            if entry is None or entry[0] < time.monotonic():
                perms = frozenset(super().get_all_permissions(user_obj))
                _cache[user_obj.pk] = (time.monotonic() + PERMISSION_TTL, perms)
            else:
                perms = entry[1]
            user_obj._perm_cache = set(perms)
        return user_obj._perm_cache


class CachedTokenAuthentication(TokenAuthentication):
    """API tokens: the token's user is kept per worker like the permissions (same TTL, same clearing), so an
    API call does not load token and user again. Each request gets its own copy of the user."""

    def authenticate_credentials(self, key):
        entry = _tokens.get(key)
        if entry is None or entry[0] < time.monotonic():
            user, token = super().authenticate_credentials(key)  # raises for an unknown key or an inactive user
            entry = (time.monotonic() + PERMISSION_TTL, user, token)
            _tokens[key] = entry
        return copy.copy(entry[1]), entry[2]


def clear_permission_cache(**kwargs) -> None:
    """Also drops the cached tokens' users and the fragments that depend on permissions (the menu in base.html)."""
    _cache.clear()
    _tokens.clear()
    cache.clear()


def connect_signals(user_model) -> None:
    for sender in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(clear_permission_cache, sender=sender, dispatch_uid=f"perm_cache_{sender.__name__}")
    for sender in (user_model, Group, Permission, Token):
        post_save.connect(clear_permission_cache, sender=sender, dispatch_uid=f"perm_cache_save_{sender.__name__}")
        post_delete.connect(clear_permission_cache, sender=sender, dispatch_uid=f"perm_cache_delete_{sender.__name__}")
