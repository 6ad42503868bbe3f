"""The outbox tells the delivery worker (notify/tasks.py, connected when the app is ready) what was just committed,
so enqueueing never imports the tasks that deliver."""

from django.dispatch import Signal

messages_committed = Signal()  # message_ids: outbox rows due now
