"""Race tests: release N threads together, each on its own database connection."""

import sqlite3
import threading
from contextlib import contextmanager

from django.db import connection, connections


def in_threads(target, count: int) -> list:
    """Run target(i) in `count` threads, released together; each thread uses and closes its own connection."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def worker(i):
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    return results


@contextmanager
def database_for_threads(tmp_path):
    """PostgreSQL: the test database as it is. SQLite: the test database lives in memory with a shared cache,
    where a second writer fails at once with "database table is locked" instead of waiting. Production runs
    SQLite from a file (WAL, BEGIN IMMEDIATE, timeout 20: writers queue), so the threads get a file copy of
    the test database with the production connection options."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    connection.ensure_connection()
    path = tmp_path / "race.sqlite3"
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.execute("PRAGMA journal_mode=WAL")
    copy.close()
    settings_dict = connections.settings["default"]  # the dict each new thread's connection is built from
    memory = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        settings_dict["NAME"] = memory
