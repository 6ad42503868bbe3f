"""A spreadsheet cell as the text or date a person typed into it: numbers Excel made of serial numbers and dates
are turned back, a serial number whose digits Excel has already lost is an error, never a guess."""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .columns import FORMULA_PREFIXES

SCIENTIFIC = re.compile(r"^\d\.\d+[eE]\+\d{1,3}$")  # how Excel shows a long number: 1.23457E+11
INTEGRAL_DECIMAL = re.compile(r"^(\d+)\.0+$")
DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
EXCEL_LAST_SERIAL_DAY = 2958465  # 9999-12-31
EXCEL_EPOCH = datetime(1899, 12, 30)


def number_text(value: float | int) -> str:
    """A spreadsheet number as the digits a person typed: 123456.0 -> "123456", 1.2345678901e+11 -> "123456789010"."""
    if isinstance(value, int):
        return str(value)
    try:
        exact = Decimal(repr(value))
    except InvalidOperation:  # nan, inf
        return str(value)
    if exact == exact.to_integral_value():
        return str(int(exact))
    return format(exact.normalize(), "f")


def cell_text(value) -> str:
    """Any cell as trimmed text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return number_text(value)
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_PREFIXES):
        text = text[1:]
    return text


def serial_text(value) -> tuple[str, str | None]:
    """The serial number as text, and an error when Excel has already destroyed some of its digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e15:
        return number_text(value), _(
            "Excel stored the serial number %(value)s as a number and lost its last digits. "
            "Format the column as text and enter the serial number again."
        ) % {"value": number_text(value)}
    text = cell_text(value)
    if SCIENTIFIC.match(text):
        return text, _(
            "The serial number %(value)s is in scientific notation, so Excel has lost digits. "
            "Format the column as text and enter the serial number again."
        ) % {"value": text}
    whole = INTEGRAL_DECIMAL.match(text)
    if whole:
        text = whole.group(1)
    return text, None


def parse_date(value) -> date | None:
    """An Excel date cell, 2024-03-15, 2024/3/15, 2024.3.15, 2024年3月15日 or 20240315; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and COMPACT_DATE.match(str(int(value))) and int(value) > EXCEL_LAST_SERIAL_DAY:
            return parse_date(str(int(value)))
        if 0 < value <= EXCEL_LAST_SERIAL_DAY:  # a date cell that lost its date format
            return (EXCEL_EPOCH + timedelta(days=float(value))).date()
        raise ValueError(value)
    text = cell_text(value)
    if not text:
        return None
    match = DATE_TEXT.match(text) or COMPACT_DATE.match(text)
    if not match:
        raise ValueError(text)
    year, month, day = (int(part) for part in match.groups())
    return date(year, month, day)
