"""The task queues: the main one (settings.HUEY) and the delivery queue (below); on SQLite their connection commits
like the main database (WAL, synchronous=NORMAL).

huey leaves SQLite's default (FULL): every enqueue waited for the disk, twice per new request (its exact
deadline check and the outbox nudge) — 15 % of a create's time under load. Its `fsync` option knows only FULL and
OFF (OFF may corrupt the file on a power cut), so settings.HUEY hands this class to `sqlite3.connect` as its
`factory`, which huey's SqliteStorage passes on with its other keyword arguments. A power cut may lose the last
tasks, as it may the main database's last commits; both kinds of task have a safety net: the minute sweep and the
delivery worker's poll of the outbox.
"""

import functools
import sqlite3


class NormalSyncConnection(sqlite3.Connection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous = NORMAL")


# --- the delivery queue ---------------------------------------------------------------------------------------------
#
# Two huey queues (issue 20, point 4): the main one (settings.HUEY: the SLA sweep, the exact deadline checks, the
# heartbeat, the mail poll, the backup) and this one for notification delivery (mail, webhooks), each with its own
# consumer and threads in `aftersales worker`. A slow mail server or robot then holds up other messages only, never a
# deadline check. huey 3.5's djhuey knows one instance (its DJANGO_HUEY/queues form belongs to another package), so
# the second one is built here from the same configuration under another name: the same SQLite file (huey keeps
# queues apart by name) or the same Redis server.

DELIVERY_SUFFIX = "-delivery"


@functools.cache
def delivery():
    """The huey instance of notification delivery, configured like settings.HUEY (djhuey's reading of it)."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    config = dict(settings.HUEY)
    name = config.pop("name", "huey") + DELIVERY_SUFFIX
    huey_class = import_string(config.pop("huey_class", "huey.RedisHuey"))
    config.pop("consumer", None)
    config |= config.pop("connection", {})
    config.setdefault("immediate", settings.DEBUG)
    return huey_class(name, **config)


def delivery_task(*args, **kwargs):
    """djhuey's db_task on the delivery queue: the task's database connections are closed around it."""
    def decorator(fn):
        from huey.contrib.djhuey import close_db

        wrapper = delivery().task(*args, **kwargs)(close_db(fn))
        wrapper.call_local = fn
        return wrapper
    return decorator


def delivery_periodic_task(*args, **kwargs):
    """djhuey's db_periodic_task on the delivery queue."""
    def decorator(fn):
        from huey.contrib.djhuey import close_db

        wrapper = delivery().periodic_task(*args, **kwargs)(close_db(fn))
        wrapper.call_local = fn
        return wrapper
    return decorator


def queues() -> dict:
    """Every queue by its role, in the order `aftersales worker` starts their consumers."""
    from huey.contrib.djhuey import HUEY

    return {"main": HUEY, "delivery": delivery()}
