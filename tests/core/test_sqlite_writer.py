"""The SQLite backend's BEGIN IMMEDIATE waits for another writer in short steps and gives up at the timeout;
the task queue commits like the main database."""

import sqlite3
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection, connections

from aftersales.core.queue import SqliteHuey
from aftersales.core.sqlite import base

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock")


@contextmanager
def another_writer_holding_the_lock(tmp_path, seconds, timeout=None):
    """A connection of our backend to a fresh database file, and another connection holding its write lock for
    `seconds`; yields our connection once the lock is taken."""
    path = tmp_path / "lock.sqlite3"
    settings_dict = {**connections.settings["default"], "NAME": str(path)}
    if timeout is not None:
        settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], "timeout": timeout}
    wrapper = type(connections["default"])(settings_dict, alias="lock-test")
    wrapper.ensure_connection()
    started = threading.Event()

    def hold():
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        started.wait(5)
        yield wrapper
    finally:
        holder.join()
        wrapper.close()


@sqlite_only
@pytest.mark.django_db
def test_a_writer_gets_the_lock_soon_after_another_writer_commits(tmp_path):
    with another_writer_holding_the_lock(tmp_path, 0.13) as wrapper:
        began = time.monotonic()
        wrapper._start_transaction_under_autocommit()  # what transaction.atomic() does first
        waited = time.monotonic() - began
        wrapper.connection.execute("COMMIT")
        # SQLite's own handler sleeps 1, 2, 5 … 25, 25, 50 ms between tries: it would get the lock at 178 ms
        assert 0.12 <= waited < 0.16, waited
        assert wrapper.connection.execute("PRAGMA busy_timeout").fetchone()[0] == 20000  # others keep the full wait


@sqlite_only
@pytest.mark.django_db
def test_a_writer_gives_up_at_the_timeout(tmp_path):
    with another_writer_holding_the_lock(tmp_path, 0.5, timeout=0.1) as wrapper:
        began = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            wrapper._start_transaction_under_autocommit()
        assert 0.09 <= time.monotonic() - began < 0.3


def test_the_task_queue_commits_without_waiting_for_the_disk(tmp_path):
    queue = SqliteHuey("test", filename=str(tmp_path / "huey.sqlite3"))
    connection_ = queue.storage.conn
    assert connection_.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection_.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, as the main database


def wal_frames(path) -> tuple[int, int]:
    """(frames in the write-ahead log, frames already copied back into the database), from the WAL index."""
    header = (path.parent / f"{path.name}-shm").read_bytes()[:136]
    return int.from_bytes(header[16:20], sys.byteorder), int.from_bytes(header[96:100], sys.byteorder)


@sqlite_only
@pytest.mark.django_db
def test_a_thread_of_the_writing_process_checkpoints_the_log(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "CHECKPOINT_EVERY_S", 0.05)
    path = tmp_path / "checkpoints.sqlite3"
    wrapper = type(connections["default"])({**connections.settings["default"], "NAME": str(path)}, alias="checkpoint-test")
    try:
        with wrapper.cursor() as cursor:
            assert cursor.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == base.AUTOCHECKPOINT_PAGES
            assert cursor.execute("PRAGMA cache_size").fetchone()[0] == -base.PAGE_CACHE_KIB
            cursor.execute("CREATE TABLE t (x TEXT)")
            for _ in range(50):
                cursor.execute("INSERT INTO t VALUES (?)", ["x" * 3000])
        frames, copied = wal_frames(path)
        assert frames >= 50  # far below the commits' own checkpoint threshold
        deadline = time.monotonic() + 5
        while copied < frames and time.monotonic() < deadline:
            time.sleep(0.05)
            frames, copied = wal_frames(path)
        assert copied == frames, (frames, copied)
    finally:
        wrapper.close()
