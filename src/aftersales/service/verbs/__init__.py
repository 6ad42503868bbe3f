"""The verbs on service requests, work orders and incident reports: the only writers of those rows. Each verb is
one transaction that locks, checks the version the user saw and that the action is allowed now, writes the rows
and files, the timeline (their audit) and the outbox."""

from .channels import (
    add_label_report,
    close_as_recovered,
    open_follow_up,
    record_channel_event,
    verify_reporter,
)
from .desk import (
    add_attachments,
    cancel,
    change_priority,
    comment,
    dispatch,
    hand_to_advisor,
    pause,
    record_contingency,
    reply,
    resume,
)
from .field import arrive, depart, leave
from .incidents import (
    INCIDENT_FIELDS,
    answer_incident_report,
    save_incident_report,
    submit_incident_report,
)
from .opening import open_request
from .work_orders import confirm_work_order, rate_work_order, reject_work_order, submit_work_order

__all__ = [
    "INCIDENT_FIELDS", "add_attachments", "add_label_report", "answer_incident_report", "arrive", "cancel",
    "change_priority", "close_as_recovered", "comment", "confirm_work_order", "depart", "dispatch", "hand_to_advisor",
    "leave", "open_follow_up", "open_request", "pause", "rate_work_order", "record_channel_event",
    "record_contingency", "reject_work_order", "reply", "resume", "save_incident_report", "submit_incident_report",
    "submit_work_order", "verify_reporter",
]
