"""NOT-1: huey entry points; the services do the work, and every task may run twice harmlessly.

They live on the delivery queue (core/queue.py), served by its own consumer in `aftersales worker`: a slow mail
server or robot delays other messages, never a deadline check (issue 20, point 4).
"""

from django.dispatch import receiver
from huey import crontab
from huey.contrib.djhuey import HUEY

from aftersales.core.queue import delivery, delivery_periodic_task, delivery_task

from . import services, signals


@delivery_task()
def deliver_messages(message_ids: list[int]) -> None:
    """The nudge after a commit: deliver what was just enqueued (or retried)."""
    for message_id in message_ids:
        services.deliver(message_id)


@receiver(signals.messages_committed, dispatch_uid="notify_deliver_committed")
def deliver_committed(sender=None, *, message_ids, **kwargs) -> None:
    if HUEY.immediate:  # background work runs inline (AFTERSALES_TASKS_INLINE, the tests): so does delivery
        deliver_messages.call_local(message_ids)
    else:
        deliver_messages(message_ids)


# No expiry (huey's lock TTL is Redis-only): a lock left by a killed worker is cleared when the worker starts again
# (flush_locks), which is sound with one consumer per queue. Running twice at once would be harmless anyway: every
# message is claimed with a compare-and-set (services.deliver); the lock only keeps the minute runs from piling up.
@delivery_periodic_task(crontab(minute="*"))
@delivery().lock_task("notify-deliver-due")
def deliver_due_messages() -> None:
    """The safety net: whatever is due (a lost nudge, a retry after backoff, a dead worker's lease)."""
    services.deliver_due()
