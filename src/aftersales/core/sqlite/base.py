"""Django's SQLite backend, waiting for the write lock in short steps.

Every transaction starts with BEGIN IMMEDIATE (settings: transaction_mode), so a second writer waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 … ms between tries: with two workers creating
requests, a waiter often slept on long after the lock was free (a quarter of a worker's time under load).
Here BEGIN waits at most 1 ms per try and is tried again until the configured timeout; every other
statement keeps SQLite's own handler and the full timeout.
"""

import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

STEP_MS = 1


class DatabaseWrapper(base.DatabaseWrapper):
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
