"""NOT-1: notifications by email, chat robots (WeCom, DingTalk, Feishu, any JSON webhook), text messages (SMS) and
in the application.

A robot endpoint is either an administrator's (a group robot that hears about events, `owner` empty) or one user's
own robot (`owner` set): that one receives the messages addressed to its owner and nothing else (issue 21 §12).

A business action writes `OutboxMessage` rows in its own transaction (services.enqueue); a worker
delivers them afterwards with retries (services.deliver). An in-app notification is an outbox row of
channel `inapp` that is delivered the moment it is written and carries `read_at`.
"""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimeStampedModel

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")

# The events NOT-1 names, for labels on pages and in the endpoint form. Callers may use others.
EVENT_LABELS = {
    "request_created": _("New service request"),  # 新报修
    "request_assigned": _("Request assigned"),  # 派单
    "sla_warning": _("Target about to be missed"),  # 即将超时
    "escalation": _("Escalation"),  # 升级
    "confirmation_needed": _("Confirmation needed"),  # 待确认
    "work_order_confirmed": _("Work order confirmed"),
    "request_replied": _("Service plan sent"),  # 已答复
    "work_rejected": _("Work order rejected"),
    "advisor_needed": _("Technical advice needed"),
    "incident_report_answered": _("Incident report answered"),
    "request_mail": _("Mail on a request"),
    "inspection_notice": _("Inspection notice"),  # 巡检通知
    "inspection_finding": _("Inspection finding"),  # 巡检发现问题
    "inspection_report": _("Inspection report"),  # 巡检报告
    "survey_invitation": _("Survey invitation"),  # 回访邀请
    "robot_test": _("Test message"),  # 测试消息
    "coverage_ending": _("Warranty or contract ending"),  # 保修/维保到期提醒
    "low_stock": _("Low stock"),  # 库存不足 (parts/services.py)
    "loan_overdue": _("Spare unit overdue"),  # 备用机超期未还 (repairs/reminders.py)
    "rma_overdue": _("RMA overdue"),  # 返厂超期未回
    "monthly_report": _("Monthly service report"),  # 月度服务报告 (proof/services.py)
    "hazard_report_sent": _("Hidden-danger report to confirm"),  # 隐患报告待确认 (proposals/services.py, issue 25 §4)
    "hazard_report_answered": _("Hidden-danger report answered"),  # 隐患报告已答复
    "proposal_sent": _("Proposal to choose from"),  # 方案待选择 (issue 25 §5)
    "proposal_answered": _("Proposal answered"),  # 方案已答复
    "change_notice_submitted": _("Change notice received"),  # 收到变更通知 (changes/services.py, issue 25 §4)
    "change_notice_answered": _("Change notice answered"),  # 变更通知已答复
    "change_notice_withdrawn": _("Change notice withdrawn"),  # 变更通知已撤回
    "change_notice_due_soon": _("Change notice answer due soon"),  # 变更通知即将到期 (changes/sweep.py)
    "change_notice_overdue": _("Change notice answer overdue"),  # 变更通知答复超时
}


def event_label(event: str) -> str:
    return str(EVENT_LABELS.get(event, event))


def mask_url(value: str) -> str:
    """Audit-log mask for a webhook address: a robot's key sits in its query string."""
    parts = urlsplit(str(value))
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Chat robot / webhook")
    INAPP = "inapp", _("In the application")
    SMS = "sms", _("Text message (SMS)")  # 短信


class EndpointKind(models.TextChoices):
    GENERIC = "generic", _("Generic JSON POST")
    WECOM = "wecom", _("WeCom group robot")  # 企业微信群机器人
    DINGTALK = "dingtalk", _("DingTalk group robot")  # 钉钉群机器人
    FEISHU = "feishu", _("Feishu group robot")  # 飞书群机器人


# The kinds a user may choose for their own robot, and the hosts those services' custom robots live on. A personal
# robot is entered by any user, customers included: pointing it anywhere else would let them make the worker post to
# machines inside the network (SSRF), so only these hosts, over https, are accepted (validate_personal_robot_url).
PERSONAL_ROBOT_HOSTS = {
    EndpointKind.WECOM: ("qyapi.weixin.qq.com",),
    EndpointKind.DINGTALK: ("oapi.dingtalk.com",),
    EndpointKind.FEISHU: ("open.feishu.cn", "open.larksuite.com"),
}
LOOPBACK_HOSTS = ("127.0.0.1",)
# Tests point personal robots at a stub on 127.0.0.1 (plain http); never true in a deployment.
ALLOW_LOOPBACK_ROBOTS = False


def validate_personal_robot_url(url: str, kind: str) -> None:
    """A user's own robot address: https on the robot service's own host (http to 127.0.0.1 only in tests)."""
    from django.core.exceptions import ValidationError

    URLValidator(schemes=["http", "https"])(url)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(_("Enter a valid URL."), code="invalid") from None
    if ALLOW_LOOPBACK_ROBOTS and host in LOOPBACK_HOSTS:
        return
    if parts.scheme != "https":
        raise ValidationError(_("The robot's address must start with https://."), code="scheme")
    hosts = PERSONAL_ROBOT_HOSTS.get(kind, ())
    if host not in hosts or port not in (None, 443):
        raise ValidationError(_("This is not the address of a %(kind)s robot: it must be on %(hosts)s.")
                              % {"kind": EndpointKind(kind).label if kind in EndpointKind.values else kind,
                                 "hosts": ", ".join(hosts) or "-"}, code="host")


class WebhookEndpoint(TimeStampedModel):
    """A chat robot or a JSON receiver that hears about events; managed by administrators."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=EndpointKind, default=EndpointKind.GENERIC)
    url = models.URLField(
        _("address"), max_length=500, validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("The webhook address from the robot's settings. It contains the robot's key: keep it private."),
    )
    secret = models.CharField(
        _("signing secret"), max_length=200, blank=True,
        help_text=_("DingTalk: the robot's signing secret (starts with SEC). Generic: key of the "
                    "X-Aftersales-Signature header (HMAC-SHA256 of the body). Empty: not signed."),
    )
    active = models.BooleanField(_("active"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("owner"),
        help_text=_("A user's own robot: it receives only the messages addressed to that user. Empty: a group robot."),
    )
    events = models.CharField(
        _("events"), max_length=500, blank=True,
        help_text=_("Event names separated by commas, e.g. request_created, escalation. Empty: every event."),
    )
    branch = models.ForeignKey(
        "accounts.Branch", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("branch"),
        help_text=_("Only events about this branch's customers. Empty: every branch."),
    )
    customer = models.ForeignKey(
        "customers.Customer", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("customer"),
        help_text=_("Only events about this customer, e.g. a robot in the customer's own group chat. "
                    "Choose its events with care: an empty list sends internal events such as escalations too."),
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name"]
        constraints = [models.CheckConstraint(name="webhook_kind_known", condition=Q(kind__in=EndpointKind.values)),
                       # One robot per user; a personal robot hears only its owner, so it has no branch or customer.
                       models.UniqueConstraint(fields=["owner"], name="webhook_one_per_owner",
                                               condition=Q(owner__isnull=False)),
                       models.CheckConstraint(name="webhook_personal_unscoped",
                                              condition=Q(owner__isnull=True)
                                              | Q(branch__isnull=True, customer__isnull=True))]

    def __str__(self):
        return self.name

    def event_names(self) -> set[str]:
        return {name for name in re.split(r"[\s,，]+", self.events) if name}

    def receives(self, event: str) -> bool:
        names = self.event_names()
        return not names or event in names

    def clean(self):
        from django.core.exceptions import ValidationError

        bad = sorted(name for name in self.event_names() if not EVENT_NAME.match(name))
        if bad:
            raise ValidationError({"events": _("Not an event name: %(names)s") % {"names": ", ".join(bad)}})


class OutboxMessage(models.Model):
    """One message to one recipient on one channel. Pending while `next_attempt_at` is set; then either
    `sent_at` (delivered) or `failed_at` (given up, still listed for administrators to retry)."""

    event = models.CharField(_("event"), max_length=50)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("recipient")
    )
    recipient_address = models.EmailField(_("email address"), blank=True)  # as it was when the event happened
    endpoint = models.ForeignKey(  # indexed by outbox_endpoint_recent, where it is set
        WebhookEndpoint, models.CASCADE, null=True, blank=True, related_name="messages", verbose_name=_("webhook endpoint"),
        db_index=False,
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    payload = models.JSONField(_("data"), null=True, blank=True, encoder=DjangoJSONEncoder)
    about_type = models.ForeignKey(ContentType, models.SET_NULL, null=True, blank=True, related_name="+")
    about_id = models.CharField(max_length=64, blank=True)
    about_label = models.CharField(_("about"), max_length=200, blank=True)
    dedupe_key = models.CharField(max_length=200)
    message_id = models.CharField(_("Message-ID"), max_length=250, blank=True)  # email: for threading replies later
    created_at = models.DateTimeField(_("created at"), editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)  # the worker reads this
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)  # robots' rate limit counts these
    sent_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("given up at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)  # in-app only

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.CheckConstraint(name="outbox_channel_known", condition=Q(channel__in=Channel.values)),
            models.CheckConstraint(
                name="outbox_recipient_fits_channel",
                condition=(Q(channel=Channel.EMAIL, recipient_user__isnull=False, endpoint__isnull=True)
                           & ~Q(recipient_address=""))
                | Q(channel=Channel.INAPP, recipient_user__isnull=False, endpoint__isnull=True)
                | Q(channel=Channel.SMS, recipient_user__isnull=False, endpoint__isnull=True)
                | Q(channel=Channel.WEBHOOK, recipient_user__isnull=True, endpoint__isnull=False),
            ),
            models.CheckConstraint(  # exactly one state: pending, delivered or given up
                name="outbox_one_state",
                condition=Q(next_attempt_at__isnull=False, sent_at__isnull=True, failed_at__isnull=True)
                | Q(next_attempt_at__isnull=True, sent_at__isnull=False, failed_at__isnull=True)
                | Q(next_attempt_at__isnull=True, sent_at__isnull=True, failed_at__isnull=False),
            ),
            models.CheckConstraint(name="outbox_read_only_inapp", condition=Q(read_at__isnull=True) | Q(channel=Channel.INAPP)),
            # An event enqueued twice (a retried request, a second worker) is one message per recipient.
            models.UniqueConstraint(fields=["dedupe_key", "channel", "recipient_user"], name="outbox_once_per_user",
                                    condition=Q(recipient_user__isnull=False)),
            models.UniqueConstraint(fields=["dedupe_key", "endpoint"], name="outbox_once_per_endpoint",
                                    condition=Q(endpoint__isnull=False)),
        ]
        indexes = [
            # The worker's query: what is due. Delivered messages cost it nothing.
            models.Index(fields=["next_attempt_at"], name="outbox_due", condition=Q(sent_at__isnull=True)),
            # Inbound mail threads replies by the Message-ID of the notification they answer.
            models.Index(fields=["message_id"], name="outbox_message_id", condition=~Q(message_id="")),
            # The administrators' list of what has not gone out.
            models.Index(fields=["-created_at"], name="outbox_unsent", condition=Q(sent_at__isnull=True)),
            # A user's in-app notifications, newest first, and the bell's unread count.
            models.Index(fields=["recipient_user", "-created_at"], name="inapp_inbox", condition=Q(channel="inapp")),
            models.Index(fields=["recipient_user"], name="inapp_unread", condition=Q(channel="inapp", read_at__isnull=True)),
            # The rows an enqueue just wrote (bulk_create with ignore_conflicts returns no ids), found by their key.
            models.Index(fields=["dedupe_key"], name="outbox_dedupe"),
            # A robot's requests in the last minute (rate limit).
            models.Index(fields=["endpoint", "last_attempt_at"], name="outbox_endpoint_recent",
                         condition=Q(endpoint__isnull=False)),
            # A user's text messages in the last hour (rate limit).
            models.Index(fields=["recipient_user", "last_attempt_at"], name="outbox_sms_recent",
                         condition=Q(channel="sms")),
        ]

    def __str__(self):
        return f"{self.subject} → {self.recipient_label}"

    @property
    def recipient_label(self) -> str:
        if self.channel == Channel.WEBHOOK:
            return str(self.endpoint) if self.endpoint_id else ""
        if self.channel == Channel.EMAIL:
            return self.recipient_address
        return str(self.recipient_user) if self.recipient_user_id else ""

    @property
    def state(self) -> str:
        if self.sent_at:
            return "sent"
        return "failed" if self.failed_at else "pending"

    @property
    def event_label(self) -> str:
        return event_label(self.event)


class NotificationPreference(models.Model):
    """NOT-1: each user chooses their channels. No row means email and in-app. Their own robot is a WebhookEndpoint
    with `owner` set; text messages need a provider (AFTERSALES_SMS_PROVIDER) and the phone in their profile."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, primary_key=True, related_name="notification_preference"
    )
    email = models.BooleanField(_("by email"), default=True)
    inapp = models.BooleanField(_("in the application"), default=True)
    sms = models.BooleanField(_("by text message"), default=False)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.user)
