"""SQLite through Django's stock backend and its public options: PRAGMAs from `init_command`, BEGIN IMMEDIATE from
`transaction_mode` (a second writer waits for the lock, up to `timeout`), a thread of each writing process that
checkpoints the log; the task queue commits like the main database."""

import sqlite3
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections, transaction
from huey import SqliteHuey

from aftersales.core import sqlite_checkpoints

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's configuration")


@pytest.fixture
def file_database(tmp_path, django_db_blocker):
    """file_database(name, **options): a connection configured as settings.DATABASES configures SQLite, to a fresh
    file (not the test database), as connections[alias]."""
    aliases = []

    def connect(name="site.sqlite3", **options):
        alias = f"file-{name}"
        settings_dict = {**connections.settings["default"], "NAME": str(tmp_path / name)}
        settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], **options}
        connections.settings[alias] = settings_dict
        aliases.append(alias)
        connections[alias].ensure_connection()
        return connections[alias]

    with django_db_blocker.unblock():
        yield connect
        for alias in aliases:
            connections[alias].close()
            del connections[alias]
            del connections.settings[alias]


@contextmanager
def another_writer_holding_the_lock(path, seconds):
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
        yield
    finally:
        holder.join()


@sqlite_only
def test_each_connection_gets_the_pragmas_of_the_settings(file_database):
    with file_database().cursor() as cursor:
        pragmas = {name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
                   for name in ("journal_mode", "synchronous", "wal_autocheckpoint", "cache_size", "foreign_keys")}
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "wal_autocheckpoint": 10_000, "cache_size": -16_000,
                       "foreign_keys": 1}


@sqlite_only
def test_a_transaction_takes_the_write_lock_when_it_begins(file_database, tmp_path):
    database = file_database()
    with transaction.atomic(using=database.alias):
        other = sqlite3.connect(tmp_path / "site.sqlite3", timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")  # before our transaction wrote anything
        other.close()


@sqlite_only
def test_a_writer_waits_for_another_and_gets_the_lock_once_it_commits(file_database, tmp_path):
    database = file_database()
    with another_writer_holding_the_lock(tmp_path / "site.sqlite3", 0.2):
        began = time.monotonic()
        with transaction.atomic(using=database.alias):
            waited = time.monotonic() - began
    assert 0.15 <= waited < 2, waited


@sqlite_only
def test_a_writer_gives_up_at_the_timeout(file_database, tmp_path):
    database = file_database(timeout=0.1)
    with another_writer_holding_the_lock(tmp_path / "site.sqlite3", 0.6):
        began = time.monotonic()
        with pytest.raises(OperationalError, match="locked"), transaction.atomic(using=database.alias):
            pass
        assert 0.09 <= time.monotonic() - began < 0.5


def wal_frames(path) -> tuple[int, int]:
    """(frames in the write-ahead log, frames already copied back into the database), from the WAL index."""
    header = (path.parent / f"{path.name}-shm").read_bytes()[:136]
    return int.from_bytes(header[16:20], sys.byteorder), int.from_bytes(header[96:100], sys.byteorder)


@sqlite_only
def test_a_thread_of_the_writing_process_checkpoints_the_log(file_database, tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_checkpoints, "CHECKPOINT_EVERY_S", 0.05)
    path = tmp_path / "checkpoints.sqlite3"
    with file_database("checkpoints.sqlite3").cursor() as cursor:
        cursor.execute("CREATE TABLE t (x TEXT)")
        for _ in range(50):
            cursor.execute("INSERT INTO t VALUES (%s)", ["x" * 3000])
        frames, copied = wal_frames(path)
        assert frames >= 50  # far below the commits' own checkpoint threshold
        deadline = time.monotonic() + 5
        while copied < frames and time.monotonic() < deadline:
            time.sleep(0.05)
            frames, copied = wal_frames(path)
        assert copied == frames, (frames, copied)


def test_no_checkpoint_thread_for_a_database_in_memory():
    assert sqlite_checkpoints.is_in_memory(":memory:")
    assert sqlite_checkpoints.is_in_memory("file:memorydb_default?mode=memory&cache=shared")
    assert not sqlite_checkpoints.is_in_memory("/srv/aftersales/var/aftersales.sqlite3")


@pytest.mark.skipif("filename" not in settings.HUEY, reason="the queue is Redis")
def test_the_task_queue_commits_without_waiting_for_the_disk(tmp_path):
    options = {key: value for key, value in settings.HUEY.items() if key not in ("name", "huey_class", "consumer")}
    queue = SqliteHuey("test", **{**options, "immediate": False, "filename": str(tmp_path / "huey.sqlite3")})
    connection_ = queue.storage.conn
    assert connection_.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection_.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, as the main database
