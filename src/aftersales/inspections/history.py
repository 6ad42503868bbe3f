"""A round's timeline (RoundEvent): one line per step, who and when; written by the verbs of services.py, findings.py,
approvals.py and reports.py."""

from .models import RoundEvent


def record(round_, kind, *, actor, at, note="", from_state="", to_state="", **data) -> RoundEvent:
    return RoundEvent.objects.create(round=round_, kind=kind, actor=actor, at=at, note=note, from_state=from_state,
                                     to_state=to_state, data=data)
