from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Heartbeat(models.Model):
    """A background process's sign of life for /health/ (core/health.py): its row is rewritten every minute
    (core/heartbeat_tasks.py). One row per name; no business data."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    at = models.DateTimeField(_("last beat"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


class IdempotentResponse(models.Model):
    """The first successful answer to a POST under /api/ that carried an `Idempotency-Key` (core/idempotency.py),
    written in the same transaction as the work it answers: a retry with the same key gets this answer back."""

    credential = models.CharField(_("caller"), max_length=64, help_text=_("SHA-256 of the caller's credentials"))
    key = models.CharField(_("idempotency key"), max_length=255)
    request_digest = models.CharField(_("request digest"), max_length=64)
    status = models.PositiveSmallIntegerField(_("status"))
    content_type = models.CharField(_("content type"), max_length=100)
    location = models.CharField(_("location"), max_length=500, blank=True)
    body = models.BinaryField(_("body"))
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("idempotent response")
        verbose_name_plural = _("idempotent responses")
        constraints = [models.UniqueConstraint(fields=["credential", "key"], name="core_idempotency_key_once")]

    def __str__(self):
        return f"{self.key} → {self.status}"
