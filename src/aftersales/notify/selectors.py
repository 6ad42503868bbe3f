"""NOT-1: reads. A user sees only their own notifications; the outbox is for administrators."""

from django.db.models import QuerySet

from .models import Channel, OutboxMessage

BELL_CAP = 99  # the bell shows "99+": counting further costs time and tells nothing


def inbox(user) -> QuerySet[OutboxMessage]:
    """The user's in-app notifications, newest first."""
    return (OutboxMessage.objects.filter(recipient_user=user, channel=Channel.INAPP)
            .select_related("about_type").order_by("-created_at", "-pk"))


def unread_count(user) -> int:
    """At most BELL_CAP + 1: one indexed query that stops counting early (on every page, for the bell)."""
    if not user or not user.is_authenticated:
        return 0
    return OutboxMessage.objects.filter(
        recipient_user=user.pk, channel=Channel.INAPP, read_at=None).order_by()[: BELL_CAP + 1].count()


def undelivered(state: str = "") -> QuerySet[OutboxMessage]:
    """Messages not delivered yet (`pending`), given up (`failed`), or both (any other `state`), newest first."""
    messages = OutboxMessage.objects.filter(sent_at=None)
    if state == "failed":
        messages = messages.filter(failed_at__isnull=False)
    elif state == "pending":
        messages = messages.filter(failed_at=None)
    return messages.select_related("endpoint", "recipient_user").order_by("-created_at", "-pk")
