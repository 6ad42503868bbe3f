"""API rows straight from `.values()`, formatted exactly as DRF's fields would format them, and ids from requests.

The hot lists (desk queue, request list, request page) return many rows of plain columns; a
ModelSerializer spends most of such a call building model instances and walking field objects.
Tests compare these rows with the documented serializer's output so the two cannot drift.
"""

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone


def _iso(value: datetime, tz) -> str:
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def api_value(value, tz=None):
    kind = type(value)
    if kind is datetime:
        return _iso(value, tz or timezone.get_current_timezone())
    if kind is date:
        return value.isoformat()
    if kind is Decimal:
        return str(value)
    return value


def api_rows(rows) -> list[dict]:
    """Convert in place (the rows are fresh dicts from `.values()`)."""
    tz = timezone.get_current_timezone()
    converted = []
    for row in rows:
        for name, value in row.items():
            kind = type(value)
            if kind is datetime:
                row[name] = _iso(value, tz)
            elif kind is date or kind is Decimal:
                row[name] = api_value(value)
        converted.append(row)
    return converted


def api_row(row: dict) -> dict:
    return api_rows([row])[0]


def row_id(value) -> int | None:
    """`value` as a row id (an int, or a string of ASCII digits, that fits the databases' 64-bit keys), else None.
    A bigger number passed to SQLite is an OverflowError, not "no such row"."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return value if type(value) is int and 0 <= value < 2**63 else None


def instance_from(model, columns: dict):
    """A model instance from some of its columns (attname → value), as `Model.from_db` takes them (in the model's
    field order); the other fields are deferred, as `.only()` leaves them."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in columns]
    if len(names) != len(columns):
        raise ValueError(f"not columns of {model.__name__}: {sorted(set(columns) - set(names))}")
    return model.from_db(model.objects.db, names, [columns[name] for name in names])
