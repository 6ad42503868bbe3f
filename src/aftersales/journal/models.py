"""LOG-1 (issue 25 §2): daily service logs (服务日志).

The seed: "登录日志管理系统进行日志填写，形成用户数据库记录" — staff log in and write what they did each day, and the
entries form the customer's record. One `DailyLog` per author and day; its `LogEntry` rows say what was done, where,
for which customer and project, for how long, and which service requests and inspection rounds it concerns. An entry
marked `visible_to_customer` is shown to the customer's contacts; the others are internal.

A day is open until its author submits it. A submitted day can still be corrected by its author: every change after
submission is a `LogEvent` with `after_submission` set (who, when, what changed), and the day carries `corrected_at`,
so the manager sees that a submitted day was changed and how. Only the verbs in journal/services.py write these rows."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimeStampedModel

MINUTES_PER_DAY = 24 * 60


class DailyLog(TimeStampedModel):
    """One author's log of one day (Asia/Shanghai). Staff data: a customer never sees the day, only the entries
    marked visible to them."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="daily_logs",
                               verbose_name=_("author"), db_index=False)  # the unique (author, day) index serves it
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, null=True, blank=True, related_name="+",
                               editable=False, db_index=False, verbose_name=_("branch"))  # the author's, when written
    day = models.DateField(_("day"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    corrected_at = models.DateTimeField(_("corrected after submission at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = None  # staff only
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("daily log")
        verbose_name_plural = _("daily logs")
        ordering = ["-day", "-pk"]
        permissions = [("view_team_logs", _("Can see the team's daily logs"))]
        constraints = [
            models.UniqueConstraint(fields=["author", "day"], name="dailylog_once_per_author_day",
                                    violation_error_message=_("This day has a log already.")),
        ]
        indexes = [models.Index(fields=["branch", "day"], name="dailylog_branch_day")]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.author}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    def get_absolute_url(self):
        return reverse("journal:log_detail", args=[self.pk])


class LogEntry(models.Model):
    """What was done, where, for whom, for how long; linked to the requests and rounds it concerns (same project)."""

    log = models.ForeignKey(DailyLog, models.CASCADE, related_name="entries", verbose_name=_("daily log"))
    day = models.DateField(_("day"), editable=False)  # the log's: lists by day without a join
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", editable=False,
                               db_index=False, verbose_name=_("author"))
    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="log_entries",
                                verbose_name=_("project"), db_index=False)  # (project, day) index below
    what = models.TextField(_("what was done"))
    place = models.CharField(_("where"), max_length=200, blank=True)
    minutes = models.PositiveIntegerField(_("time spent (minutes)"),
                                          validators=[MinValueValidator(1), MaxValueValidator(MINUTES_PER_DAY)])
    requests = models.ManyToManyField("service.ServiceRequest", blank=True, related_name="log_entries",
                                      verbose_name=_("service requests"))
    rounds = models.ManyToManyField("inspections.InspectionRound", blank=True, related_name="log_entries",
                                    verbose_name=_("inspection rounds"))
    visible_to_customer = models.BooleanField(_("visible to the customer"), default=False)
    created_at = models.DateTimeField(_("created at"), editable=False)

    scope_customer = "project__customer_id"
    scope_branch = "project__branch_id"

    class Meta:
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")
        ordering = ["-day", "pk"]
        constraints = [
            models.CheckConstraint(name="logentry_minutes_in_day",
                                   condition=Q(minutes__gte=1, minutes__lte=MINUTES_PER_DAY)),
            models.CheckConstraint(name="logentry_what_not_blank", condition=~Q(what="")),
        ]
        indexes = [
            models.Index(fields=["project", "day"], name="logentry_project_day"),
            models.Index(fields=["author", "day"], name="logentry_author_day"),
        ]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.what[:40]}"

    def get_absolute_url(self):
        return f"{reverse('journal:entries')}?month={self.day:%Y-%m}#entry-{self.pk}"


class LogEventKind(models.TextChoices):
    STARTED = "started", _("Day started")
    ENTRY_ADDED = "entry_added", _("Entry added")
    ENTRY_CHANGED = "entry_changed", _("Entry changed")
    ENTRY_REMOVED = "entry_removed", _("Entry removed")
    SUBMITTED = "submitted", _("Day submitted")


class LogEvent(models.Model):
    """The audit of a day: every verb writes one line; `after_submission` marks a correction of a submitted day."""

    log = models.ForeignKey(DailyLog, models.CASCADE, related_name="events", verbose_name=_("daily log"))
    kind = models.CharField(_("kind"), max_length=14, choices=LogEventKind)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"))
    after_submission = models.BooleanField(_("correction after submission"), default=False)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("daily log change")
        verbose_name_plural = _("daily log changes")
        ordering = ["at", "pk"]
        constraints = [models.CheckConstraint(name="logevent_kind_known", condition=Q(kind__in=LogEventKind.values))]
