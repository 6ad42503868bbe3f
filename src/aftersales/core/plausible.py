"""One plausibility rule for the dates people enter (issue 20): from 2000 to ten years after today. Outside it a
date is a typo (0001, 9999) or a broken clock (1970), answered with a clear error instead of being stored or
reaching date arithmetic that overflows."""

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

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


# ------------------------------------------------------------------------------------------ the fields that apply it
# One rule, two front doors: a form field shows the message under the field; a serializer field answers a 400
# naming the field. Model forms and model serializers pick them per field (Meta.field_classes / extra_kwargs), so
# the models (and their migrations) stay as they are and computed or machine-written dates are not affected.

class PlausibleDateField(forms.DateField):
    default_validators = [validate_plausible]


class PlausibleDateTimeField(forms.DateTimeField):
    default_validators = [validate_plausible]


class PlausibleDateSerializerField(serializers.DateField):
    def __init__(self, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", ()), validate_plausible]
        super().__init__(**kwargs)


class PlausibleDateTimeSerializerField(serializers.DateTimeField):
    def __init__(self, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", ()), validate_plausible]
        super().__init__(**kwargs)


def plausible_form_fields(*names: str) -> dict:
    """A model form's `Meta.field_classes` for the dates people type in (a date-time: PlausibleDateTimeField)."""
    return dict.fromkeys(names, PlausibleDateField)


def plausible_extra_kwargs(*names: str) -> dict:
    """A model serializer's `Meta.extra_kwargs` for the dates people send (date and date-time fields alike)."""
    return {name: {"validators": [validate_plausible]} for name in names}


def plausible_year(year: int) -> bool:
    """A year someone types (a holiday year): the years the date rule allows."""
    return EARLIEST.year <= year <= latest().year


def implausible_year_message() -> str:
    return _("Give a year between %(earliest)s and %(latest)s.") % {"earliest": EARLIEST.year, "latest": latest().year}
