"""INSERTs for the hottest writes, compiled once per process by Django's own compiler.

Opening a request writes about ten rows while it holds SQLite's only write lock, and `bulk_create` or `save()`
rebuild, re-check and re-compile their statement on every call: that cost more than executing it, and every
writer waits for it. `Insert(model)(objs)` writes the same rows with the same SQL (compiled the first time for
that number of rows) and the same values (each field's `pre_save` and `get_db_prep_save`, as Django does), and
sets the primary keys the database returns. Like `bulk_create` it sends no signals: use it only for models whose
saves nobody listens to, or whose listeners the caller runs itself.
"""

from functools import partial

from django.db import connections, models, router, transaction
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.db.models.sql.compiler import SQLInsertCompiler
from django.utils.functional import cached_property


PLAIN_TEXT_FIELDS = {models.CharField, models.TextField, models.EmailField, models.SlugField, models.URLField}
PLAIN_INTEGER_FIELDS = {models.IntegerField, models.BigIntegerField, models.SmallIntegerField, models.AutoField,
                        models.BigAutoField, models.PositiveIntegerField, models.PositiveSmallIntegerField,
                        models.PositiveBigIntegerField}


def _unchanged_types(field) -> frozenset:
    """The types of value that Django's get_db_prep_save returns unchanged for this field (None always)."""
    if isinstance(field, models.ForeignKey) and type(field) is models.ForeignKey:
        field = field.target_field
    if type(field) in PLAIN_TEXT_FIELDS:
        return frozenset({str, type(None)})
    if type(field) in PLAIN_INTEGER_FIELDS:
        return frozenset({int, type(None)})
    if type(field) is models.BooleanField:
        return frozenset({bool, type(None)})
    return frozenset()


class Insert:
    def __init__(self, model, *, ignore_conflicts: bool = False):
        self.model, self.ignore_conflicts = model, ignore_conflicts
        self._compiled = {}  # (database alias, number of rows) → (sql, returning fields, compiler, converters)

    @cached_property
    def fields(self) -> list:
        """Every column but the primary key, which is the database's to choose (own keys: use bulk_create)."""
        opts = self.model._meta
        if any(parent._meta.concrete_model is not opts.concrete_model for parent in opts.all_parents):
            raise ValueError("Insert cannot write a multi-table inherited model")
        fields = [f for f in opts.concrete_fields if not f.generated and not isinstance(f, models.AutoField)]
        if any(hasattr(field, "get_placeholder") for field in fields):
            raise ValueError("Insert writes plain parameters only; a field with its own placeholder needs bulk_create")
        return fields

    @cached_property
    def _fields_plain(self) -> list[tuple]:
        """(field, the types of value written as they are). Django's own text fields return a str or None
        unchanged from get_db_prep_save (Promise casting aside, which only touches lazy strings), its integer
        fields and keys to integer keys an int, its boolean fields a bool; skipping the call for them is a third
        of the preparation of an outbox row."""
        return [(field, _unchanged_types(field)) for field in self.fields]

    def __call__(self, objs):
        objs = list(objs)
        if not objs:
            return objs
        alias = router.db_for_write(self.model)
        connection = connections[alias]
        if any(obj._is_pk_set() for obj in objs):
            raise ValueError("Insert lets the database choose the primary key")
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="Insert")
        values = [field.pre_save(obj, True) for obj in objs for field in self.fields]
        if any(hasattr(value, "resolve_expression") for value in values):
            raise TypeError("Insert writes plain values; an expression needs bulk_create or save()")
        batch = max(connection.ops.bulk_batch_size(self.fields, objs), 1)
        width = len(self.fields)
        if len(objs) <= batch:
            self._insert(objs, values, connection, alias)
            return objs
        with transaction.atomic(using=alias, savepoint=False):
            for start in range(0, len(objs), batch):
                self._insert(objs[start:start + batch], values[start * width:(start + batch) * width], connection, alias)
        return objs

    def _insert(self, objs, values, connection, alias) -> None:
        compiled = self._compiled.get((alias, len(objs)))
        if compiled is None:
            compiled = self._compiled[(alias, len(objs))] = self._compile(objs, connection, alias)
        sql, returning, compiler, converters = compiled
        params = [value if type(value) in unchanged else field.get_db_prep_save(value, connection)
                  for (field, unchanged), value in zip(self._fields_plain * len(objs), values)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if returning else [()] * len(objs)
        if converters:
            rows = compiler.apply_converters(rows, converters)
        for obj, row in zip(objs, rows, strict=True):
            for field, value in zip(returning, row):
                setattr(obj, field.attname, value)
            obj._state.adding, obj._state.db = False, alias

    def _compile(self, objs, connection, alias):
        query = InsertQuery(self.model, on_conflict=OnConflict.IGNORE if self.ignore_conflicts else None)
        query.insert_values(self.fields, objs, raw=True)  # pre_save ran already: auto_now keeps its instant
        compiler = query.get_compiler(using=alias)
        # One placeholder per value on every backend (not PostgreSQL's UNNEST of columns): the parameters are the
        # values row after row, whatever the values are.
        compiler.assemble_as_sql = partial(SQLInsertCompiler.assemble_as_sql, compiler)
        features = connection.features
        # Rows skipped by a conflict return nothing, so the returned keys could not be matched to the objects.
        returning = () if self.ignore_conflicts else tuple(self.model._meta.db_returning_fields)
        if returning and not (features.can_return_rows_from_bulk_insert or len(objs) == 1 and
                              features.can_return_columns_from_insert):
            raise NotImplementedError(f"{connection.vendor} cannot return the keys of inserted rows")
        compiler.returning_fields = list(returning) or None
        statements = compiler.as_sql()
        if len(statements) != 1 or compiler.returning_params or len(statements[0][1]) != len(objs) * len(self.fields):
            raise NotImplementedError(f"Insert needs one INSERT statement with a parameter per value on {connection.vendor}")
        table = self.model._meta.db_table
        converters = compiler.get_converters([field.get_col(table) for field in returning])
        query.objs = []  # the compiler is kept for its converters, not the first call's objects
        return statements[0][0], returning, compiler, converters


class Update:
    """`obj.save(update_fields=fields)` for one row by primary key, its UPDATE built once per database, without
    the signals: for models whose saves nobody listens to (an alarm's ActiveAlarm on every append)."""

    def __init__(self, model, fields: tuple[str, ...]):
        self.model, self.field_names = model, tuple(fields)
        self._sql = {}  # database alias → statement

    @cached_property
    def fields(self) -> list:
        opts = self.model._meta
        fields = [opts.get_field(name) for name in self.field_names]
        if any(not field.concrete or field.primary_key or field.many_to_many for field in fields):
            raise ValueError("Update writes concrete, non-key columns")
        return fields

    def __call__(self, obj) -> None:
        alias = router.db_for_write(self.model, instance=obj)
        connection = connections[alias]
        sql = self._sql.get(alias)
        if sql is None:
            quote, opts = connection.ops.quote_name, self.model._meta
            sets = ", ".join(f"{quote(field.column)} = %s" for field in self.fields)
            sql = self._sql[alias] = f"UPDATE {quote(opts.db_table)} SET {sets} WHERE {quote(opts.pk.column)} = %s"
        values = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in self.fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*values, obj.pk])
            if cursor.rowcount != 1:
                raise self.model.DoesNotExist(f"{self.model.__name__} {obj.pk} is not there to update")
