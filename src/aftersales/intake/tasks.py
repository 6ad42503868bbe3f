"""Background entry points of the intake channels (huey). Thin: the services do the work."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .mail import imap, ingest

logger = logging.getLogger(__name__)


# A killed worker's lock is cleared when the worker starts again (core/management/commands/worker.py: flush_locks).
@db_periodic_task(crontab(minute="*"))
@lock_task("intake-mail-poll")
def poll_mailbox() -> None:
    """Every minute: read the IMAP mailbox when one is configured, and retry stored mail whose processing
    failed or was interrupted (also mail that came through `aftersales mail-in`)."""
    if imap.configured():
        try:
            imap.poll()
        except Exception:  # noqa: BLE001 - an unreachable server is tried again next minute
            logger.exception("IMAP poll failed")
    ingest.process_pending()
