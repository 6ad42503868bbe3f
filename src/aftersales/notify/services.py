"""NOT-1: the verbs of the outbox.

`enqueue` writes messages in the caller's transaction and sends nothing; after the commit a huey task is
nudged to deliver them, and a periodic task (every minute) is the safety net. `deliver` claims one message
with a compare-and-set for a short lease, so two workers never send it at the same time, and reschedules it with
exponential backoff when it fails. Nothing is lost: a message that keeps failing is given up, and stays listed for
administrators to retry (lesson 4).

Delivery is at least once: a worker killed between the other side's "accepted" and the "sent" mark (or a mark that
still fails after its retries) leaves the message claimed, and it goes out again when the lease ends. An e-mail keeps
the Message-ID chosen when it was enqueued and a webhook its X-Aftersales-Delivery id, so a receiver can drop the
repeat. At most one message per delivery thread is in flight at a kill.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F, Model
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.cache import WorkerCache
from aftersales.core.errors import IllegalTransition

from . import channels, sms
from .signals import messages_committed
from .models import EVENT_NAME, Channel, EndpointKind, NotificationPreference, OutboxMessage, WebhookEndpoint

logger = logging.getLogger(__name__)

# A worker that died while sending gives its message back after the lease: longer than one send can take (the SMTP
# and webhook timeouts, channels.SMTP_TIMEOUT / HTTP_TIMEOUT, plus the retried "sent" mark), short enough that a
# message in flight at a kill goes out again within two minutes.
LEASE = timedelta(seconds=90)
# Marking a message sent after the other side accepted it is tried again on a database error (locked, a dropped
# connection): a lost mark means the message goes out a second time after the lease.
MARK_RETRY_DELAYS = (0.2, 0.5, 1, 2, 4)  # seconds; about 8 s in all, on top of each attempt's own busy wait
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=1)
MAX_ATTEMPTS = 12  # 1, 2, 4 … 32 minutes, then hourly: given up after about 7 hours
RATE_WINDOW = timedelta(minutes=1)
RATE_LIMITS = {EndpointKind.DINGTALK: 20, EndpointKind.WECOM: 20, EndpointKind.FEISHU: 100}  # per robot per minute
SMS_WINDOW = timedelta(hours=1)  # settings.AFTERSALES_SMS_PER_USER_HOUR text messages per user in it
REMOTE_LIMIT_PAUSE = {EndpointKind.DINGTALK: timedelta(minutes=10)}  # DingTalk blocks a too-fast robot for 10 min
BATCH = 200
SUBJECT_MAX = 200
PRIVATE = "private"  # payload key of a message for one person's eyes only (enqueue_private_email)


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # failed, will be tried again
    FAILED = "failed"  # given up
    POSTPONED = "postponed"  # rate limit: not an attempt
    SKIPPED = "skipped"  # not due, already done, or another worker has it


@dataclass
class Message:
    """One event to enqueue: `enqueue` takes its fields as arguments, `enqueue_many` a list of them."""

    event: str
    about: Model | None
    subject: str
    body: str
    dedupe_key: str
    recipients: Iterable = ()
    url: str | None = None
    payload: dict | None = None


# Read once per worker, cleared by a save in this process, re-read by the others within core.cache.TTL.
_preferences = WorkerCache("notification preferences", NotificationPreference)
_endpoints = WorkerCache("webhook endpoints", WebhookEndpoint)


_UNCHOSEN = tuple(NotificationPreference._meta.get_field(name).default for name in ("email", "inapp", "sms"))


def _channel_choices() -> dict[int, tuple[bool, bool, bool]]:
    """user id → (email, in-app, SMS) for the users who chose; no row means the defaults (email and in-app)."""
    return _preferences.get("all", lambda: {
        user_id: (email, inapp, by_sms) for user_id, email, inapp, by_sms
        in NotificationPreference.objects.values_list("user_id", "email", "inapp", "sms")})


def _active_endpoints() -> list[WebhookEndpoint]:
    return _endpoints.get("active", lambda: list(WebhookEndpoint.objects.filter(active=True).order_by("pk")))


def enqueue(*, event: str, about: Model | None, subject: str, body: str, dedupe_key: str,
            recipients: Iterable = (), url: str | None = None, payload: dict | None = None) -> None:
    """NOT-1: tell `recipients` (users) on the channels each has chosen, and every active webhook endpoint
    that subscribes to `event` and whose branch/customer scope covers `about`.

    Writes rows only, in the caller's transaction; the same `dedupe_key` enqueued again adds nothing.
    In-app notifications are delivered the moment they are written; the rest go out after the commit.
    """
    enqueue_many([Message(event=event, about=about, subject=subject, body=body, dedupe_key=dedupe_key,
                          recipients=recipients, url=url, payload=payload)])


def enqueue_many(messages: Iterable[Message]) -> None:
    """`enqueue` for several events at once (the SLA sweep): one bulk_create for all their rows, and one query to
    find the rows to nudge after the commit. No other query while preferences and endpoints are cached."""
    now = clock.now()
    rows = [row for message in messages for row in _rows(message, now)]
    if rows:
        enqueue_rows(rows)


def enqueue_private_email(*, event: str, user, subject: str, body: str, dedupe_key: str) -> bool:
    """One e-mail to one user's own address and to nobody else: no robot, no in-app copy, whatever the user's
    preferences (a password reset link). Its text is blanked once delivered and hidden in the admin (PRIVATE), so
    the outbox keeps no usable secret. False when the user has no address. In the caller's transaction."""
    if not user.email:
        return False
    enqueue_rows([OutboxMessage(
        event=event, channel=Channel.EMAIL, recipient_user_id=user.pk, recipient_address=user.email,
        subject=" ".join(str(subject).split())[:SUBJECT_MAX], body=str(body), payload={PRIVATE: True},
        dedupe_key=dedupe_key, created_at=clock.now(), message_id=channels.new_message_id(),
        next_attempt_at=clock.now())])
    return True


def is_private(message: OutboxMessage) -> bool:
    return bool(message.payload) and isinstance(message.payload, dict) and message.payload.get(PRIVATE) is True


def enqueue_rows(rows: list[OutboxMessage]) -> None:
    """Write outbox rows (a repeat of a dedupe_key adds nothing) and nudge the due ones after the commit."""
    now = clock.now()
    with transaction.atomic(savepoint=False):  # the caller's transaction, or one of our own
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        keys = sorted({row.dedupe_key for row in rows if row.channel != Channel.INAPP})
        if keys:
            # Our rows' ids (ignore_conflicts returns none) by the dedupe_key index; whether they are due is decided
            # here, so that SQLite cannot prefer the index of all unsent messages (a backlog made each call scan it).
            written = OutboxMessage.objects.raw(rows_by_dedupe_keys(len(keys)), keys)
            due = [row.pk for row in written
                   if row.sent_at is None and row.next_attempt_at is not None and row.next_attempt_at <= now]
            transaction.on_commit(partial(_nudge, due), robust=True)


def rows_by_dedupe_keys(n: int) -> str:
    """A raw statement (Manager.raw) for every enqueue: the ORM took longer to build this query than to run it."""
    return 'SELECT "id", "sent_at", "next_attempt_at" FROM "{}" WHERE "dedupe_key" IN ({})'.format(
        OutboxMessage._meta.db_table, ", ".join(["%s"] * n))


def _rows(message: Message, now: datetime) -> list[OutboxMessage]:
    event, about, dedupe_key, url = message.event, message.about, message.dedupe_key, message.url
    if not EVENT_NAME.match(event):
        raise ValueError(f"event must be a lower-case name, not {event!r}")
    if not dedupe_key or len(dedupe_key) > 200:
        raise ValueError("dedupe_key must have 1 to 200 characters")
    subject = " ".join(str(message.subject).split())  # a header: no line breaks
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    if url is None and about is not None and hasattr(about, "get_absolute_url"):
        url = about.get_absolute_url()
    common = {
        "event": event, "subject": subject, "body": str(message.body), "url": url or "", "payload": message.payload,
        "dedupe_key": dedupe_key, "created_at": now,
        "about_type_id": ContentType.objects.get_for_model(type(about)).pk if about is not None else None,
        "about_id": str(about.pk) if about is not None else "",
        "about_label": str(about)[:200] if about is not None else "",
    }
    rows = []
    users = {user.pk: user for user in message.recipients if user is not None and user.is_active}
    chosen = _channel_choices() if users else {}
    active = _active_endpoints()
    # A user's own robot hears the messages addressed to that user (issue 21 §12), and never a broadcast.
    personal = {e.owner_id: e for e in active if e.owner_id is not None} if users else {}
    sms_on = sms.enabled()
    for user in users.values():
        email, inapp, by_sms = chosen.get(user.pk, _UNCHOSEN)
        if inapp:
            rows.append(OutboxMessage(channel=Channel.INAPP, recipient_user_id=user.pk, sent_at=now, **common))
        if email and user.email:
            rows.append(OutboxMessage(channel=Channel.EMAIL, recipient_user_id=user.pk, recipient_address=user.email,
                                      message_id=channels.new_message_id(), next_attempt_at=now, **common))
        if by_sms and sms_on and user.phone:
            rows.append(OutboxMessage(channel=Channel.SMS, recipient_user_id=user.pk, next_attempt_at=now, **common))
        if user.pk in personal:
            rows.append(OutboxMessage(channel=Channel.WEBHOOK, endpoint_id=personal[user.pk].pk, next_attempt_at=now,
                                      **common))
    endpoints = [e for e in active if e.owner_id is None and e.receives(event)]
    branch_id = customer_id = None
    if any(e.branch_id or e.customer_id for e in endpoints):
        branch_id, customer_id = _scope_of(about)
    for endpoint in endpoints:
        if (endpoint.branch_id in (None, branch_id)) and (endpoint.customer_id in (None, customer_id)):
            rows.append(OutboxMessage(channel=Channel.WEBHOOK, endpoint_id=endpoint.pk, next_attempt_at=now, **common))
    return rows


def _scope_of(about: Model | None) -> tuple[int | None, int | None]:
    """(branch id, customer id) of the object an event is about, through the scoping paths (SEC-1).
    Staff-only data has no customer, so a customer's robot never hears about it."""
    if about is None:
        return None, None
    model = type(about)
    branch_path, customer_path = getattr(model, "scope_branch", None), getattr(model, "scope_customer", None)
    paths = [path for path in (branch_path, customer_path) if path]
    if not paths:
        return None, None
    if all("__" not in path for path in paths):  # columns of the object itself (a request's branch_id, customer_id)
        values = {path: getattr(about, path) for path in paths}
    else:
        values = dict(zip(paths, model._default_manager.filter(pk=about.pk).values_list(*paths).first() or ()))
    return values.get(branch_path), values.get(customer_path)


def _nudge(message_ids: list[int]) -> None:
    if message_ids:
        messages_committed.send(sender=OutboxMessage, message_ids=message_ids)


def backoff(attempts: int) -> timedelta:
    """Delay after the `attempts`-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY)


def due_message_ids(*, now: datetime, limit: int = BATCH) -> list[int]:
    return list(OutboxMessage.objects.filter(sent_at=None, next_attempt_at__lte=now)
                .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def deliver_due(*, limit: int = BATCH, budget_seconds: float = 50) -> int:
    """Deliver what is due, batch by batch, for at most about `budget_seconds`. Returns how many were handled."""
    started, handled = time.monotonic(), 0
    while True:
        ids = due_message_ids(now=clock.now(), limit=limit)
        for message_id in ids:
            deliver(message_id)
        handled += len(ids)
        if len(ids) < limit or time.monotonic() - started > budget_seconds:
            return handled


def deliver(message_id: int) -> Outcome:
    """Send one message if it is due and no other worker has it."""
    now = clock.now()
    claimed = OutboxMessage.objects.filter(pk=message_id, sent_at=None, next_attempt_at__lte=now).update(
        next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return Outcome.SKIPPED
    message = OutboxMessage.objects.select_related("endpoint__owner", "about_type", "recipient_user").get(pk=message_id)
    # Our claim. Should we outlive the lease, a later claim has raised `attempts` and our result is dropped.
    mine = OutboxMessage.objects.filter(pk=message_id, attempts=message.attempts, sent_at=None)
    endpoint = message.endpoint
    if message.channel == Channel.WEBHOOK and endpoint is not None and endpoint.active:
        free_at = _take_robot_slot(message, now)
        if free_at is not None:
            mine.update(attempts=F("attempts") - 1, next_attempt_at=free_at,
                        last_error=_("The robot's limit of %(n)s messages a minute is reached; waiting.")
                        % {"n": RATE_LIMITS[endpoint.kind]})
            return Outcome.POSTPONED
    if message.channel == Channel.SMS and message.recipient_user_id:
        free_at = _take_sms_slot(message, now)
        if free_at is not None:
            mine.update(attempts=F("attempts") - 1, next_attempt_at=free_at,
                        last_error=_("The limit of %(n)s text messages an hour per person is reached; waiting.")
                        % {"n": settings.AFTERSALES_SMS_PER_USER_HOUR})
            return Outcome.POSTPONED
    try:
        channels.send(message)
    except channels.RateLimited as error:
        done = clock.now()
        pause = REMOTE_LIMIT_PAUSE.get(endpoint.kind if endpoint else "", RATE_WINDOW)
        mine.update(attempts=F("attempts") - 1, next_attempt_at=done + pause, last_attempt_at=now, last_error=str(error))
        logger.info("notification %s postponed: %s", message_id, error)
        return Outcome.POSTPONED
    except Exception as error:  # noqa: BLE001 - one bad message must not stop the others
        done = clock.now()
        if not isinstance(error, channels.DeliveryError):
            logger.exception("notification %s: unexpected error while sending", message_id)
        text = str(error) if isinstance(error, channels.DeliveryError) else f"{type(error).__name__}: {error}"
        if getattr(error, "permanent", False) or message.attempts >= MAX_ATTEMPTS:
            mine.update(next_attempt_at=None, failed_at=done, last_attempt_at=now, last_error=text[:2000])
            logger.warning("notification %s given up after %s attempts: %s", message_id, message.attempts, text)
            return Outcome.FAILED
        mine.update(next_attempt_at=done + backoff(message.attempts), last_attempt_at=now, last_error=text[:2000])
        logger.info("notification %s attempt %s failed: %s", message_id, message.attempts, text)
        return Outcome.RETRY
    if mark_sent(mine, message_id=message_id, attempted_at=now) and is_private(message):
        OutboxMessage.objects.filter(pk=message_id).update(body="")  # delivered: no copy of the secret stays
    return Outcome.SENT


def mark_sent(mine, *, message_id: int, attempted_at: datetime, delays=MARK_RETRY_DELAYS) -> bool:
    """Record that the other side accepted the message: the database may be locked or gone for a moment after the
    SMTP server said yes; each failure is tried again after a short pause rather than left to a second send. False
    when the message was meanwhile claimed by another worker (we outlived the lease) or every try failed."""
    for delay in (*delays, None):
        try:
            return bool(mine.update(next_attempt_at=None, sent_at=clock.now(), last_attempt_at=attempted_at))
        except DatabaseError as error:
            if delay is None or connection.in_atomic_block:  # inside a transaction nothing can be retried
                logger.error("notification %s was sent but could not be marked sent; it will be sent again after "
                             "the lease: %s", message_id, error)
                return False
            logger.warning("notification %s was sent; marking it sent failed (%s), trying again in %s s",
                           message_id, error, delay)
            close_old_connections()  # a broken connection is replaced at the next query
            time.sleep(delay)
    return False


def _take_robot_slot(message: OutboxMessage, now: datetime) -> datetime | None:
    """Reserve one of the robot's messages for this minute; if there is none, when the next one frees up."""
    limit = RATE_LIMITS.get(message.endpoint.kind)
    if not limit:
        return None
    with transaction.atomic():
        # One robot's workers take turns: PostgreSQL locks the endpoint's row; on SQLite the (IMMEDIATE)
        # transaction already holds the database's write lock.
        list(WebhookEndpoint.objects.select_for_update().filter(pk=message.endpoint_id).values_list("pk"))
        recent = list(OutboxMessage.objects.filter(endpoint_id=message.endpoint_id, last_attempt_at__gt=now - RATE_WINDOW)
                      .order_by("last_attempt_at").values_list("last_attempt_at", flat=True)[:limit])
        if len(recent) >= limit:
            return recent[0] + RATE_WINDOW
        OutboxMessage.objects.filter(pk=message.pk).update(last_attempt_at=now)
    return None


def _take_sms_slot(message: OutboxMessage, now: datetime) -> datetime | None:
    """Reserve one of the user's text messages for this hour; if there is none, when the next one frees up."""
    limit = settings.AFTERSALES_SMS_PER_USER_HOUR
    if limit <= 0:  # 0: no limit
        return None
    with transaction.atomic():
        # One user's SMS take turns: PostgreSQL locks their preference row (an SMS row exists only for a user who
        # chose SMS, so the row exists); on SQLite the (IMMEDIATE) transaction already holds the write lock.
        list(NotificationPreference.objects.select_for_update().filter(user_id=message.recipient_user_id)
             .values_list("pk"))
        recent = list(OutboxMessage.objects.filter(channel=Channel.SMS, recipient_user_id=message.recipient_user_id,
                                                   last_attempt_at__gt=now - SMS_WINDOW)
                      .order_by("last_attempt_at").values_list("last_attempt_at", flat=True)[:limit])
        if len(recent) >= limit:
            return recent[0] + SMS_WINDOW
        OutboxMessage.objects.filter(pk=message.pk).update(last_attempt_at=now)
    return None


@transaction.atomic
def retry(*, message_id: int, by) -> OutboxMessage:
    """An administrator sends a given-up message once more, now."""
    now = clock.now()
    if not OutboxMessage.objects.filter(pk=message_id, failed_at__isnull=False).update(
            failed_at=None, next_attempt_at=now):
        raise IllegalTransition(_("Only a message that was given up can be retried."))
    logger.info("notification %s retried by %s", message_id, by)
    transaction.on_commit(partial(_nudge, [message_id]), robust=True)
    return OutboxMessage.objects.get(pk=message_id)


def mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own in-app notifications read (all of them when `ids` is None). Returns how many."""
    unread = OutboxMessage.objects.filter(recipient_user=user, channel=Channel.INAPP, read_at=None)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=clock.now())


def preference_of(user) -> NotificationPreference:
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def set_preference(*, user, email: bool, inapp: bool) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email": email, "inapp": inapp})
    return preference
