"""Issue 22 §7 with real concurrent transactions (PostgreSQL): work orders racing for the last units of two parts,
their lines given in opposite orders. As many work orders go through as there were units; every other one is refused
as out of stock and writes nothing (no work order, no movement, its request as it was).

(The verb also locks the stock slots in one order whatever the order of the lines, so that two work orders cannot wait
for each other; today `lock_request` already queues them on the shared SLA policy's row, so this test cannot show a
deadlock that the ordering prevents.)

PostgreSQL only, like tests/parts/test_concurrency.py: SQLite serialises every writer at BEGIN IMMEDIATE."""

from decimal import Decimal

import pytest
from django.db import connection

from aftersales.parts import services as stock
from aftersales.parts.models import Location, LocationKind, Movement, MovementKind, Part
from aftersales.service import verbs
from aftersales.service.models import Channel, Priority, ServiceRequest, State, WorkOrder
from aftersales.service.part_lines import PartLine

from ..concurrency import in_threads
from ..factories import ManufacturerFactory, current_version

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions: PostgreSQL only"),
]

UNITS = 4
THREADS = 12


def test_work_orders_racing_for_the_last_units_never_oversell(admin_user, dispatcher, project_a, branch_a):
    maker = ManufacturerFactory(name="海康威视")
    lens = Part.objects.create(manufacturer=maker, part_number="TL-0412", name="定焦镜头 4mm",
                               purchase_cost=Decimal("120.00"))
    box = Part.objects.create(manufacturer=maker, part_number="PFA134", name="防水接线盒", purchase_cost=Decimal("35.00"))
    warehouse = Location.objects.create(kind=LocationKind.WAREHOUSE, name="银川仓库", branch=branch_a, is_main=True)
    for part in (lens, box):
        stock.receive(part=part, location=warehouse, quantity=UNITS, by=admin_user)
    jobs = []
    for i in range(THREADS):
        opened = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel=Channel.PHONE,
                                    title=f"摄像机 {i} 无画面", description="-")
        jobs.append(verbs.reply(request=opened, by=dispatcher, version=current_version(opened), mode="remote",
                                plan="更换"))
    versions = [current_version(job) for job in jobs]

    def one(i):
        lines = [PartLine(lens, 1, (), warehouse), PartLine(box, 1, (), warehouse)]
        try:
            verbs.submit_work_order(request=jobs[i], by=admin_user, version=versions[i], actions="更换镜头和接线盒",
                                    minutes_spent=20, result="solved", parts=lines if i % 2 else lines[::-1])
            return "done"
        except stock.OutOfStock as refusal:
            assert refusal.code == "out_of_stock" and refusal.field.startswith("parts.")
            return "out_of_stock"

    outcomes = in_threads(one, THREADS)
    assert outcomes.count("done") == UNITS and outcomes.count("out_of_stock") == THREADS - UNITS, outcomes
    for part in (lens, box):
        assert stock.totals(part, warehouse).on_hand == 0
    assert WorkOrder.objects.count() == UNITS
    assert Movement.objects.filter(kind=MovementKind.USED, work_order__isnull=False).count() == 2 * UNITS
    states = dict(ServiceRequest.objects.filter(pk__in=[job.pk for job in jobs]).values_list("pk", "state"))
    for job, outcome, version in zip(jobs, outcomes, versions, strict=True):
        if outcome == "done":
            assert states[job.pk] == State.RESOLVED
        else:
            assert (states[job.pk], current_version(job)) == (State.REPLIED, version)
