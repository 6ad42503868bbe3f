"""SQLite's writers hand the write lock to each other within a millisecond.

Every transaction begins with BEGIN IMMEDIATE (settings: `transaction_mode`), so a second writer waits at its
BEGIN. SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … 100 ms between tries: under a few concurrent
writers (two gunicorn workers creating requests) a waiter slept on while the lock was long free, a quarter of a
worker's time (bench/NOTES.md). Here BEGIN is tried again every millisecond instead, up to the connection's
`timeout`, through Django's documented execute wrappers (WriterHandOverMiddleware installs it per request)."""

import time

from django.db import OperationalError, connection

STEP_MS = 1


def begin_in_short_steps(execute, sql, params, many, context):
    if not sql.startswith("BEGIN"):
        return execute(sql, params, many, context)
    db = context["connection"]
    timeout_ms = int(db.settings_dict["OPTIONS"].get("timeout", 5) * 1000)
    deadline = time.monotonic() + timeout_ms / 1000
    cursor = context["cursor"]
    cursor.execute(f"PRAGMA busy_timeout = {STEP_MS}")
    try:
        while True:
            try:
                return execute(sql, params, many, context)
            except OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")


class WriterHandOverMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.sqlite = connection.vendor == "sqlite"

    def __call__(self, request):
        if not self.sqlite:
            return self.get_response(request)
        with connection.execute_wrapper(begin_in_short_steps):
            return self.get_response(request)
