"""SRQ-9 (issue 25 §6): the knowledge base. The seed promises a pool of senior technical advisors who help front-line
staff with hard problems; what they learn is kept as articles by device model, manufacturer and fault symptom,
written (or proposed from a solved request) by engineers and the desk, reviewed and published by a technical advisor
or a manager (never by the author), and, when marked customer-visible, offered to customers next to the report form.

Articles are the company's knowledge, shared by every branch: staff see them all, a customer's user only the
published customer-visible ones (selectors.py; `scope_customer = None`). The verbs in services.py are the only
writers. `search_terms` holds the Chinese bigram terms of the article's text (service/terms.py), indexed by
knowledge/index.py (FTS5 on SQLite, GIN on PostgreSQL)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.core.models import TimeStampedModel
from aftersales.service.term_index import FullTextColumn


class ArticleState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("knowledge article", "Draft")  # 草稿
    REVIEW = "review", _("In review")  # 审核中
    PUBLISHED = "published", pgettext_lazy("knowledge article", "Published")  # 已发布
    RETIRED = "retired", _("Retired")  # 已停用


MODEL_SEPARATORS = ",，;；、\n"


def model_keys(text: str) -> list[str]:
    """The device models of an article's text, as matched against Device.model: trimmed, case-folded, unique."""
    for separator in MODEL_SEPARATORS[1:]:
        text = (text or "").replace(separator, ",")
    return list(dict.fromkeys(part.strip().casefold() for part in text.split(",") if part.strip()))


class Article(TimeStampedModel):
    """One fault and its fix: draft → in review → published → retired (services.py)."""

    title = models.CharField(_("title"), max_length=200)
    symptom = models.TextField(_("symptom"), help_text=_("The fault as the user sees it."))
    cause = models.TextField(_("cause"), blank=True)
    fix = models.TextField(_("fix"), help_text=_("The steps, one per line."))
    manufacturer = models.ForeignKey("assets.Manufacturer", models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("manufacturer"))
    device_models = models.CharField(_("device models"), max_length=500, blank=True,
                                     help_text=_("Several models separated by commas, e.g. DS-2CD3T46WDV3-I3, "
                                                 "DH-IPC-HFW4433M."))
    category = models.ForeignKey("assets.DeviceCategory", models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("device category"))
    state = models.CharField(_("state"), max_length=10, choices=ArticleState, default=ArticleState.DRAFT)
    customer_visible = models.BooleanField(_("visible to customers"), default=False,
                                           help_text=_("Shown in the portal next to the report form once published."))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("author"))
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("reviewer"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    source_request = models.ForeignKey("service.ServiceRequest", models.SET_NULL, null=True, blank=True,
                                       related_name="+", verbose_name=_("source request"))
    helpful = models.PositiveIntegerField(_("found helpful"), default=0, editable=False)
    search_terms = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = None  # staff only through visible(); customers read through selectors.visible_articles

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        ordering = ["-updated_at", "-pk"]
        permissions = [("review_article", _("Can review and publish knowledge articles"))]
        constraints = [
            models.CheckConstraint(name="article_state_known", condition=Q(state__in=ArticleState.values)),
            models.CheckConstraint(name="article_title_not_blank", condition=~Q(title="")),
            models.CheckConstraint(name="article_published_was_reviewed",
                                   condition=~Q(state=ArticleState.PUBLISHED) | Q(reviewer__isnull=False)),
            models.CheckConstraint(name="article_reviewer_not_author",
                                   condition=Q(reviewer__isnull=True) | ~Q(reviewer=models.F("author"))),
            models.UniqueConstraint(fields=["source_request"], name="article_one_per_request"),
        ]
        indexes = [
            models.Index(fields=["state", "-updated_at"], name="article_state_updated"),
            models.Index(fields=["manufacturer", "state"], name="article_maker_state"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"KB{self.pk:05d}" if self.pk else ""

    def get_absolute_url(self):
        return reverse("knowledge:article_detail", args=[self.pk])

    @property
    def model_list(self) -> list[str]:
        return [part.strip() for part in (self.device_models or "").replace("，", ",").split(",") if part.strip()]

    @property
    def fix_steps(self) -> list[str]:
        return [line.strip() for line in self.fix.splitlines() if line.strip()]


class ArticleModel(models.Model):
    """One device model an article is about, case-folded: the indexed key matched against the models of a request's
    devices (matching.py). Rewritten by the verbs whenever the article's models change."""

    article = models.ForeignKey(Article, models.CASCADE, related_name="model_rows")
    key = models.CharField(max_length=100)

    scope_customer = None

    class Meta:
        ordering = ["article_id", "key"]
        constraints = [models.UniqueConstraint(fields=["article", "key"], name="article_model_unique")]
        indexes = [models.Index(fields=["key", "article"], name="article_model_key")]


class ArticleTermIndex(models.Model):
    """SQLite only: the FTS5 table over Article.search_terms (knowledge/index.py, created by migration 0001 and after
    every migrate), read for the ids and bm25 rank of the articles a text finds."""

    # The article the row indexes, so a query joins its text search and its bm25 rank (`terms_row__rank`); no
    # constraint and nothing done on delete (the FTS5 triggers keep the table current).
    rowid = models.OneToOneField(Article, models.DO_NOTHING, primary_key=True, db_column="rowid", db_constraint=False,
                                 related_name="terms_row")
    search_terms = FullTextColumn()
    rank = models.FloatField(db_column="rank")

    class Meta:
        managed = False
        db_table = "knowledge_article_terms"
