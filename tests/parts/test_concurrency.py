"""REP-2: 50 concurrent reserve/use operations on the last units, with real concurrent transactions on PostgreSQL
(50 threads, each on its own connection, released together by a barrier): exactly as many succeed as there were
units, on hand ≥ reserved ≥ 0 at every location at the end, every refusal is the clear "out of stock" error (409
`out_of_stock` through the API), and the low-stock alert goes out once.

PostgreSQL only: that is where transactions really run side by side and the row lock (`select_for_update` on the
slot) decides; SQLite serialises every writer at BEGIN IMMEDIATE, which the property test covers on both databases
(django-oscar tests/integration/order/test_stockrecord_locking.py skips SQLite the same way)."""

import pytest
from django.db import connection

from aftersales.notify.models import OutboxMessage
from aftersales.parts import services
from aftersales.parts.models import Movement, MovementKind, StockSlot
from aftersales.parts.services import OutOfStock

from ..concurrency import in_threads
from ..conftest import api_as

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions: PostgreSQL only"),
]

UNITS = 7
THREADS = 50


def check_every_location(part, *locations):
    for location in locations:
        sums = services.totals(part, location)
        assert sums.on_hand >= sums.reserved >= 0 and sums.defective >= 0, (location, sums)


def test_50_concurrent_reserves_and_uses_of_the_last_units_never_oversell(logistics, engineer, hdd, van_a, warehouse_a):
    services.receive(part=hdd, location=van_a, quantity=UNITS, by=logistics)
    services.set_level(part=hdd, location=van_a, minimum=3, target=8, by=logistics)

    def one(i):
        try:
            if i % 2:
                services.use_part(part=hdd, location=van_a, quantity=1, by=engineer)
                return "used"
            services.reserve(part=hdd, location=van_a, quantity=1, by=logistics)
            return "reserved"
        except OutOfStock as refusal:
            assert refusal.code == "out_of_stock" and refusal.status == 409
            return "out_of_stock"

    outcomes = in_threads(one, THREADS)
    assert outcomes.count("out_of_stock") == THREADS - UNITS, outcomes
    sums = services.totals(hdd, van_a)
    used, reserved = outcomes.count("used"), outcomes.count("reserved")
    assert (sums.on_hand, sums.reserved) == (UNITS - used, reserved)
    assert sums.available == 0
    check_every_location(hdd, van_a, warehouse_a)
    assert Movement.objects.filter(location=van_a, kind__in=[MovementKind.USED, MovementKind.RESERVED]).count() == UNITS
    # the crossing below the minimum of 3 alerted the branch's logistics once, whoever crossed it
    assert OutboxMessage.objects.filter(event="low_stock", channel="inapp", recipient_user=logistics).count() == 1
    assert StockSlot.objects.get(part=hdd, location=van_a).low


def test_50_concurrent_uses_of_reserved_units_and_transfers_keep_every_location_whole(logistics, engineer, hdd, van_a,
                                                                                     warehouse_a):
    """Uses that consume reservations, plain uses and transfers out of the same van race: what is reserved is never
    used by another job or moved away, and nothing goes below zero at either end."""
    services.receive(part=hdd, location=van_a, quantity=UNITS, by=logistics)
    reservations = [services.reserve(part=hdd, location=van_a, quantity=1, by=logistics) for _ in range(3)]

    def one(i):
        try:
            if i % 5 == 0:
                services.use_part(part=hdd, location=van_a, quantity=1, by=engineer,
                                  reservation=reservations[i // 5 % 3])
                return "used reserved"
            if i % 2:
                services.transfer(part=hdd, source=van_a, destination=warehouse_a, quantity=1, by=logistics)
                return "transferred"
            services.use_part(part=hdd, location=van_a, quantity=1, by=engineer)
            return "used"
        except OutOfStock:
            return "out_of_stock"

    outcomes = in_threads(one, THREADS)
    # every unit went once: 3 through their reservations (a use naming a reservation that is used up takes a free
    # unit, if one is left), 4 to plain uses and transfers; the other 43 were refused
    assert len(outcomes) - outcomes.count("out_of_stock") == UNITS, outcomes
    assert Movement.objects.filter(kind=MovementKind.USED, reserved_change=-1).count() == 3
    check_every_location(hdd, van_a, warehouse_a)
    assert services.totals(hdd, van_a).on_hand == 0
    assert services.totals(hdd, warehouse_a).on_hand == outcomes.count("transferred")
    assert all(services.outstanding(r) == 0 for r in reservations)


def test_50_concurrent_api_uses_of_the_last_units_answer_201_or_409_out_of_stock(logistics, engineer, hdd, van_a):
    services.receive(part=hdd, location=van_a, quantity=UNITS, by=logistics)

    def one(_i):
        answer = api_as(engineer).post("/api/stock-movements/use/", {"part": hdd.pk, "location": van_a.pk,
                                                                     "quantity": 1}, format="json")
        return answer.status_code, answer.json().get("code")

    answers = in_threads(one, THREADS)
    assert sorted(answers, key=str).count((201, None)) == UNITS
    assert [a for a in answers if a[0] != 201] == [(409, "out_of_stock")] * (THREADS - UNITS)
    check_every_location(hdd, van_a)
    assert services.totals(hdd, van_a).on_hand == 0
