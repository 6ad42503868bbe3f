"""SRQ-9: who reads which articles, and the one search of articles (Chinese by any two consecutive characters).

Articles are shared by every branch: every staff member reads them all (drafts included, so engineers see what is
being written); a customer's user reads only the published, customer-visible ones (anything else is a 404, exactly
like a missing article); anyone else none."""

from django.db import connections
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from aftersales.core.scoping import is_staff_member
from aftersales.service.search import normalize

from .index import fts_query, has_terms, terms_of, words_of
from .models import Article, ArticleState

SEARCH_LIMIT = 50  # a search shows the best this many: refine the words for more
MAX_LENGTH = 100


def visible_articles(user) -> QuerySet[Article]:
    """Exactly the articles `user` may read (the history's and every page's door to articles)."""
    articles = Article.objects.all()
    if not user or not user.is_authenticated or not user.is_active:
        return articles.none()
    if user.customer_id:
        return articles.filter(state=ArticleState.PUBLISHED, customer_visible=True)
    if is_staff_member(user):
        return articles
    return articles.none()


def published_for(user) -> QuerySet[Article]:
    """The articles offered to `user` as help: published ones (for a customer, only the customer-visible)."""
    return visible_articles(user).filter(state=ArticleState.PUBLISHED)


def text_filter(text: str) -> Q:
    """Every run typed is contained in the article's text (title, symptom, cause, fix, models or manufacturer)."""
    condition = Q()
    for word in words_of(text):
        condition &= (Q(title__icontains=word) | Q(symptom__icontains=word) | Q(cause__icontains=word)
                      | Q(fix__icontains=word) | Q(device_models__icontains=word)
                      | Q(manufacturer__name__icontains=word))
    return condition


def search_articles(queryset: QuerySet[Article], text: str | None, *, limit: int = SEARCH_LIMIT) -> list[Article]:
    """The best `limit` articles of `queryset` (already scoped) that `text` finds, best first. One query.

    SQLite: the FTS5 index's phrases (service/term_index.fts_query: each Chinese run as its consecutive pairs, each
    other word whole), ranked by bm25. PostgreSQL: the GIN index's ``@>`` on every term, each word re-checked
    against the text (the array knows no order), the articles whose title holds what was typed first. A text with
    no term (one Chinese character) is looked for by "contains"."""
    text = normalize(text)[:MAX_LENGTH]
    queryset = queryset.select_related("manufacturer")
    if not text:
        return list(queryset.order_by("-updated_at", "-pk")[:limit])
    vendor = connections[queryset.db].vendor
    if vendor == "sqlite" and (query := fts_query(text)):
        return list(queryset.filter(terms_row__search_terms__match=query).order_by("terms_row__rank", "-pk")[:limit])
    title_first = Case(When(title__icontains=text, then=Value(0)), default=Value(1), output_field=IntegerField())
    if vendor == "postgresql" and (terms := terms_of(text)):
        found = queryset.filter(has_terms(terms)).filter(text_filter(text))
    else:
        found = queryset.filter(text_filter(text))
    return list(found.alias(title_first=title_first).order_by("title_first", "-updated_at", "-pk")[:limit])


def review_queue() -> QuerySet[Article]:
    """Articles waiting for a reviewer, the oldest first."""
    return (Article.objects.filter(state=ArticleState.REVIEW).select_related("author", "manufacturer")
            .order_by("updated_at", "pk"))
