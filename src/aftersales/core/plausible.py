"""One plausibility rule for the dates people enter (issue 20): from 2000 to ten years after today. Outside it a
date is a typo (0001, 9999) or a broken clock (1970), answered with a clear error instead of being stored or
reaching date arithmetic that overflows."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import clock

EARLIEST = date(2000, 1, 1)
YEARS_AHEAD = 10


def latest() -> date:
    today = clock.today()
    return today.replace(year=today.year + YEARS_AHEAD, day=28 if (today.month, today.day) == (2, 29) else today.day)


def is_plausible(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= latest()


def implausible_message() -> str:
    return _("Give a date between %(earliest)s and %(latest)s.") % {
        "earliest": EARLIEST.isoformat(), "latest": latest().isoformat()}


def validate_plausible(value: date | datetime) -> None:
    """A form, filter and serializer validator."""
    if value is not None and not is_plausible(value):
        raise ValidationError(implausible_message(), code="implausible_date")
