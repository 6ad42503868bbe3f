"""A thread per writing process that copies SQLite's write-ahead log back into the database file (a checkpoint).

SQLite checkpoints in whichever connection commits when the log passes `wal_autocheckpoint` pages, two fsyncs
on that request's time. Here each process that opens the database runs a thread that checkpoints every
CHECKPOINT_EVERY_S on a `sqlite3` connection of its own, PASSIVE (it never waits for or blocks a reader or a
writer), so the log stays far below the commits' own threshold (settings.SQLITE_PRAGMAS), which remains the
fallback. Started by Django's `connection_created` signal (core/apps.py).
"""

import logging
import os
import sqlite3
import threading
import time

CHECKPOINT_EVERY_S = 0.5

log = logging.getLogger(__name__)

_running: set[tuple[int, str]] = set()
_lock = threading.Lock()


def start_for_connection(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: start the thread for a file database, once per process and file."""
    if connection.vendor != "sqlite":
        return
    path = str(connection.settings_dict["NAME"])
    if is_in_memory(path):
        return
    key = (os.getpid(), path)  # a forked worker starts its own: threads do not survive a fork
    with _lock:
        if key in _running:
            return
        _running.add(key)
    threading.Thread(target=checkpoint_forever, args=(path,), daemon=True,
                     name=f"sqlite checkpoints of {os.path.basename(path)}").start()


def is_in_memory(name: str) -> bool:
    return name in ("", ":memory:") or "mode=memory" in name


def checkpoint_forever(path: str) -> None:
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        while True:
            time.sleep(CHECKPOINT_EVERY_S)
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except Exception:  # the commits' own checkpoints remain
        log.exception("the checkpoint thread for %s stopped", path)
