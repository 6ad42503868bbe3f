"""The task queue's SQLite connection commits like the main database (WAL, synchronous=NORMAL).

huey leaves SQLite's default (FULL): every enqueue waited for the disk, twice per new request (its exact
deadline check and the outbox nudge) — 15 % of a create's time under load. Its `fsync` option knows only FULL and
OFF (OFF may corrupt the file on a power cut), so settings.HUEY hands this class to `sqlite3.connect` as its
`factory`, which huey's SqliteStorage passes on with its other keyword arguments. A power cut may lose the last
tasks, as it may the main database's last commits; both kinds of task have a safety net: the minute sweep and the
delivery worker's poll of the outbox.
"""

import sqlite3


class NormalSyncConnection(sqlite3.Connection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous = NORMAL")
