"""SRQ-1 channels that open requests by themselves: inbound mail, device QR labels (扫码报修) and
monitoring alarms. Nothing that arrives is dropped: every message, report and alarm is a row first."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# ---------------------------------------------------------------------------------------------- mail


class MailState(models.TextChoices):
    STORED = "stored", _("Stored, not processed yet")
    CREATED = "created", _("Opened a request")
    APPENDED = "appended", _("Added to a request")
    TRIAGE = "triage", _("Unknown sender: waiting for the desk")
    IGNORED = "ignored", _("Ignored (auto-reply, bounce or our own mail)")
    REJECTED = "rejected", _("Rejected (malformed)")


class InboundMail(models.Model):
    """The raw message is stored before it is parsed (lessons.md #6); Message-ID makes delivery idempotent."""

    message_id = models.CharField(max_length=255, unique=True)
    raw = models.BinaryField()
    source = models.CharField(max_length=100, blank=True)  # "pipe" or "imap:<mailbox>"
    received_at = models.DateTimeField()
    from_address = models.CharField(_("from"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=MailState, default=MailState.STORED)
    reason = models.TextField(_("reason"), blank=True)
    customer = models.ForeignKey("customers.Customer", models.SET_NULL, null=True, blank=True, related_name="+")
    request = models.ForeignKey("service.ServiceRequest", models.SET_NULL, null=True, blank=True, related_name="mails")
    processed_at = models.DateTimeField(null=True, blank=True)

    scope_customer = "customer_id"
    scope_branch = "customer__branch_id"

    class Meta:
        verbose_name = _("inbound mail")
        verbose_name_plural = _("inbound mail")
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["state", "received_at"], name="mail_state_received")]


# ---------------------------------------------------------------------------------------------- QR labels


class ReportThrottle(models.Model):
    """Counts public label reports per key (device or address) in a fixed window: a shared, database-backed
    rate limit that holds across worker processes."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="throttle_window_once")]


# ---------------------------------------------------------------------------------------------- alarms


def new_key() -> str:
    return "ask_" + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class IntegrationKey(models.Model):
    """A per-source key for alarm events, created by an administrator for a customer or one project.
    Only its hash is stored; the key is shown once."""

    name = models.CharField(_("name"), max_length=100)
    customer = models.ForeignKey("customers.Customer", models.CASCADE, related_name="integration_keys", verbose_name=_("customer"))
    project = models.ForeignKey("customers.Project", models.CASCADE, null=True, blank=True, related_name="integration_keys",
                                verbose_name=_("project"))
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    auto_close_recovered = models.BooleanField(
        _("close recovered requests automatically"), default=True,
        help_text=_("A cleared alarm closes its request if nobody was dispatched yet; otherwise the desk decides."),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    scope_customer = "customer_id"
    scope_branch = "customer__branch_id"

    class Meta:
        verbose_name = _("integration key")
        verbose_name_plural = _("integration keys")
        ordering = ["customer", "name"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class DeviceAlias(models.Model):
    """Maps a monitoring system's own device id to a registered device."""

    customer = models.ForeignKey("customers.Customer", models.CASCADE, related_name="+")
    external_id = models.CharField(_("external id"), max_length=200)
    device = models.ForeignKey("assets.Device", models.CASCADE, related_name="aliases", verbose_name=_("device"))

    scope_customer = "customer_id"
    scope_branch = "customer__branch_id"

    class Meta:
        verbose_name = _("device alias")
        verbose_name_plural = _("device aliases")
        constraints = [models.UniqueConstraint(fields=["customer", "external_id"], name="alias_once_per_customer")]


class AlarmPriorityRule(models.Model):
    """Alarm type (and optionally device category) → request priority; the most specific rule wins."""

    alarm_type = models.CharField(_("alarm type"), max_length=40)
    category = models.ForeignKey("assets.DeviceCategory", models.CASCADE, null=True, blank=True, verbose_name=_("device category"))
    priority = models.CharField(_("priority"), max_length=10)

    class Meta:
        verbose_name = _("alarm priority rule")
        verbose_name_plural = _("alarm priority rules")
        constraints = [models.UniqueConstraint(fields=["alarm_type", "category"], name="alarm_rule_once"),
                       models.UniqueConstraint(fields=["alarm_type"], condition=Q(category__isnull=True), name="alarm_rule_default_once")]


class AlarmOutcome(models.TextChoices):
    OPENED = "opened", _("Opened a request")
    APPENDED = "appended", _("Added to the open request")
    RECOVERED = "recovered", _("Recovery recorded")
    CLOSED = "closed", _("Recovered: request closed")
    IGNORED = "ignored", _("Nothing to do")
    UNMATCHED = "unmatched", _("Unknown device")


class AlarmEvent(models.Model):
    """Every event received, matched or not; unmatched ones wait in a list with the reason."""

    key = models.ForeignKey(IntegrationKey, models.PROTECT, related_name="events")
    customer = models.ForeignKey("customers.Customer", models.CASCADE, related_name="+")
    received_at = models.DateTimeField()
    occurred_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    device = models.ForeignKey("assets.Device", models.SET_NULL, null=True, blank=True, related_name="alarm_events")
    alarm_type = models.CharField(max_length=40)
    raised = models.BooleanField()
    outcome = models.CharField(max_length=10, choices=AlarmOutcome)
    reason = models.TextField(blank=True)
    request = models.ForeignKey("service.ServiceRequest", models.SET_NULL, null=True, blank=True, related_name="alarm_events")

    scope_customer = "customer_id"
    scope_branch = "customer__branch_id"

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["outcome", "received_at"], name="alarm_outcome_received")]


class ActiveAlarm(models.Model):
    """The one open request per device and alarm type; the unique key makes concurrent raises safe."""

    device = models.ForeignKey("assets.Device", models.CASCADE, related_name="+")
    alarm_type = models.CharField(max_length=40)
    request = models.ForeignKey("service.ServiceRequest", models.CASCADE, related_name="+")
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "alarm_type"], name="one_active_alarm")]
