"""NOT-1: reads. A user sees only their own notifications; the outbox is for administrators."""

from django.db import connection
from django.db.models import QuerySet

from .models import Channel, OutboxMessage

BELL_CAP = 99  # the bell shows "99+": counting further costs time and tells nothing


def inbox(user) -> QuerySet[OutboxMessage]:
    """The user's in-app notifications, newest first."""
    return (OutboxMessage.objects.filter(recipient_user=user, channel=Channel.INAPP)
            .select_related("about_type").order_by("-created_at", "-pk"))


UNREAD = ('SELECT COUNT(*) FROM (SELECT 1 FROM "{}" WHERE "recipient_user_id" = %s AND "channel" = %s '
          'AND "read_at" IS NULL LIMIT {}) unread').format(OutboxMessage._meta.db_table, BELL_CAP + 1)


def unread_count(user) -> int:
    """At most BELL_CAP + 1: one indexed query that stops counting early (on every page, for the bell). Raw SQL
    (Django's cursor): building it through the ORM cost more than running it, on every page."""
    if not user or not user.is_authenticated:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(UNREAD, [user.pk, Channel.INAPP])
        return cursor.fetchone()[0]


def undelivered(state: str = "") -> QuerySet[OutboxMessage]:
    """Messages not delivered yet (`pending`), given up (`failed`), or both (any other `state`), newest first."""
    messages = OutboxMessage.objects.filter(sent_at=None)
    if state == "failed":
        messages = messages.filter(failed_at__isnull=False)
    elif state == "pending":
        messages = messages.filter(failed_at=None)
    return messages.select_related("endpoint", "recipient_user").order_by("-created_at", "-pk")
