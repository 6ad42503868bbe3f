"""Django's SQLite backend, waiting for the write lock in short steps.

Every transaction starts with BEGIN IMMEDIATE (settings: transaction_mode), so a second writer waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 … ms between tries: with two workers creating
requests, a waiter often slept on long after the lock was free (a quarter of a worker's time under load).
Here BEGIN waits at most 1 ms per try and is tried again until the configured timeout; every other
statement keeps SQLite's own handler and the full timeout.

SQLite copies the write-ahead log back into the database (a checkpoint, with two fsyncs) in whichever connection
commits when the log passes 1,000 pages: every hundredth request paid a few milliseconds for it. Here a thread of
each process that writes checkpoints every CHECKPOINT_EVERY_S on a connection of its own, off the request path;
the commit's own checkpoint remains the fallback, at a longer log (AUTOCHECKPOINT_PAGES).

SQLite's page cache is 2 MB per connection by default: at a million requests, counting a branch's open
requests for the desk page read its index from the operating system again on every page view (180 reads of
a page each); PAGE_CACHE_KIB keeps it. A connection drops its cache when another one has written since its
last transaction, so this helps reads between writes, which is what a service desk mostly does.
"""

import logging
import os
import sqlite3
import threading
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

STEP_MS = 1
CHECKPOINT_EVERY_S = 0.5
AUTOCHECKPOINT_PAGES = 10_000  # 40 MB of log, if no checkpointer thread runs (SQLite's default: 1,000)
PAGE_CACHE_KIB = 16_000  # per connection: at most 16 MB more per worker (SQLite's default: 2,000)

log = logging.getLogger(__name__)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            connection.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
            connection.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
            _Checkpointer.start_for(self.settings_dict["NAME"])
        return connection

    def _start_transaction_under_autocommit(self):
        if self.transaction_mode is None:
            return super()._start_transaction_under_autocommit()
        timeout_ms = int(self.settings_dict["OPTIONS"].get("timeout", 5) * 1000)
        deadline = time.monotonic() + timeout_ms / 1000
        self.connection.execute(f"PRAGMA busy_timeout = {STEP_MS}")
        try:
            while True:
                try:
                    # Closed at once, also when it fails: a failed BEGIN left open keeps its read snapshot, and a
                    # few such waiters kept the lock's holder from reading (it waited out the whole timeout).
                    with self.cursor() as cursor:
                        cursor.execute(f"BEGIN {self.transaction_mode}")
                    return
                except OperationalError as error:
                    if "locked" not in str(error) or time.monotonic() >= deadline:
                        raise
        finally:
            self.connection.execute(f"PRAGMA busy_timeout = {timeout_ms}")


class _Checkpointer(threading.Thread):
    """Checkpoints one database file for this process, PASSIVE: it never waits for or blocks a reader or writer."""

    _running: dict[tuple[int, str], "_Checkpointer"] = {}
    _lock = threading.Lock()

    @classmethod
    def start_for(cls, path: str) -> None:
        key = (os.getpid(), str(path))  # a forked worker starts its own: threads do not survive a fork
        with cls._lock:
            if key not in cls._running:
                cls._running[key] = cls(str(path))
                cls._running[key].start()

    def __init__(self, path: str):
        super().__init__(name=f"sqlite checkpoints of {os.path.basename(path)}", daemon=True)
        self.path = path

    def run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            while True:
                time.sleep(CHECKPOINT_EVERY_S)
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # the commits' own checkpoints remain
            log.exception("the checkpoint thread for %s stopped", self.path)
