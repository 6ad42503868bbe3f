"""The one clock. Business code reads time only through `now()`, so tests can move it (time-machine)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return timezone.now()


def today() -> date:
    """Today's date in Asia/Shanghai, whatever the server's zone."""
    return now().astimezone(SHANGHAI).date()
