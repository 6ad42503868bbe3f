"""NOT-1: huey entry points; the services do the work, and every task may run twice harmlessly."""

from django.dispatch import receiver
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import services, signals


@db_task()
def deliver_messages(message_ids: list[int]) -> None:
    """The nudge after a commit: deliver what was just enqueued (or retried)."""
    for message_id in message_ids:
        services.deliver(message_id)


@receiver(signals.messages_committed, dispatch_uid="notify_deliver_committed")
def deliver_committed(sender=None, *, message_ids, **kwargs) -> None:
    deliver_messages(message_ids)


@db_periodic_task(crontab(minute="*"))
@lock_task("notify-deliver-due")
def deliver_due_messages() -> None:
    """The safety net: whatever is due (a lost nudge, a retry after backoff, a dead worker's lease)."""
    services.deliver_due()
