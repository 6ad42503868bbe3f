"""The intake channels' API: each channel registers its own viewsets."""

from .alarms import api as alarms_api
from .alarms import api_events as alarm_events_api
from .labels import api as labels_api
from .mail import api as mail_api


def register(router) -> None:
    alarm_events_api.register(router)  # the endpoint the monitoring sources call, then the desk's lists
    mail_api.register(router)
    labels_api.register(router)
    alarms_api.register(router)
