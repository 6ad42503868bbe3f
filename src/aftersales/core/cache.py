"""Per-worker copies of data that changes rarely and is read on every write: SLA policies and their rules,
escalation ladders, the desk and the holders of a position, service calendars, notification preferences,
webhook endpoints (issue 12), and permission sets under the role version (accounts/backends.py). Never who a
request's user or API token is: that is read on every request.

How a change reaches every worker (gunicorn runs several processes, huey another):

* in the process that makes the change, a save or delete of a source model clears the copy at once
  (``post_save`` / ``post_delete``), and once more after the commit, so that a copy read inside the writing
  transaction is not kept;
* every other process reads the data again when its copy is older than ``TTL`` seconds.

So a change is seen everywhere within ``TTL`` seconds (30). A version counter would be exact, but it costs a
query on every use (the very query this saves) or a shared store (Redis) the embedded install does not have;
half a minute is an acceptable delay for a new escalation step, SLA policy, dispatcher or robot to take effect.
Writes that send no signals (``bulk_create``, ``QuerySet.update``) must call ``clear()`` themselves, e.g.
`aftersales.service.calendar_store.import_public_year`. Tests start with empty copies (`clear_all`, tests/conftest.py).

The copies are plain Python objects shared by the threads of a process: callers must not modify them.
"""

import time
from collections.abc import Callable, Hashable

from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save

TTL = 30.0  # seconds

_caches: list["WorkerCache"] = []


class WorkerCache:
    """A dict of copies, each computed on first use and kept for `ttl` seconds or until a source model changes."""

    def __init__(self, name: str, *sources, ttl: float = TTL):
        self.name, self.ttl = name, ttl
        self._entries: dict[Hashable, tuple[float, object]] = {}
        for model in sources:
            uid = f"worker-cache:{name}:{model._meta.label}"
            post_save.connect(self._changed, sender=model, weak=False, dispatch_uid=uid + ":save")
            post_delete.connect(self._changed, sender=model, weak=False, dispatch_uid=uid + ":delete")
        _caches.append(self)

    def get(self, key: Hashable, compute: Callable[[], object], *, keep_none: bool = True):
        """The copy for `key`; with keep_none=False a None is not kept (a wrong credential is asked again each
        time and cannot fill the cache)."""
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is None or entry[0] <= now:
            entry = (now + self.ttl, compute())
            if entry[1] is None and not keep_none:
                return None
            self._entries[key] = entry
        return entry[1]

    def peek(self, key: Hashable):
        """The copy for `key` if one is kept and fresh, else None; computes nothing."""
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def put(self, key: Hashable, value) -> None:
        self._entries[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        self._entries = {}

    def _changed(self, **kwargs) -> None:
        self.clear()
        transaction.on_commit(self.clear)

    def __repr__(self):
        return f"<WorkerCache {self.name}: {len(self._entries)} entries>"


def clear_all(**kwargs) -> None:
    """Forget every copy (tests; after migrate or a flush, which send no save signals)."""
    for cache in _caches:
        cache.clear()


post_migrate.connect(clear_all, weak=False, dispatch_uid="worker-cache:clear-all")
