"""What the request clock asks of the background worker. The worker's entry points (service/tasks.py) receive
these, connected when the app is ready, so the clock and the calendars never import the tasks that run them."""

from django.dispatch import Signal

check_due_at = Signal()  # request_id, at: check the request's warnings and escalations at that instant
calendar_changed = Signal()  # calendar_id, since, provisional_only: recompute the open requests it can touch
