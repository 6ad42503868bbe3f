"""SRQ-9: the verbs of the knowledge base, the only writers of articles.

Each verb is one transaction: it locks the article, compares the version the user saw (a stale one is a 409 with
nothing written), checks the state allows the step (else a 409) and who may take it, and rewrites the article's
search terms and model keys with its text. Rules:

- anyone with ``knowledge.add_article`` (engineers, the desk, managers, advisors) writes a draft or proposes one from
  a solved request; its author edits it while it is a draft, and submits it for review;
- a reviewer (``knowledge.review_article``: technical advisors and managers) edits any article not retired, publishes
  one in review or a draft — never one they wrote —, sends it back to its author with a note, or retires it.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.versioning import claim_version

from .index import article_terms
from .models import Article, ArticleModel, ArticleState, model_keys

WRITE = "knowledge.add_article"
EDIT = "knowledge.change_article"
REVIEW = "knowledge.review_article"

TEXT_FIELDS = ("title", "symptom", "cause", "fix", "device_models")
PROPOSABLE_STATES = ("resolved", "closed", "restored")


def can_review(user) -> bool:
    return bool(user and user.is_authenticated and not user.customer_id and user.has_perm(REVIEW))


def can_edit(user, article: Article) -> bool:
    """The author edits their draft; a reviewer any article not retired."""
    if not (user and user.is_authenticated) or user.customer_id or not user.has_perm(EDIT):
        return False
    if article.state == ArticleState.RETIRED:
        return False
    if can_review(user):
        return True
    return article.author_id == user.pk and article.state == ArticleState.DRAFT


def lock(article: Article, version) -> Article:
    article = Article.objects.select_for_update(of=("self",)).select_related("manufacturer").get(pk=article.pk)
    claim_version(article, version, touch=True)
    return article


def require_state(article: Article, *states) -> None:
    if article.state not in states:
        raise IllegalTransition(_("This article is “%(state)s”: that step is not possible now.")
                                % {"state": ArticleState(article.state).label})


def clean_text(fields: dict) -> dict:
    values = {name: (fields.get(name) or "").strip() for name in TEXT_FIELDS}
    if not values["title"]:
        raise DomainError(_("Give the article a title."), field="title")
    if not values["symptom"]:
        raise DomainError(_("Describe the fault as the user sees it."), field="symptom")
    if not values["fix"]:
        raise DomainError(_("Write the steps that fix it."), field="fix")
    return values


def index_terms(article: Article) -> None:
    """The article's search terms (saved by the caller)."""
    article.search_terms = article_terms(article.title, article.symptom, article.cause, article.fix,
                                         article.device_models, article.manufacturer.name if article.manufacturer else "")


def index(article: Article) -> None:
    index_terms(article)
    index_models(article)


def index_models(article: Article) -> None:
    """The article's model keys, rewritten."""
    ArticleModel.objects.filter(article=article).delete()
    ArticleModel.objects.bulk_create([ArticleModel(article=article, key=key[:100])
                                      for key in model_keys(article.device_models)])


def require(user, perm: str) -> None:
    if not user.has_perm(perm) or user.customer_id:
        raise DomainError(_("You may not do this."))


@transaction.atomic
def write_article(*, by, title: str, symptom: str, fix: str, cause: str = "", device_models: str = "",
                  manufacturer=None, category=None, customer_visible: bool = False, source_request=None) -> Article:
    """A new draft by `by`."""
    require(by, WRITE)
    values = clean_text({"title": title, "symptom": symptom, "cause": cause, "fix": fix,
                         "device_models": device_models})
    article = Article(author=by, manufacturer=manufacturer, category=category, customer_visible=customer_visible,
                      source_request=source_request, **values)
    index_terms(article)
    article.save()
    index_models(article)
    return article


@transaction.atomic
def edit_article(*, article: Article, by, version: int, title: str, symptom: str, fix: str, cause: str = "",
                 device_models: str = "", manufacturer=None, category=None, customer_visible: bool = False) -> Article:
    """Change the text: the author while it is a draft, a reviewer while it is not retired."""
    article = lock(article, version)
    if not can_edit(by, article):
        raise DomainError(_("Only the author edits their draft; a technical advisor or a manager any article."))
    values = clean_text({"title": title, "symptom": symptom, "cause": cause, "fix": fix,
                         "device_models": device_models})
    for name, value in values.items():
        setattr(article, name, value)
    article.manufacturer, article.category, article.customer_visible = manufacturer, category, customer_visible
    index(article)
    article.save(update_fields=[*values, "manufacturer", "category", "customer_visible", "search_terms"])
    return article


@transaction.atomic
def submit_for_review(*, article: Article, by, version: int) -> Article:
    """The author sends their draft to the advisors."""
    article = lock(article, version)
    require_state(article, ArticleState.DRAFT)
    if article.author_id != by.pk and not can_review(by):
        raise DomainError(_("Only the author submits their draft."))
    article.state = ArticleState.REVIEW
    article.save(update_fields=["state"])
    return article


@transaction.atomic
def publish(*, article: Article, by, version: int, note: str = "") -> Article:
    """A technical advisor or a manager reviews the article and publishes it; never its own author."""
    if not can_review(by):
        raise DomainError(_("Only a technical advisor or a manager reviews articles."))
    article = lock(article, version)
    require_state(article, ArticleState.DRAFT, ArticleState.REVIEW)
    if article.author_id == by.pk:
        raise DomainError(_("An author cannot review their own article: ask another advisor."))
    article.state, article.reviewer, article.reviewed_at = ArticleState.PUBLISHED, by, clock.now()
    article.review_note = (note or "").strip()
    article.save(update_fields=["state", "reviewer", "reviewed_at", "review_note"])
    return article


@transaction.atomic
def send_back(*, article: Article, by, version: int, note: str) -> Article:
    """The reviewer returns the article to its author as a draft, saying what to change."""
    if not can_review(by):
        raise DomainError(_("Only a technical advisor or a manager reviews articles."))
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say what the author should change."), field="note")
    article = lock(article, version)
    require_state(article, ArticleState.REVIEW)
    article.state, article.review_note = ArticleState.DRAFT, note
    article.save(update_fields=["state", "review_note"])
    return article


@transaction.atomic
def retire(*, article: Article, by, version: int) -> Article:
    """A reviewer withdraws an article that no longer applies (it stays readable by staff)."""
    if not can_review(by):
        raise DomainError(_("Only a technical advisor or a manager reviews articles."))
    article = lock(article, version)
    require_state(article, ArticleState.DRAFT, ArticleState.REVIEW, ArticleState.PUBLISHED)
    article.state = ArticleState.RETIRED
    article.save(update_fields=["state"])
    return article


def mark_helpful(*, article: Article) -> None:
    """One more reader found the article helpful (a counter; no version: nothing the user saw is overwritten)."""
    from django.db.models import F

    Article.objects.filter(pk=article.pk).update(helpful=F("helpful") + 1)


@transaction.atomic
def propose_from_request(*, request, by) -> tuple[Article, bool]:
    """One action on a solved request: a draft with its title and description as the symptom, its incident report's
    cause, its work orders' actions as the fix, its devices' models and manufacturer, linked to the request.
    Idempotent: the request's existing article is returned (False) instead of a second one."""
    from aftersales.service.models import IncidentReport, ServiceRequest

    require(by, WRITE)
    request = ServiceRequest.objects.select_for_update().get(pk=request.pk)  # one proposal at a time per request
    existing = Article.objects.filter(source_request=request).first()
    if existing is not None:
        return existing, False
    if request.state not in PROPOSABLE_STATES:
        raise IllegalTransition(_("Only a resolved or closed request can become an article."))
    devices = list(request.devices.select_related("manufacturer", "category").order_by("pk"))
    report = IncidentReport.objects.filter(request=request).first()
    work = [wo.actions.strip() for wo in request.work_orders.order_by("created_at", "pk") if wo.actions.strip()]
    makers = list(dict.fromkeys(d.manufacturer for d in devices if d.manufacturer_id))
    categories = list(dict.fromkeys(d.category for d in devices if d.category_id))
    symptom = "\n\n".join(part for part in (request.title, request.description.strip()) if part)
    fix = "\n".join(work) or (report.fix if report else "") or _("(to be written)")
    cause = (report.cause if report else "") or ""
    article = write_article(
        by=by, title=request.title[:200], symptom=symptom, cause=cause, fix=fix,
        device_models=", ".join(dict.fromkeys(d.model for d in devices if d.model))[:500],
        manufacturer=makers[0] if len(makers) == 1 else None,
        category=categories[0] if len(categories) == 1 else None, source_request=request)
    return article, True
