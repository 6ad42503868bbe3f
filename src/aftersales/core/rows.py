"""API rows straight from `.values()`, formatted exactly as DRF's fields would format them.

The hot lists (desk queue, request list, request page) return many rows of plain columns; a
ModelSerializer spends most of such a call building model instances and walking field objects.
Tests compare these rows with the documented serializer's output so the two cannot drift.
"""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
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


def instance_from(model, columns: dict, using: str = DEFAULT_DB_ALIAS):
    """A model instance from some of its columns (attname → value) as a `.values()` row holds them; the others are
    deferred, as `.only()` leaves them."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in columns]
    if len(names) != len(columns):
        raise ValueError(f"not columns of {model.__name__}: {sorted(set(columns) - set(names))}")
    return model.from_db(using, names, [columns[name] for name in names])


class CompiledValues:
    """A `.values()` query compiled to SQL once per process, then run with other values for its parameters.

    On the hottest reads (the request page and desk queue APIs) building and compiling the ORM query cost more than
    running it. `build(*stand_ins)` returns the queryset for stand-in values (of the types the first call passes:
    ids or strings); `rows(*values)` runs that SQL with the values in the stand-ins' places and converts the columns
    exactly as `.values()` does (same compiler). A queryset that can have no rows (`.none()`, an empty slice) runs
    nothing."""

    STAND_IN = -(2**53)  # no row has such an id; each stand-in must appear exactly once among the parameters

    def __init__(self, build):
        self._build, self._compiled = build, None

    @classmethod
    def _stand_in(cls, index: int, value):
        if isinstance(value, int):
            return cls.STAND_IN - index
        if isinstance(value, str):
            return f"\x00stand-in {index}"
        raise TypeError(f"only ids and strings can be parameters of a compiled query, not {value!r}")

    def _compile(self, values):
        stand_ins = [self._stand_in(i, value) for i, value in enumerate(values)]
        queryset = self._build(*stand_ins)
        query = queryset.query
        nothing = (None, None, (), [], tuple(type(stand_in) for stand_in in stand_ins), [], queryset.db)
        if query.is_empty():
            self._compiled = nothing
            return self._compiled
        compiler = query.get_compiler(queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # e.g. rows of a subquery that can have none
            self._compiled = nothing
            return self._compiled
        if any(list(params).count(stand_in) != 1 for stand_in in stand_ins):
            raise ValueError(f"each stand-in must be one parameter of the query: {sql} {params}")
        slots = [list(params).index(stand_in) for stand_in in stand_ins]
        names = list(query.selected) if query.selected else [
            *query.extra_select, *query.values_select, *query.annotation_select]
        types = tuple(type(stand_in) for stand_in in stand_ins)
        self._compiled = (compiler, sql, tuple(params), slots, types, names, queryset.db)
        return self._compiled

    def _run(self, sql_of, values) -> tuple:
        compiler, sql, params, slots, types, names, alias = self._compiled or self._compile(values)
        if tuple(type(value) for value in values) != types:
            raise TypeError(f"the query was compiled for parameters of the types {types}")
        if sql is None:
            return compiler, names, []
        params = list(params)
        for slot, value in zip(slots, values, strict=True):
            params[slot] = value
        with connections[alias].cursor() as cursor:
            cursor.execute(sql_of(sql), params)
            return compiler, names, cursor.fetchall()

    def rows(self, *values) -> list[dict]:
        compiler, names, fetched = self._run(lambda sql: sql, values)
        return [dict(zip(names, row)) for row in compiler.results_iter(results=[fetched])] if fetched else []

    def count(self, *values) -> int:
        """How many rows `rows(*values)` returns, counted by the database (build the query without an ordering)."""
        fetched = self._run(lambda sql: f"SELECT COUNT(*) FROM ({sql}) counted", values)[2]
        return fetched[0][0] if fetched else 0


class CompiledByKey:
    """CompiledValues kept per process by a key (a scope, a set of filters, a page …), at most `limit` of them
    (≈ 24 KB each)."""

    def __init__(self, limit: int = 500):
        self.limit, self._by_key = limit, {}

    def get(self, key, build) -> CompiledValues:
        compiled = self._by_key.get(key)
        if compiled is None:
            if len(self._by_key) >= self.limit:
                self._by_key.clear()
            compiled = self._by_key[key] = CompiledValues(build)
        return compiled
