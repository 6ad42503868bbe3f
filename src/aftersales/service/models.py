"""SRQ-1..10: service requests, their SLA clocks (a log of targets and pauses), escalation,
dispatch, work orders, incident reports and the timeline."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimeStampedModel

from .term_index import FullTextColumn


class Priority(models.TextChoices):
    GENERAL = "general", _("General")  # 一般
    SERIOUS = "serious", _("Serious")  # 严重
    EMERGENCY = "emergency", _("Emergency")  # 紧急


PRIORITY_DEFINITIONS = {  # SRQ-2, the seed's words, shown where the user chooses
    Priority.GENERAL: _("Occasional problem, use not affected, or a planned new topic."),
    Priority.SERIOUS: _("Frequent problem affecting business, or an urgent task with a deadline."),
    Priority.EMERGENCY: _("System unusable, business interrupted."),
}


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Web portal")
    ONSITE = "onsite", _("On site")
    REMOTE = "remote", _("Remote (VPN / remote desktop)")
    LABEL = "label", _("Device QR label")
    ALARM = "alarm", _("Monitoring alarm")


class ServiceMode(models.TextChoices):
    PHONE = "phone", _("Phone")
    REMOTE = "remote", _("Remote")
    ONSITE = "onsite", _("On site")


class ConfirmedVia(models.TextChoices):
    """How the customer confirmed or rejected a work order or an incident report."""

    SIGNATURE = "signature", _("signature on screen")
    PORTAL = "portal", _("customer portal")
    LINK = "link", _("confirmation link")
    ONSITE = "onsite", _("on site")


class State(models.TextChoices):
    NEW = "new", _("New")  # waiting for a reply with a service plan
    REPLIED = "replied", _("Replied")  # plan given, work by phone/remote or awaiting dispatch
    DISPATCHED = "dispatched", _("Dispatched")
    EN_ROUTE = "en_route", _("Engineer en route")
    ON_SITE = "on_site", _("Engineer on site")
    RESOLVED = "resolved", _("Resolved, awaiting confirmation")
    # Issue 21 §2: a confirmed temporary fix (临时处理) restored the service; the request stays open for the
    # permanent fix (a new work order, remote or after another dispatch)
    RESTORED = "restored", _("Service restored, temporary fix in place")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = [State.NEW, State.REPLIED, State.DISPATCHED, State.EN_ROUTE, State.ON_SITE, State.RESOLVED,
               State.RESTORED]

# Allowed moves are data (SRQ state machine); anything else is an IllegalTransition (HTTP 409).
ALLOWED = {
    State.NEW: {State.REPLIED, State.CANCELLED},
    State.REPLIED: {State.DISPATCHED, State.RESOLVED, State.CANCELLED},
    State.DISPATCHED: {State.EN_ROUTE, State.ON_SITE, State.REPLIED, State.CANCELLED},
    State.EN_ROUTE: {State.ON_SITE, State.REPLIED},
    State.ON_SITE: {State.RESOLVED, State.REPLIED},
    State.RESOLVED: {State.CLOSED, State.RESTORED, State.REPLIED},  # confirmed (a temporary fix: restored), rejected
    State.RESTORED: {State.DISPATCHED, State.RESOLVED, State.CANCELLED},  # the permanent fix, remote or on site
    State.CLOSED: set(),
    State.CANCELLED: set(),
}


class TargetKind(models.TextChoices):
    REPLY = "reply", _("Reply with a service plan")
    DEPARTURE = "departure", _("Engineer departs")
    ARRIVAL = "arrival", _("Engineer arrives on site")
    RESOLUTION = "resolution", _("Resolved")


class TargetStart(models.TextChoices):
    CREATED = "created", _("when the request is opened")
    DISPATCHED = "dispatched", _("when on-site service is decided (an on-site plan or a dispatch)")
    ARRIVED = "arrived", _("when the engineer arrives on site")


# ---------------------------------------------------------------------------------------------
# Calendars as data (SRQ-3)


class WorkCalendar(TimeStampedModel):
    """A service-time calendar: 7×24, or working hours per weekday with the public calendar's days off
    and make-up days, plus this calendar's own closure days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    always_on = models.BooleanField(_("7×24"), default=False)
    weekly_hours = models.JSONField(
        _("working hours"), default=dict, blank=True,
        help_text=_('Weekday (0 = Monday) to intervals, e.g. {"0": [["09:00", "12:00"], ["13:30", "18:00"]]}.'),
    )
    use_public_holidays = models.BooleanField(_("follow the public holiday calendar"), default=True)

    class Meta:
        verbose_name = _("service calendar")
        verbose_name_plural = _("service calendars")
        ordering = ["name"]

    def __str__(self):
        return self.name


class DayKind(models.TextChoices):
    OFF = "off", _("Day off")
    MAKE_UP = "make_up", _("Make-up working day (调休)")


class CalendarDay(TimeStampedModel):
    """One day of the public calendar (calendar empty) or a closure day of one calendar."""

    calendar = models.ForeignKey(
        WorkCalendar, models.CASCADE, null=True, blank=True, related_name="days",
        help_text=_("Empty: the national public calendar."),
    )
    day = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["day"], condition=Q(calendar__isnull=True), name="public_day_once",
                                    violation_error_message=_("This day is already in the public calendar.")),
            models.UniqueConstraint(fields=["calendar", "day"], name="calendar_day_once",
                                    violation_error_message=_("This day is already in this calendar.")),
            models.CheckConstraint(name="calendar_day_kind_known", condition=Q(kind__in=DayKind.values),
                                   violation_error_message=_("A day is either a day off or a make-up working day.")),
        ]

    def __str__(self):
        return f"{self.day} {self.get_kind_display()} {self.name}"


class HolidayYear(models.Model):
    """A year whose public days off and make-up days are complete (entered or imported)."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True, validators=[MinValueValidator(2000)])
    source = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("known holiday year")
        verbose_name_plural = _("known holiday years")
        ordering = ["year"]

    def __str__(self):
        return str(self.year)


# ---------------------------------------------------------------------------------------------
# SLA policies (per contract) and escalation ladders (per branch)


class SlaPolicy(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    calendar = models.ForeignKey(WorkCalendar, models.PROTECT, related_name="policies", verbose_name=_("calendar"))
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the target)"), default=80, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    is_default = models.BooleanField(_("default policy"), default=False)
    # Bumped by every change of the policy or its targets (service/policy_config.py, the admin): a form opened on an
    # older version is refused, not silently overwritten.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(
            fields=["is_default"], condition=Q(is_default=True), name="one_default_policy",
            violation_error_message=_("Another policy is the default already: only one policy can be the default."))]

    def __str__(self):
        return self.name


class SlaTargetRule(models.Model):
    """One promise of a policy: e.g. 'serious requests are replied within 15 minutes'."""

    policy = models.ForeignKey(SlaPolicy, models.CASCADE, related_name="rules", verbose_name=_("policy"))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority)
    kind = models.CharField(_("target"), max_length=12, choices=TargetKind)
    minutes = models.PositiveIntegerField(_("minutes"))
    starts = models.CharField(_("counted from"), max_length=12, choices=TargetStart, default=TargetStart.CREATED)
    onsite_only = models.BooleanField(_("only for on-site service"), default=False)

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["policy", "priority", "kind"]
        constraints = [models.UniqueConstraint(
            fields=["policy", "priority", "kind"], name="rule_once_per_policy",
            violation_error_message=_("This policy has a target of this kind for this priority already."))]

    def __str__(self):
        return f"{self.get_priority_display()} · {self.get_kind_display()} ≤ {self.minutes} min"


class EscalationRule(models.Model):
    """SRQ-5: a step of a branch's ladder. Level 1 fires at the miss, later levels `delay_minutes` after it."""

    branch = models.ForeignKey("accounts.Branch", models.CASCADE, related_name="escalation_rules", verbose_name=_("branch"))
    level = models.PositiveSmallIntegerField(_("level"), validators=[MinValueValidator(1)])
    position = models.CharField(_("notify position"), max_length=30)
    delay_minutes = models.PositiveIntegerField(_("minutes after the miss"), default=0)

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["branch", "level"]
        constraints = [models.UniqueConstraint(
            fields=["branch", "level"], name="escalation_level_once",
            violation_error_message=_("This branch's ladder has a step at this level already."))]

    def __str__(self):
        return f"{self.branch} L{self.level} → {self.position} (+{self.delay_minutes} min)"


# ---------------------------------------------------------------------------------------------
# The request


def new_public_token() -> str:
    return secrets.token_urlsafe(16)


class ServiceRequest(TimeStampedModel):
    """SRQ-1..3: a problem reported by a customer, with its computed due times stored."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="requests", verbose_name=_("project"))
    # Copied from the project so the desk queue filters and counts without a join (perf-floor.md #1).
    # No single-column index where a composite index starts with the column (Meta.indexes): each index is one more
    # write per new request.
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="requests", editable=False, db_index=False,
                                 verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="requests", editable=False, db_index=False,
                               verbose_name=_("branch"))
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="reported_requests",
                                 verbose_name=_("reporter"))
    reporter_name = models.CharField(_("reporter name"), max_length=100, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=40, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel)
    reporter_verified = models.BooleanField(_("reporter verified"), default=True,
                                            help_text=_("False for reports from a public device label, until the desk confirms them."))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority)
    customer_rank = models.PositiveSmallIntegerField(_("customer's order"), null=True, blank=True,
                                                     help_text=_("With several open requests, the customer's own order (1 first)."))
    title = models.CharField(_("title"), max_length=200)
    # Issue 21 §8: the title's and reporter's words (service/terms.py), written with them by the opening verb and
    # indexed by service/term_index.py (FTS5 on SQLite, GIN on PostgreSQL) so a word is found among all requests.
    search_terms = models.TextField(editable=False, default="")
    description = models.TextField(_("description"))
    business_impact = models.TextField(_("impact on the business"), blank=True)
    specialty = models.CharField(_("specialty needed"), max_length=30, blank=True,
                                 choices=[("electromechanical", _("Electromechanical")), ("computing", _("Computing")),
                                          ("system_integration", _("System integration")),
                                          ("electrical_automation", _("Electrical automation"))])
    devices = models.ManyToManyField("assets.Device", blank=True, related_name="requests", verbose_name=_("affected devices"))
    state = models.CharField(_("state"), max_length=12, choices=State, default=State.NEW)
    service_mode = models.CharField(_("service mode"), max_length=10, choices=ServiceMode, blank=True)
    plan = models.TextField(_("service plan"), blank=True)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    contingency_plan = models.TextField(_("agreed contingency plan"), blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="assigned_requests",
                                 verbose_name=_("engineer"), db_index=False)
    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="advised_requests",
                                verbose_name=_("technical advisor"))
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    policy = models.ForeignKey(SlaPolicy, models.PROTECT, related_name="requests", verbose_name=_("SLA policy"))
    paused = models.BooleanField(_("clock paused"), default=False)
    # Derived from the clock log, stored so lists and the sweep read an index (style.md §2).
    reply_due_at = models.DateTimeField(_("reply due"), null=True, blank=True, editable=False)
    resolve_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True, editable=False)
    next_due_at = models.DateTimeField(_("next due"), null=True, blank=True, editable=False)
    next_check_at = models.DateTimeField(null=True, blank=True, editable=False)  # next warning or escalation step
    due_provisional = models.BooleanField(_("due times provisional"), default=False, editable=False)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    restored_at = models.DateTimeField(_("service restored at"), null=True, blank=True,
                                       help_text=_("When the customer confirmed a temporary fix"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    public_token = models.CharField(max_length=32, unique=True, default=new_public_token, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-pk"]
        permissions = [
            ("handle_request", _("Can reply to, dispatch, pause and escalate requests")),
            ("work_on_request", _("Can work on requests (depart, arrive, work orders)")),
            ("confirm_work", _("Can confirm or reject work orders and incident reports")),
        ]
        constraints = [
            models.CheckConstraint(name="srq_priority_known", condition=Q(priority__in=Priority.values)),
            models.CheckConstraint(name="srq_state_known", condition=Q(state__in=State.values)),
            models.CheckConstraint(name="srq_channel_known", condition=Q(channel__in=Channel.values)),
            models.CheckConstraint(name="srq_resolved_has_time",
                                   condition=~Q(state__in=[State.RESOLVED, State.RESTORED, State.CLOSED])
                                   | Q(resolved_at__isnull=False)),
        ]
        indexes = [
            # Not partial: Django binds the open states as parameters, and SQLite cannot match a partial
            # index's condition against parameters (bench/NOTES.md: 232 ms → 0.4 ms at 1M requests).
            models.Index(fields=["branch", "state", "next_due_at"], name="srq_queue"),
            models.Index(fields=["next_check_at"], name="srq_check", condition=Q(next_check_at__isnull=False)),
            models.Index(fields=["customer", "created_at"], name="srq_customer_created"),
            models.Index(fields=["assignee", "state"], name="srq_assignee_state"),
            # Issue 21 §8, search (service/search.py): the reporter's phone without spaces, dashes, + and brackets,
            # written out as search.PHONE_KEY_TEMPLATE (literals: SQLite matches an indexed expression only to itself).
            models.Index(models.Func(models.F("reporter_phone"), template=(
                "REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(%(expressions)s, ' ', ''), '-', ''), '+', ''), '(', ''), ')', '')")),
                name="srq_reporter_phone_key"),
            models.Index(fields=["reporter_name"], name="srq_reporter_name"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("service:request_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class RequestTermIndex(models.Model):
    """SQLite only: the FTS5 table over ServiceRequest.search_terms (service/term_index.py, created by migration
    0016, not by Django), read for the ids of the requests a title word finds without touching their rows."""

    rowid = models.BigIntegerField(primary_key=True, db_column="rowid")
    search_terms = FullTextColumn()

    class Meta:
        managed = False
        db_table = "service_request_terms"


class Target(models.Model):
    """The clock log of one promise on one request: when it started, and when it was met.
    Due times are derived from this row, the request's pauses and the policy's calendar."""

    request = models.ForeignKey(ServiceRequest, models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=12, choices=TargetKind)
    minutes = models.PositiveIntegerField()
    started_at = models.DateTimeField(null=True, blank=True)  # None: waiting for its start event
    # The time agreed with the customer (a general request's on-site appointment): due then, whatever the calendar
    appointed_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    provisional = models.BooleanField(default=False)
    breached_at = models.DateTimeField(null=True, blank=True)  # once recorded, it stays

    class Meta:
        ordering = ["-request_id", "pk"]
        constraints = [models.UniqueConstraint(fields=["request", "kind"], name="target_once_per_request")]

    def __str__(self):
        return f"{self.request_id} {self.kind}"

    @property
    def is_open(self) -> bool:
        return self.started_at is not None and self.met_at is None


class Pause(models.Model):
    """Time lost because of the owner: the clock stops (SRQ-3)."""

    request = models.ForeignKey(ServiceRequest, models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-request_id", "started_at"]
        constraints = [
            models.UniqueConstraint(fields=["request"], condition=Q(ended_at__isnull=True), name="one_open_pause"),
        ]


class AlertKind(models.TextChoices):
    WARNING = "warning", _("Warning before the target")
    ESCALATION = "escalation", _("Escalation")


class SlaAlert(models.Model):
    """Written BEFORE anything is sent: the unique key makes each warning and step fire exactly once."""

    request = models.ForeignKey(ServiceRequest, models.CASCADE, related_name="alerts")
    target = models.CharField(max_length=12, choices=TargetKind)
    kind = models.CharField(max_length=12, choices=AlertKind)
    level = models.PositiveSmallIntegerField(default=0)
    fired_at = models.DateTimeField()

    class Meta:
        ordering = ["-request_id", "fired_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "target", "kind", "level"], name="alert_exactly_once"),
        ]


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    REPLIED = "replied", _("Replied with a plan")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    DISPATCHED = "dispatched", _("Dispatched")
    DEPARTED = "departed", _("Departed")
    ARRIVED = "arrived", _("Arrived on site")
    LEFT = "left", _("Left the site")
    PAUSED = "paused", _("Clock paused")
    RESUMED = "resumed", _("Clock resumed")
    WARNED = "warned", _("Target about to be missed")
    BREACHED = "breached", _("Target missed")
    ESCALATED = "escalated", _("Escalated")
    ADVISOR = "advisor", _("Handed to a technical advisor")
    CONTINGENCY = "contingency", _("Contingency plan agreed")
    RESOLVED = "resolved", _("Resolved")
    CONFIRMED = "confirmed", _("Confirmed by the customer")
    REJECTED = "rejected", _("Rejected by the customer")
    RATED = "rated", _("Rated by the customer")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    COMMENT = "comment", _("Comment")
    ATTACHMENT = "attachment", _("Attachment")
    INCIDENT_REPORT = "incident_report", _("Incident report")
    MAIL = "mail", _("Mail received")
    ALARM_RAISED = "alarm_raised", _("Alarm raised")
    ALARM_CLEARED = "alarm_cleared", _("Alarm cleared")
    REPORTER_VERIFIED = "reporter_verified", _("Reporter verified by the desk")


class TimelineEvent(models.Model):
    """SRQ-10: append-only; actor None means the system."""

    request = models.ForeignKey(ServiceRequest, models.CASCADE, related_name="events", db_index=False)  # event_request_at
    kind = models.CharField(max_length=20, choices=EventKind)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # The audit of the verb that wrote the line (SEC-2): where it came from and what it changed, {field: [old, new]}.
    address = models.GenericIPAddressField(null=True, blank=True)
    correlation_id = models.CharField(max_length=255, null=True, blank=True)
    changes = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-request_id", "at", "pk"]
        indexes = [models.Index(fields=["request", "at"], name="event_request_at")]


def attachment_path(instance, filename):
    return f"requests/{instance.request_id}/{secrets.token_hex(8)}-{filename[-80:]}"


class Attachment(models.Model):
    request = models.ForeignKey(ServiceRequest, models.CASCADE, related_name="attachments")
    work_order = models.ForeignKey("WorkOrder", models.CASCADE, null=True, blank=True, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField()

    scope_customer = "request__customer_id"
    scope_branch = "request__branch_id"

    class Meta:
        ordering = ["-request_id", "pk"]


class Visit(models.Model):
    """SRQ-6: one engineer's trip: departure, arrival with proof, leaving."""

    request = models.ForeignKey(ServiceRequest, models.CASCADE, related_name="visits")
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="visits")
    departed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    arrival_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    arrival_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    arrival_accuracy_m = models.PositiveIntegerField(null=True, blank=True)
    arrival_distance_m = models.PositiveIntegerField(null=True, blank=True)
    arrival_proof = models.CharField(max_length=20, blank=True)  # position / photo / customer
    arrival_photo = models.ForeignKey(Attachment, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-request_id", "pk"]


class WorkOrderState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_CONFIRMATION = "awaiting", _("Awaiting customer confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class WorkResult(models.TextChoices):
    SOLVED = "solved", _("Solved")
    WORKAROUND = "workaround", _("Temporary workaround")
    UNSOLVED = "unsolved", _("Not solved")


class WorkOrder(TimeStampedModel):
    """SRQ-7: 任务工单. Screenshots are required evidence when the problem is left unsolved."""

    request = models.ForeignKey(ServiceRequest, models.CASCADE, related_name="work_orders")
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="work_orders")
    actions = models.TextField(_("actions taken"))
    # The parts note: what is not in the catalogue. Catalogue parts are part lines (service.part_lines), each a
    # movement of the spare-parts ledger that names this work order.
    parts_used = models.TextField(_("parts note"), blank=True)
    minutes_spent = models.PositiveIntegerField(_("time spent (minutes)"))
    result = models.CharField(_("result"), max_length=12, choices=WorkResult)
    state = models.CharField(_("state"), max_length=10, choices=WorkOrderState, default=WorkOrderState.AWAITING_CONFIRMATION)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("confirmed by"))
    signer_name = models.CharField(_("signed by"), max_length=100, blank=True)
    signature = models.FileField(upload_to="signatures/", null=True, blank=True)  # PNG from the signature pad
    confirmed_via = models.CharField(_("confirmed via"), max_length=12, blank=True, choices=ConfirmedVia)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True,
                                                    validators=[MinValueValidator(1), MaxValueValidator(5)])
    customer_comment = models.TextField(_("customer's comment"), blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "request__customer_id"
    scope_branch = "request__branch_id"

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-request_id", "pk"]
        constraints = [models.CheckConstraint(name="wo_satisfaction_range",
                                              condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5))]

    def get_absolute_url(self):
        return self.request.get_absolute_url()


class IncidentReport(TimeStampedModel):
    """SRQ-8: 事故报告, submitted to and confirmed by the customer."""

    request = models.OneToOneField(ServiceRequest, models.CASCADE, related_name="incident_report")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    cause = models.TextField(_("cause"))
    impact = models.TextField(_("impact"))
    timeline = models.TextField(_("timeline"))
    fix = models.TextField(_("fix"))
    prevention = models.TextField(_("prevention"))
    state = models.CharField(_("state"), max_length=10, choices=WorkOrderState, default=WorkOrderState.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("confirmed by"))
    rejection_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "request__customer_id"
    scope_branch = "request__branch_id"

    class Meta:
        verbose_name = _("incident report")
        verbose_name_plural = _("incident reports")

    def get_absolute_url(self):
        return self.request.get_absolute_url()


class ProjectPolicy(models.Model):
    """The SLA policy a project's contract promises; projects without one use the default policy."""

    project = models.OneToOneField("customers.Project", models.CASCADE, related_name="sla")
    policy = models.ForeignKey(SlaPolicy, models.PROTECT, related_name="projects")

    class Meta:
        verbose_name = _("project SLA policy")
        verbose_name_plural = _("project SLA policies")
