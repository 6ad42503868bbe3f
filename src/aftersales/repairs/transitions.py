"""REP-1: the repair state machine as data.

    diagnosing ─ repair_on_site ─> repairing ─ finish_repair ─> fixed ─ close ─> closed
        │ ├─ plan_replacement ─> awaiting_unit ─ replace ─> fixed
        │ ├─ replace (a unit at hand: from stock, or supplied by the customer or the manufacturer) ─> fixed
        │ └─ send_to_vendor (RMA) ─> at_vendor ─ return_from_vendor ─> returned ─ reinstall ─> fixed
        └─ cancel ─> cancelled                     (rediagnose: back to diagnosing from the steps in between)

One table, TRANSITIONS: each step's name (the verb in services.py, the API's action, the page's button), the states it
starts from, the state it leads to, and the permission it needs. Two rules the table cannot state are guards: a case
with a spare unit out on loan cannot end (closed or cancelled), and a unit the manufacturer rejected (sent back
unrepaired) is not reinstalled. The case page, the API and the verbs all read this module; nothing else decides."""

from dataclasses import dataclass
from typing import Callable

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.errors import IllegalTransition

from .models import ENDED_STATES, RepairState, StepKind, Verdict

WORK, SHIP, LEND = "repairs.work_repair", "repairs.ship_rma", "repairs.lend_unit"

S = RepairState


@dataclass(frozen=True)
class Transition:
    name: str
    label: Promise  # the button's words
    sources: frozenset
    target: str
    permission: str


def _t(name, label, sources, target, permission=WORK) -> Transition:
    return Transition(name, label, frozenset(sources), target, permission)


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    _t("repair_on_site", gettext_lazy("Repair on site"), {S.DIAGNOSING}, S.REPAIRING),
    _t("finish_repair", gettext_lazy("Repaired on site"), {S.REPAIRING}, S.FIXED),
    _t("plan_replacement", gettext_lazy("Replace the unit"), {S.DIAGNOSING, S.REPAIRING, S.RETURNED}, S.AWAITING_UNIT),
    _t("replace", gettext_lazy("Install the replacement unit"),
       {S.DIAGNOSING, S.REPAIRING, S.AWAITING_UNIT, S.RETURNED}, S.FIXED),
    _t("send_to_vendor", gettext_lazy("Send to the manufacturer (RMA)"), {S.DIAGNOSING, S.REPAIRING, S.RETURNED},
       S.AT_VENDOR, SHIP),
    _t("return_from_vendor", gettext_lazy("Back from the manufacturer"), {S.AT_VENDOR}, S.RETURNED, SHIP),
    _t("reinstall", gettext_lazy("Reinstall"), {S.RETURNED}, S.FIXED),
    _t("rediagnose", gettext_lazy("Back to diagnosis"), {S.REPAIRING, S.AWAITING_UNIT, S.RETURNED, S.FIXED},
       S.DIAGNOSING),
    _t("close", gettext_lazy("Close the case"), {S.FIXED}, S.CLOSED),
    _t("cancel", gettext_lazy("Cancel the case"), {S.DIAGNOSING, S.REPAIRING, S.AWAITING_UNIT, S.RETURNED},
       S.CANCELLED),
)}

# Every transition is also a kind of history line, and only the two end states are ends.
assert set(TRANSITIONS) <= set(StepKind.values)
assert {t.target for t in TRANSITIONS.values()} & set(ENDED_STATES) == set(ENDED_STATES)

# State -> the steps possible from it (derived from the table, never written by hand).
ALLOWED: dict[str, tuple[str, ...]] = {
    state: tuple(name for name, t in TRANSITIONS.items() if state in t.sources) for state in RepairState.values
}


class CaseHasOpenLoan(IllegalTransition):
    """§4: a case cannot end while a spare unit it lent is out."""

    code = "loan_open"


class VendorRejected(IllegalTransition):
    code = "vendor_rejected"


# ------------------------------------------------------------------------------------------------ guards
# Each reads the case's loans and RMAs through `.all()`, so a page that prefetched them asks no more queries.

def _open_loan(case):
    return next((loan for loan in case.loans.all() if loan.returned_at is None), None)


def last_rma(case):
    rmas = list(case.rmas.all())
    return max(rmas, key=lambda rma: rma.pk) if rmas else None


def _no_open_loan(case) -> IllegalTransition | None:
    loan = _open_loan(case)
    if loan is None:
        return None
    return CaseHasOpenLoan(_("The spare unit %(model)s %(serial)s lent on this case is not back yet (due %(due)s): "
                             "take it back before the case ends.")
                           % {"model": loan.unit_model, "serial": loan.unit_serial, "due": loan.due_back_on.isoformat()})


def _not_rejected(case) -> IllegalTransition | None:
    rma = last_rma(case)
    if rma is None or rma.verdict != Verdict.REJECTED:
        return None
    return VendorRejected(_("The manufacturer rejected the unit and sent it back unrepaired: repair it on site, "
                            "replace it, or send it again."))


GUARDS: dict[str, tuple[Callable, ...]] = {
    "close": (_no_open_loan,),
    "cancel": (_no_open_loan,),
    "reinstall": (_not_rejected,),
}


# ------------------------------------------------------------------------------------------------ reading the table

def label_of(name: str) -> str:
    return str(TRANSITIONS[name].label)


def possible_now(state: str) -> list[Transition]:
    return [TRANSITIONS[name] for name in ALLOWED[state]]


def refusal(name: str, case) -> IllegalTransition | None:
    """Why step `name` cannot be taken on `case` now (None: it can): the table first, then the step's guards."""
    transition = TRANSITIONS[name]
    if case.state not in transition.sources:
        state = RepairState(case.state).label
        possible = possible_now(case.state)
        if not possible:
            return IllegalTransition(_("“%(step)s” is not possible: the case is “%(state)s”, nothing more can be done.")
                                     % {"step": transition.label, "state": state})
        return IllegalTransition(_("“%(step)s” is not possible while the case is “%(state)s”. Possible now: "
                                   "%(possible)s.") % {"step": transition.label, "state": state,
                                                       "possible": " / ".join(str(t.label) for t in possible)})
    for guard in GUARDS.get(name, ()):
        refused = guard(case)
        if refused is not None:
            return refused
    return None


def check(name: str, case) -> None:
    """Raise IllegalTransition (409) naming the step, the case's state and what is possible now."""
    refused = refusal(name, case)
    if refused is not None:
        raise refused


def permission_of(name: str) -> str:
    return TRANSITIONS[name].permission


def steps_for(user, case) -> list[tuple[Transition, IllegalTransition | None]]:
    """The steps the table allows from the case's state that `user` may take, each with its guard's refusal (None:
    possible now). The case page shows the possible ones as buttons and the refused ones with their reason."""
    if user.customer_id:
        return []
    return [(t, refusal(t.name, case)) for t in possible_now(case.state) if user.has_perm(t.permission)]
