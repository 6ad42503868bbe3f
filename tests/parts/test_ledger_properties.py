"""REP-2, the ledger's invariants as a property: random sequences of every verb (receive, transfer, reserve, release,
use with or without a reservation, return defective, send to RMA, adjust, reverse) on two locations, on SQLite and on
PostgreSQL. After each step, at every location:

- on hand ≥ reserved ≥ 0 and defective ≥ 0 (the sums over the rows);
- the sums equal those of a plain Python model of the same steps, and the verb refused exactly what the model says
  it must refuse (a refusal writes nothing);
- what is left of each reservation lies between 0 and what was reserved.
"""

from dataclasses import dataclass, field

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.core.errors import DomainError
from aftersales.parts import services
from aftersales.parts.models import Movement, MovementKind

pytestmark = pytest.mark.django_db

LOCATIONS = (0, 1)
small = st.integers(min_value=1, max_value=4)
steps = st.lists(st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(LOCATIONS), small),
    st.tuples(st.just("transfer"), st.sampled_from(LOCATIONS), small),
    st.tuples(st.just("reserve"), st.sampled_from(LOCATIONS), small),
    st.tuples(st.just("release"), st.integers(0, 5), st.one_of(st.none(), small)),
    st.tuples(st.just("use"), st.sampled_from(LOCATIONS), small, st.one_of(st.none(), st.integers(0, 5))),
    st.tuples(st.just("defective"), st.sampled_from(LOCATIONS), small, st.booleans()),
    st.tuples(st.just("rma"), st.sampled_from(LOCATIONS), small),
    st.tuples(st.just("adjust"), st.sampled_from(LOCATIONS), st.integers(-4, 4).filter(bool)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
), min_size=1, max_size=25)


@dataclass
class Model:
    """The expected sums, kept in Python from the same steps."""

    sums: dict = field(default_factory=lambda: {loc: [0, 0, 0] for loc in LOCATIONS})  # on hand, reserved, defective
    reservations: list = field(default_factory=list)  # [movement, location, reserved, left]

    def available(self, loc) -> int:
        return self.sums[loc][0] - self.sums[loc][1]

    def change(self, loc, on_hand=0, reserved=0, defective=0):
        self.sums[loc] = [self.sums[loc][0] + on_hand, self.sums[loc][1] + reserved, self.sums[loc][2] + defective]

    def holds_after(self, loc, on_hand=0, reserved=0, defective=0) -> bool:
        h, r, d = self.sums[loc]
        return h + on_hand >= r + reserved >= 0 and d + defective >= 0


def test_random_sequences_of_verbs_keep_the_ledgers_invariants(logistics, hdd, warehouse_a, van_a):
    places = {0: warehouse_a, 1: van_a}

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
    @given(steps)
    def run(sequence):
        with transaction.atomic():
            model = Model()
            for step in sequence:
                apply(step, model, places, logistics, hdd)
                check(model, places, hdd)
            transaction.set_rollback(True)  # the next example starts from an empty ledger

    run()


def apply(step, model: Model, places, by, part) -> None:
    kind = step[0]
    rows_before = Movement.objects.count()
    expected_ok, effects, call = expectation(step, model, places, by, part)
    try:
        result = call()
    except DomainError:
        assert not expected_ok, f"{step} was refused, the model allows it ({model.sums})"
        assert Movement.objects.count() == rows_before, f"{step} was refused but wrote rows"
        return
    assert expected_ok, f"{step} was allowed, the model refuses it ({model.sums})"
    for loc, changes in effects:
        model.change(loc, *changes)
    if kind == "reserve":
        model.reservations.append([result, step[1], step[2], step[2]])
    if kind in ("release", "use") and effects and getattr(call, "reservation", None) is not None:
        for entry in model.reservations:
            if entry[0].pk == call.reservation.pk:
                entry[3] -= call.settled
    if kind == "reverse" and getattr(call, "reservation", None) is not None:
        for entry in model.reservations:
            if entry[0].pk == call.reservation.pk:
                entry[3] += call.settled


def expectation(step, model: Model, places, by, part):
    """(allowed?, [(location, (on hand, reserved, defective))], the call), as the model sees the step."""
    kind = step[0]
    if kind == "receive":
        _, loc, n = step
        return True, [(loc, (n, 0, 0))], lambda: services.receive(part=part, location=places[loc], quantity=n, by=by)
    if kind == "transfer":
        _, loc, n = step
        other = 1 - loc
        return (model.available(loc) >= n, [(loc, (-n, 0, 0)), (other, (n, 0, 0))],
                lambda: services.transfer(part=part, source=places[loc], destination=places[other], quantity=n, by=by))
    if kind == "reserve":
        _, loc, n = step
        return (model.available(loc) >= n, [(loc, (0, n, 0))],
                lambda: services.reserve(part=part, location=places[loc], quantity=n, by=by))
    if kind == "release":
        _, index, n = step
        if not model.reservations:
            return True, [], lambda: None
        reservation, loc, _reserved, left = model.reservations[index % len(model.reservations)]
        quantity = left if n is None else n
        call = Settling(lambda: services.release(reservation=reservation, by=by, quantity=n), reservation, quantity)
        return 0 < quantity <= left, [(loc, (0, -quantity, 0))], call
    if kind == "use":
        _, loc, n, index = step
        reservation, consumed = None, 0
        if index is not None and model.reservations:
            reservation, rloc, _reserved, left = model.reservations[index % len(model.reservations)]
            if rloc != loc:  # a reservation of the other location: the verb refuses it
                call = Settling(lambda: services.use_part(part=part, location=places[loc], quantity=n, by=by,
                                                          reservation=reservation), reservation, 0)
                return False, [], call
            consumed = min(n, left)
        call = Settling(lambda: services.use_part(part=part, location=places[loc], quantity=n, by=by,
                                                  reservation=reservation), reservation, consumed)
        return model.available(loc) + consumed >= n, [(loc, (-n, -consumed, 0))], call
    if kind == "defective":
        _, loc, n, from_stock = step
        ok = not from_stock or model.available(loc) >= n
        return (ok, [(loc, (-n if from_stock else 0, 0, n))],
                lambda: services.return_defective(part=part, location=places[loc], quantity=n, by=by,
                                                  from_stock=from_stock))
    if kind == "rma":
        _, loc, n = step
        return (model.sums[loc][2] >= n, [(loc, (0, 0, -n))],
                lambda: services.send_to_rma(part=part, location=places[loc], quantity=n, by=by, reference="RMA"))
    if kind == "adjust":
        _, loc, change = step
        return (model.holds_after(loc, change), [(loc, (change, 0, 0))],
                lambda: services.adjust(part=part, location=places[loc], change=change, reason="盘点", by=by))
    if kind == "reverse":
        _, index = step
        rows = list(Movement.objects.order_by("pk"))
        if not rows:
            return True, [], lambda: None
        target = rows[index % len(rows)]
        pair = [target]
        if target.kind == MovementKind.TRANSFER_IN:
            pair = [target.pair, target]
        elif target.kind == MovementKind.TRANSFER_OUT:
            pair = [target, Movement.objects.get(pair=target)]
        loc_of = {place.pk: loc for loc, place in places.items()}
        effects = [(loc_of[row.location_id], (-row.on_hand_change, -row.reserved_change, -row.defective_change))
                   for row in pair]
        reversible = target.kind not in (MovementKind.REVERSAL, MovementKind.RESERVED, MovementKind.RELEASED)
        already = Movement.objects.filter(reverses__in=pair).exists()
        ok = reversible and not already and all(model.holds_after(loc, *changes) for loc, changes in effects)
        call = Settling(lambda: services.reverse(movement=target, by=by, reason="录错"), target.reservation,
                        -target.reserved_change if target.reservation_id else 0)
        return ok, effects, call
    raise AssertionError(kind)


class Settling:
    """A call that settles part of a reservation (release, use, reversal of a use): the model follows it."""

    def __init__(self, call, reservation, settled):
        self.call, self.reservation, self.settled = call, reservation, settled

    def __call__(self):
        return self.call()


def check(model: Model, places, part) -> None:
    for loc, place in places.items():
        sums = services.totals(part, place)
        assert sums.on_hand >= sums.reserved >= 0 and sums.defective >= 0, (loc, sums)
        assert [sums.on_hand, sums.reserved, sums.defective] == model.sums[loc], (loc, sums, model.sums)
    for reservation, _loc, reserved, left in model.reservations:
        assert 0 <= services.outstanding(reservation) == left <= reserved
