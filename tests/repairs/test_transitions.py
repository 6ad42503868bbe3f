"""REP-1: the state machine is the table in repairs/transitions.py. Every step the table allows from a state is
taken, every other step from every state is refused with a clear error (which step, from which state, what is
possible now), and a refused or stale step writes nothing."""

import pytest
from django.utils import translation

from aftersales.core import clock
from aftersales.core.errors import IllegalTransition, StaleObject
from aftersales.repairs import services
from aftersales.repairs.models import RepairCase, RepairState, RepairStep, VendorRma
from aftersales.repairs.transitions import ALLOWED, TRANSITIONS

from ..factories import current_version
from .conftest import bring_to, take, valid_input

ALLOWED_PAIRS = [(state, name) for state in RepairState.values for name in TRANSITIONS if name in ALLOWED[state]]
ILLEGAL_PAIRS = [(state, name) for state in RepairState.values for name in TRANSITIONS if name not in ALLOWED[state]]


def test_the_table_covers_every_state_and_the_ends_lead_nowhere():
    assert set(ALLOWED) == set(RepairState.values)
    assert ALLOWED[RepairState.CLOSED] == ALLOWED[RepairState.CANCELLED] == ()
    assert all(ALLOWED[state] for state in RepairState.values if state not in ("closed", "cancelled"))
    assert len(ALLOWED_PAIRS) + len(ILLEGAL_PAIRS) == len(RepairState.values) * len(TRANSITIONS)


@pytest.mark.parametrize(("state", "name"), ALLOWED_PAIRS)
def test_every_step_the_table_allows_is_taken(state, name, case_a, dispatcher):
    case = bring_to(case_a, state, dispatcher)
    case = take(case, name, dispatcher)
    assert case.state == TRANSITIONS[name].target
    last = RepairStep.objects.filter(case=case).latest("pk")
    assert (last.kind, last.from_state, last.to_state, last.actor) == (name, state, case.state, dispatcher)


@pytest.mark.parametrize(("state", "name"), ILLEGAL_PAIRS)
def test_every_other_step_is_refused_naming_the_step_the_state_and_what_is_possible(state, name, case_a, dispatcher):
    case = bring_to(case_a, state, dispatcher)
    before = (current_version(case), RepairStep.objects.count(), VendorRma.objects.count(),
              RepairCase.objects.get(pk=case.pk).state)
    with pytest.raises(IllegalTransition) as refused:
        take(case, name, dispatcher)
    message = str(refused.value.message)
    assert str(TRANSITIONS[name].label) in message and str(RepairState(state).label) in message
    for possible in ALLOWED[state]:
        assert str(TRANSITIONS[possible].label) in message
    if not ALLOWED[state]:
        assert message == translation.gettext("“%(step)s” is not possible: the case is “%(state)s”, nothing more can "
                                              "be done.") % {"step": TRANSITIONS[name].label,
                                                             "state": RepairState(state).label}
    assert refused.value.status == 409 and refused.value.code == "illegal_transition"
    assert (current_version(case), RepairStep.objects.count(), VendorRma.objects.count(),
            RepairCase.objects.get(pk=case.pk).state) == before


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_a_stale_version_is_refused_and_writes_nothing(name, case_a, dispatcher):
    state = next(state for state in RepairState.values if name in ALLOWED[state])
    case = bring_to(case_a, state, dispatcher)
    seen = current_version(case)
    # Someone else changed the case meanwhile (lent a unit on it) after this user loaded its page.
    services.lend_unit(case=case, by=dispatcher, version=seen, unit_serial=f"SPARE-{name}", unit_model="备用机",
                       due_back_on=clock.today())
    before = (current_version(case), RepairStep.objects.count(), RepairCase.objects.get(pk=case.pk).state)
    verb = getattr(services, name)
    with pytest.raises(StaleObject):
        verb(case=case, by=dispatcher, version=seen, **valid_input(name, case))
    assert (current_version(case), RepairStep.objects.count(), RepairCase.objects.get(pk=case.pk).state) == before
