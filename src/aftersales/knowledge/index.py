"""SRQ-9: the index of Article.search_terms, built the way service/term_index.py indexes request titles (its query
builders `fts_query` and `has_terms`, and service/terms.py's `terms_of`, are imported, not copied):

* SQLite: an FTS5 table over the column (external content, kept current by three triggers), searched with the
  phrases of `fts_query` and ranked by FTS5's bm25 (`rank`). Django's SQLite schema editor rebuilds a table for some
  migrations and so drops its triggers: `ensure_index` runs after every migrate (apps.py) and puts back what is
  missing.
* PostgreSQL: a GIN index on the terms as an array, asked with ``@>`` (every term) or ``&&`` (any term, for matching),
  the words typed then re-checked against the text.
"""

from django.db import connections
from django.db.models import BooleanField, FloatField
from django.db.models.expressions import RawSQL

from aftersales.service.term_index import fts_query, has_terms
from aftersales.service.terms import SEPARATOR, runs, terms_of

TABLE = "knowledge_article"
FTS = "knowledge_article_terms"
GIN = "knowledge_article_terms_gin"

SQLITE_TRIGGERS = {
    f"{FTS}_insert": f"AFTER INSERT ON {TABLE} BEGIN "
                     f"INSERT INTO {FTS}(rowid, search_terms) VALUES (new.id, new.search_terms); END",
    f"{FTS}_delete": f"AFTER DELETE ON {TABLE} BEGIN "
                     f"INSERT INTO {FTS}({FTS}, rowid, search_terms) VALUES ('delete', old.id, old.search_terms); END",
    f"{FTS}_update": f"AFTER UPDATE OF search_terms ON {TABLE} BEGIN "
                     f"INSERT INTO {FTS}({FTS}, rowid, search_terms) VALUES ('delete', old.id, old.search_terms); "
                     f"INSERT INTO {FTS}(rowid, search_terms) VALUES (new.id, new.search_terms); END",
}


def article_terms(*texts: str) -> str:
    """The column Article.search_terms: the terms of every text (title, symptom, cause, fix, models, manufacturer)."""
    return SEPARATOR.join(term for text in texts for term in terms_of(text))


def ensure_index(connection) -> bool:
    """Create what is missing of the index on `connection`; True when something was (re)created."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            names = [FTS, *SQLITE_TRIGGERS]
            cursor.execute("SELECT name FROM sqlite_master WHERE name IN (%s)" % ", ".join(["%s"] * len(names)), names)
            if {name for (name,) in cursor.fetchall()} >= set(names):
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
            # fastupdate off: articles are written a few a day and read all the time; a GIN index's pending list
            # (fastupdate on) makes the planner price the index above a scan until the next VACUUM (measured).
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {GIN} ON {TABLE} USING gin (string_to_array(search_terms, ' ')) "
                           "WITH (fastupdate = off)")
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


def after_migrate(sender, using, apps=None, **kwargs):
    """post_migrate (apps.py): put back what a table rebuild dropped, once the table exists in the migrated state."""
    try:
        (apps or sender.apps).get_model("knowledge", "Article")
    except LookupError:
        return
    ensure_index(connections[using])


def any_terms_query(text: str) -> str:
    """SQLite, for matching a request to articles: any of the text's terms (an FTS5 OR of quoted terms), so bm25
    ranks first the articles sharing most of them. Empty when the text has no term."""
    return " OR ".join(f'"{term}"' for term in dict.fromkeys(terms_of(text)))


def has_any_term(terms: list[str]) -> RawSQL:
    """PostgreSQL: the article's terms share at least one of `terms` (``&&``, on the GIN index)."""
    return RawSQL("string_to_array(search_terms, ' ') && %s::text[]", [terms], output_field=BooleanField())


def shared_terms(terms: list[str]) -> RawSQL:
    """PostgreSQL: how many of `terms` the article's terms hold (the rank of a match)."""
    return RawSQL("cardinality(ARRAY(SELECT unnest(string_to_array(search_terms, ' ')) INTERSECT "
                  "SELECT unnest(%s::text[])))", [terms], output_field=FloatField())


def words_of(text: str) -> list[str]:
    """The runs of what was typed, as re-checked against the text on PostgreSQL (one Chinese character alone too)."""
    return [run for _ideographic, run in runs(text)]


__all__ = ["any_terms_query", "article_terms", "drop_index", "ensure_index", "fts_query", "has_any_term", "has_terms",
           "shared_terms", "terms_of", "words_of"]
