"""The worker's daily backup (huey), at AFTERSALES_BACKUP_TIME in TIME_ZONE (default 02:30 Asia/Shanghai).

Not huey's lock_task (it stays locked for good when the worker is killed mid-backup): archive.backup_lock is a
file that expires after six hours or when its process is gone. A backup already written since today's scheduled
time (a second worker, a restart within the minute) is not repeated."""

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from huey.contrib.djhuey import HUEY, db_periodic_task

from . import archive

logger = logging.getLogger(__name__)


def due(timestamp: datetime) -> bool:
    """huey's clock check, every minute: is it the configured time of day here? huey passes naive UTC (utc=True,
    its default) or naive local time."""
    at = settings.AFTERSALES_BACKUP_AT
    if not at:
        return False
    zone = ZoneInfo(settings.TIME_ZONE)
    local = timestamp.replace(tzinfo=UTC).astimezone(zone) if HUEY.utc else timestamp
    return (local.hour, local.minute) == tuple(at)


def done_today(now: datetime) -> bool:
    hour, minute = settings.AFTERSALES_BACKUP_AT
    since = f"aftersales-{now:%Y%m%d}-{hour:02d}{minute:02d}00.tar.gz"
    return any(path.name >= since and path.name[:19] == since[:19] for path in archive.archives(archive.backup_dir()))


@db_periodic_task(due)
def daily_backup() -> None:
    now = archive.local_now()
    if done_today(now):
        logger.info("backup: today's backup exists already")
        return
    try:
        result = archive.run_backup(now)
    except archive.BackupBusy:
        logger.warning("backup: another backup is running; skipped")
        return
    except Exception:
        logger.exception("backup failed")
        raise
    if result.offsite_error:
        logger.error("backup %s written, off-site copy FAILED: %s", result.archive, result.offsite_error)
    elif result.offsite is None:
        logger.warning("backup %s written; no off-site target configured (AFTERSALES_BACKUP_TARGET)", result.archive)
    else:
        logger.info("backup %s written and copied to %s", result.archive, result.offsite)
