"""Issue 21 §8: the index of ServiceRequest.search_terms (service/terms.py), one per database, and its lookup.

* SQLite: an FTS5 table over the column (external content: the terms are stored once, in the request row), kept
  current by three triggers. Django's SQLite schema editor rebuilds a table for some migrations, and dropping the old
  table drops its triggers, so `ensure_index` runs after every `migrate` (apps.py) and puts back what is missing,
  then rebuilds the index from the rows.
* PostgreSQL: a GIN index on the terms as an array; a query asks for the requests whose array contains every term.

Neither can be said in a model's Meta.indexes (an FTS5 table is no index, and a GIN index does not exist on SQLite),
so both are plain SQL through the schema editor's public `execute`, in migration 0016 and `ensure_index`.
"""

from django.db import models
from django.db.models import Lookup
from django.db.models.expressions import RawSQL

from .terms import runs

TABLE = "service_servicerequest"
FTS = "service_request_terms"
GIN = "srq_search_terms"

SQLITE_TRIGGERS = {
    f"{FTS}_insert": f"AFTER INSERT ON {TABLE} BEGIN "
                     f"INSERT INTO {FTS}(rowid, search_terms) VALUES (new.id, new.search_terms); END",
    f"{FTS}_delete": f"AFTER DELETE ON {TABLE} BEGIN "
                     f"INSERT INTO {FTS}({FTS}, rowid, search_terms) VALUES ('delete', old.id, old.search_terms); END",
    f"{FTS}_update": f"AFTER UPDATE OF search_terms ON {TABLE} BEGIN "
                     f"INSERT INTO {FTS}({FTS}, rowid, search_terms) VALUES ('delete', old.id, old.search_terms); "
                     f"INSERT INTO {FTS}(rowid, search_terms) VALUES (new.id, new.search_terms); END",
}


def ensure_index(connection) -> bool:
    """Create what is missing of the index on `connection`; True when something was (re)created."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name IN (%s)" % ", ".join(["%s"] * (len(SQLITE_TRIGGERS) + 1)),
                           [FTS, *SQLITE_TRIGGERS])
            present = {name for (name,) in cursor.fetchall()}
            if present >= {FTS, *SQLITE_TRIGGERS}:
                return False
            cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(search_terms, content='{TABLE}', "
                           "content_rowid='id')")
            for name, body in SQLITE_TRIGGERS.items():
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
            cursor.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")
            return True
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE tablename = %s AND indexname = %s", [TABLE, GIN])
            if cursor.fetchone():
                return False
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {GIN} ON {TABLE} USING gin (string_to_array(search_terms, ' '))")
            return True
    return False


def drop_index(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {GIN}")


class Match(Lookup):
    """``column MATCH query``: an FTS5 full-text query (SQLite), on a FullTextColumn."""

    lookup_name = "match"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class FullTextColumn(models.TextField):
    """The column of an FTS5 table (models.RequestTermIndex), searched with ``__match``."""


FullTextColumn.register_lookup(Match)


def fts_query(text: str) -> str:
    """The FTS5 query of `text`: each run of Chinese as the phrase of its consecutive pairs (so it matches exactly
    that run of characters), each other word as itself, all required. Empty when `text` has no term. The phrases hold
    only letters, digits and spaces: nothing typed can become an FTS5 operator."""
    phrases = []
    for ideographic, run in runs(text):
        if ideographic and len(run) > 1:
            phrases.append(" ".join(run[i:i + 2] for i in range(len(run) - 1)))
        elif not ideographic:
            phrases.append(run)
    return " ".join(f'"{phrase}"' for phrase in dict.fromkeys(phrases))


def has_terms(terms: list[str]) -> RawSQL:
    """PostgreSQL: a condition on requests, true when their terms hold every one of `terms`, on the GIN index."""
    # Unqualified: in a subquery Django renames the table (U0), and the column then resolves to the innermost one.
    return RawSQL("string_to_array(search_terms, ' ') @> %s::text[]", [terms], output_field=models.BooleanField())


def after_migrate(sender, using, apps=None, **kwargs):
    """post_migrate (apps.py): put back what a table rebuild dropped, once the column exists in the migrated state."""
    from django.core.exceptions import FieldDoesNotExist
    from django.db import connections

    try:
        (apps or sender.apps).get_model("service", "ServiceRequest")._meta.get_field("search_terms")
    except (LookupError, FieldDoesNotExist):
        return
    ensure_index(connections[using])
