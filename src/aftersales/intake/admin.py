"""The intake channels' administration: each channel registers its own models' admin."""

from .alarms import admin as alarms_admin  # noqa: F401 - keys, device aliases, priority rules, events
from .mail import admin as mail_admin  # noqa: F401 - inbound mail
