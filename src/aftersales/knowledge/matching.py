"""SRQ-9: the articles that may help with a request — shown on the request page (staff, and engineers on their
phone) and, customer-visible ones only, to the customer.

An article matches when it is about the model of one of the request's devices (ArticleModel's indexed key), or
shares words with the request's title and the start of its description (through the article index: FTS5's bm25 on
SQLite, the GIN array overlap on PostgreSQL), or is about the manufacturer of one of its devices. Ranked: the same
model first, then by the words shared, then the manufacturer. Two queries whatever the number of articles: the
best articles by words, then the articles by model, manufacturer or those words, with their model hit."""

from django.db import connections
from django.db.models import Exists, OuterRef, Q

from .index import any_terms_query, has_any_term, shared_terms, terms_of
from .models import Article, ArticleModel
from .selectors import published_for

LIMIT = 5
WORD_CANDIDATES = 20
DESCRIPTION_CHARS = 60
PG_CANDIDATES = 1_000


def request_text(request) -> str:
    return f"{request.title} {(request.description or '')[:DESCRIPTION_CHARS]}"


def word_hits(articles, text: str, limit: int = WORD_CANDIDATES) -> list[int]:
    """The ids of the `articles` sharing most terms with `text`, best first (one query; none without a term)."""
    vendor = connections[articles.db].vendor
    if vendor == "sqlite":
        query = any_terms_query(text)
        if not query:
            return []
        return list(articles.filter(terms_row__search_terms__match=query).order_by("terms_row__rank", "-pk")
                    .values_list("pk", flat=True)[:limit])
    terms = list(dict.fromkeys(terms_of(text)))
    if not terms:
        return []
    if vendor == "postgresql":
        # Ranked among the newest PG_CANDIDATES sharing a term (GIN ``&&``): counting the shared terms of every
        # article that shares one common pair costs 0.6 s at 20,000 articles (bench/knowledge_search.md).
        candidates = articles.filter(has_any_term(terms)).order_by("-pk").values("pk")[:PG_CANDIDATES]
        return list(articles.filter(pk__in=candidates).alias(shared=shared_terms(terms))
                    .order_by("-shared", "-pk").values_list("pk", flat=True)[:limit])
    return []


def matching_articles(user, *, devices, text: str = "", limit: int = LIMIT) -> list[Article]:
    """The published articles `user` may read (customers: customer-visible) about `devices` or `text`, best first.
    `devices` are Device objects (their model and manufacturer_id are read, nothing else)."""
    articles = published_for(user)
    keys = list(dict.fromkeys(d.model.strip().casefold()[:100] for d in devices if d.model and d.model.strip()))
    makers = list(dict.fromkeys(d.manufacturer_id for d in devices if d.manufacturer_id))
    by_words = word_hits(articles, text)
    if not (keys or makers or by_words):
        return []
    same_model = ArticleModel.objects.filter(article=OuterRef("pk"), key__in=keys)
    condition = Q(pk__in=by_words) | Q(manufacturer_id__in=makers) | Q(Exists(same_model))
    found = list(articles.filter(condition).annotate(same_model=Exists(same_model)).select_related("manufacturer")
                 .order_by("-updated_at", "-pk")[:limit * 4 + len(by_words)])
    position = {pk: n for n, pk in enumerate(by_words)}

    def rank(article):
        words = position.get(article.pk)
        maker = article.manufacturer_id in makers
        if not article.same_model and words is None and maker and len(found) > limit:
            return (3, 0)  # the manufacturer alone: only when nothing better fills the list
        return (0 if article.same_model else 1 if words is not None else 2,
                words if words is not None else len(position), -int(maker))

    return sorted(found, key=rank)[:limit]


def for_request(user, request, devices=None, limit: int = LIMIT) -> list[Article]:
    """The articles matching a request (its devices: those given, already loaded by the page, or read here)."""
    if devices is None:
        devices = list(request.devices.only("pk", "model", "manufacturer_id"))
    return matching_articles(user, devices=devices, text=request_text(request), limit=limit)
