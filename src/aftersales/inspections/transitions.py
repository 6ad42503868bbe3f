"""INS-1/INS-2: the round's state machine as data.

    awaiting_approval ─ approve (the customer, INS-2) / override_approval (a manager, with a reason) ─> scheduled
    scheduled ─ start (its engineer, in the window) ─> in_progress ─ complete ─> done
    awaiting_approval, scheduled, in_progress ─ mark_missed (the worker, once the window has ended) ─> missed
    missed (started, completed on the phone inside the window, synced late) ─ complete ─> done

One table, TRANSITIONS: each move's name (the verb in services.py, the API's action), the states it starts from, the
state it leads to, the permission it needs. The guard the table cannot state: a round needing the customer's approval
starts only once approved or overridden (the state says so: it is `scheduled` only then)."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.errors import IllegalTransition

from .models import EventKind, RoundState

DO, OVERSEE = "inspections.do_rounds", "inspections.oversee_rounds"
S = RoundState


@dataclass(frozen=True)
class Transition:
    name: str
    label: Promise
    sources: frozenset
    target: str
    permission: str | None  # None: the system (the worker, the approval gate)


def _t(name, label, sources, target, permission) -> Transition:
    return Transition(name, label, frozenset(sources), target, permission)


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    _t("approve", gettext_lazy("Approved by the customer"), {S.AWAITING_APPROVAL}, S.SCHEDULED, None),
    _t("override_approval", gettext_lazy("Start without approval"), {S.AWAITING_APPROVAL}, S.SCHEDULED, OVERSEE),
    _t("start", gettext_lazy("Start the round"), {S.SCHEDULED}, S.IN_PROGRESS, DO),
    _t("complete", gettext_lazy("Complete the round"), {S.IN_PROGRESS, S.MISSED}, S.DONE, DO),
    _t("mark_missed", gettext_lazy("Missed"), {S.AWAITING_APPROVAL, S.SCHEDULED, S.IN_PROGRESS}, S.MISSED, None),
)}

assert set(TRANSITIONS) <= set(EventKind.values)

ALLOWED: dict[str, tuple[str, ...]] = {
    state: tuple(name for name, t in TRANSITIONS.items() if state in t.sources) for state in RoundState.values
}


def refusal(name: str, round_) -> IllegalTransition | None:
    transition = TRANSITIONS[name]
    if round_.state in transition.sources:
        if name == "complete" and round_.state == S.MISSED and round_.started_at is None:
            return IllegalTransition(_("This round was missed before it was started: it cannot be completed."))
        return None
    state = RoundState(round_.state).label
    if name == "start" and round_.state == S.AWAITING_APPROVAL:
        return IllegalTransition(_("This round waits for the customer's approval: it starts once approved, or "
                                   "once a manager overrides the approval with a reason."))
    return IllegalTransition(_("“%(step)s” is not possible while the round is “%(state)s”.")
                             % {"step": transition.label, "state": state})


def check(name: str, round_) -> None:
    refused = refusal(name, round_)
    if refused is not None:
        raise refused


def possible_now(state: str) -> list[Transition]:
    return [TRANSITIONS[name] for name in ALLOWED[state]]
