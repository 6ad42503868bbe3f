"""Keeping an upload between preview and confirm: the file is stored with Django's default storage under an
unguessable name inside the uploader's own folder; the browser only holds a token signed for that user."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from aftersales.customers.models import Project

from .errors import StashExpired
from .reading import file_kind

STASH_DIR = "imports/devices"
STASH_MAX_AGE = timedelta(hours=6)
_STASH_KEY = re.compile(r"^[0-9a-f]{32}$")


def _stash_path(user, key: str, kind: str) -> str:
    return f"{STASH_DIR}/{int(user.pk)}/{key}.{kind}"


def _signer(user) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"aftersales.assets.import.{user.pk}")


def stash(user, name: str, data: bytes, project: Project | None = None) -> str:
    """Keep an upload until it is confirmed; returns a token only this user can redeem."""
    kind = file_kind(name)
    _sweep(user)
    key = secrets.token_hex(16)
    default_storage.save(_stash_path(user, key, kind), ContentFile(data))
    payload = {"k": key, "t": kind, "n": name[-120:], "s": hashlib.sha256(data).hexdigest(),
               "p": project.pk if project else None}
    return _signer(user).sign_object(payload, compress=True)


def unstash(user, token: str) -> tuple[dict, bytes]:
    """(payload, bytes) of this user's upload, checked against its hash; StashExpired otherwise."""
    try:
        payload = _signer(user).unsign_object(token or "", max_age=STASH_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise StashExpired() from None
    key, kind = str(payload.get("k", "")), str(payload.get("t", ""))
    if not _STASH_KEY.match(key) or kind not in ("xlsx", "csv"):
        raise StashExpired()
    path = _stash_path(user, key, kind)
    try:
        with default_storage.open(path, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError):
        raise StashExpired() from None
    if hashlib.sha256(data).hexdigest() != payload.get("s"):
        raise StashExpired()
    return payload, data


def discard(user, token: str) -> None:
    try:
        payload = _signer(user).unsign_object(token or "", max_age=STASH_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return
    key, kind = str(payload.get("k", "")), str(payload.get("t", ""))
    if _STASH_KEY.match(key) and kind in ("xlsx", "csv"):
        default_storage.delete(_stash_path(user, key, kind))


def _sweep(user) -> None:
    """Remove this user's uploads that can no longer be confirmed."""
    folder = f"{STASH_DIR}/{int(user.pk)}"
    try:
        _dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, OSError, NotImplementedError):
        return
    cutoff = timezone.now() - STASH_MAX_AGE
    for name in files:
        path = f"{folder}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except (FileNotFoundError, OSError, NotImplementedError):
            continue
