"""The task queue's SQLite storage, committed like the main database (WAL, synchronous=NORMAL).

huey leaves SQLite's default (FULL): every enqueue waited for the disk, twice per new request (its exact
deadline check and the outbox nudge) — 15 % of a create's time under load. A power cut may lose the last
tasks, as it may the main database's last commits; both kinds of task have a safety net: the minute sweep
and the delivery worker's poll of the outbox.
"""

import huey
from huey.storage import SqliteStorage


class NormalSyncSqliteStorage(SqliteStorage):
    def _create_connection(self):
        connection = super()._create_connection()
        connection.execute("pragma synchronous=NORMAL")
        return connection


class SqliteHuey(huey.SqliteHuey):
    storage_class = NormalSyncSqliteStorage
