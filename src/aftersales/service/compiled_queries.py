"""The two hottest reads — the desk queue and the request page — from SQL compiled once per process (issue 19
allows these two and no others). Used only by service/selectors.py, keyed there by the reader's `Scope`.

Building and compiling the ORM query of these reads cost more than running it. The compiled SQL comes from the
queryset's own compiler (`query.get_compiler().as_sql()`); no private name is used, but the compiler is not a
documented API: if an upgrade changes it, the tests comparing these rows with the ORM's fail first."""

from django.core.exceptions import EmptyResultSet
from django.db import connections


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
