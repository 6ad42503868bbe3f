"""REP-2: the verbs of the spare-parts ledger. Each writes rows and only rows; each refusal writes nothing.

On hand, reserved and defective are sums over the rows (services.totals); the database itself refuses a row whose
effect does not match its kind, and the verbs refuse what would leave on hand < reserved, reserved < 0 or
defective < 0."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.parts import services
from aftersales.parts.models import Location, LocationKind, Movement, MovementKind, Part, StockSlot
from aftersales.parts.services import InactivePart, OutOfStock, Totals, WrongLocation, totals
from aftersales.service import verbs

from ..factories import current_version

pytestmark = pytest.mark.django_db


def stocked(part, location, by, quantity=5):
    services.receive(part=part, location=location, quantity=quantity, by=by, supplier="宁夏信达科技有限公司")


def ledger() -> int:
    return Movement.objects.count()


# ------------------------------------------------------------------------------------------ receive and the sums

def test_receiving_adds_on_hand_at_the_catalogue_cost_or_the_suppliers(frozen_clock, logistics, hdd, warehouse_a):
    first = services.receive(part=hdd, location=warehouse_a, quantity=4, by=logistics, supplier="宁夏信达")
    second = services.receive(part=hdd, location=warehouse_a, quantity=2, by=logistics, unit_cost="498.5")
    assert (first.kind, first.unit_cost, first.on_hand_change, first.by) == ("received", Decimal("520.00"), 4, logistics)
    assert second.unit_cost == Decimal("498.50")
    assert totals(hdd, warehouse_a) == Totals(on_hand=6, reserved=0, defective=0)


def test_the_time_of_a_movement_is_the_servers_and_cannot_be_given(frozen_clock, logistics, hdd, warehouse_a):
    movement = services.receive(part=hdd, location=warehouse_a, quantity=1, by=logistics)
    from aftersales.core import clock

    assert movement.at == clock.now()
    with pytest.raises(TypeError):  # no verb takes a time
        services.receive(part=hdd, location=warehouse_a, quantity=1, by=logistics, at=clock.now() - timedelta(days=3))


@pytest.mark.parametrize("quantity", [0, -1, 2.5, "3", True, 100_001])
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused(quantity, logistics, hdd, warehouse_a):
    with pytest.raises(DomainError) as refused:
        services.receive(part=hdd, location=warehouse_a, quantity=quantity, by=logistics)
    assert refused.value.field == "quantity" and ledger() == 0


def test_an_inactive_part_is_neither_received_reserved_transferred_nor_used(logistics, engineer, hdd, warehouse_a,
                                                                           van_a):
    stocked(hdd, warehouse_a, logistics)
    stocked(hdd, van_a, logistics)
    Part.objects.filter(pk=hdd.pk).update(active=False)
    hdd.refresh_from_db()
    before = ledger()
    for call in (lambda: services.receive(part=hdd, location=warehouse_a, quantity=1, by=logistics),
                 lambda: services.reserve(part=hdd, location=warehouse_a, quantity=1, by=logistics),
                 lambda: services.transfer(part=hdd, source=warehouse_a, destination=van_a, quantity=1, by=logistics),
                 lambda: services.use_part(part=hdd, location=van_a, quantity=1, by=engineer)):
        with pytest.raises(InactivePart) as refused:
            call()
        assert (refused.value.code, refused.value.field) == ("inactive_part", "part")
    assert ledger() == before
    # what is left of it can still be counted away
    services.adjust(part=hdd, location=warehouse_a, change=-5, reason="停产,报废处理", by=logistics)
    assert totals(hdd, warehouse_a).on_hand == 0


# ------------------------------------------------------------------------------------------ who may move what where

def test_logistics_moves_stock_only_in_their_own_branch(logistics, logistics_b, hdd, warehouse_a, warehouse_b):
    with pytest.raises(WrongLocation) as refused:
        services.receive(part=hdd, location=warehouse_b, quantity=1, by=logistics)
    assert (refused.value.code, refused.value.status) == ("wrong_location", 403)
    stocked(hdd, warehouse_a, logistics)
    with pytest.raises(WrongLocation):
        services.transfer(part=hdd, source=warehouse_a, destination=warehouse_b, quantity=1, by=logistics)
    with pytest.raises(WrongLocation):
        services.adjust(part=hdd, location=warehouse_a, change=1, reason="盘盈", by=logistics_b)
    assert totals(hdd, warehouse_a).on_hand == 5 and totals(hdd, warehouse_b).on_hand == 0


def test_an_engineer_uses_parts_from_their_own_van_only(logistics, engineer, engineer2, hdd, warehouse_a, van_a,
                                                        van_a2):
    for location in (warehouse_a, van_a, van_a2):
        stocked(hdd, location, logistics)
    before = ledger()
    for location in (warehouse_a, van_a2):
        with pytest.raises(WrongLocation):
            services.use_part(part=hdd, location=location, quantity=1, by=engineer)
    with pytest.raises(WrongLocation):  # and cannot stock their van themselves
        services.transfer(part=hdd, source=warehouse_a, destination=van_a, quantity=1, by=engineer)
    assert ledger() == before
    used = services.use_part(part=hdd, location=van_a, quantity=1, by=engineer)
    assert (used.kind, used.on_hand_change, used.unit_cost) == ("used", -1, Decimal("520.00"))


def test_an_administrator_moves_stock_anywhere(admin_user, hdd, warehouse_a, warehouse_b):
    stocked(hdd, warehouse_a, admin_user)
    services.transfer(part=hdd, source=warehouse_a, destination=warehouse_b, quantity=2, by=admin_user)
    assert (totals(hdd, warehouse_a).on_hand, totals(hdd, warehouse_b).on_hand) == (3, 2)


# ------------------------------------------------------------------------------------------ transfer

def test_a_transfer_is_two_rows_and_moves_only_what_is_not_reserved(logistics, hdd, warehouse_a, van_a):
    stocked(hdd, warehouse_a, logistics, 5)
    services.reserve(part=hdd, location=warehouse_a, quantity=3, by=logistics)
    with pytest.raises(OutOfStock) as refused:
        services.transfer(part=hdd, source=warehouse_a, destination=van_a, quantity=3, by=logistics)
    assert refused.value.code == "out_of_stock" and "2" in str(refused.value.message)
    out, into = services.transfer(part=hdd, source=warehouse_a, destination=van_a, quantity=2, by=logistics)
    assert (out.kind, out.location, out.on_hand_change) == ("transfer_out", warehouse_a, -2)
    assert (into.kind, into.location, into.on_hand_change, into.pair) == ("transfer_in", van_a, 2, out)
    assert totals(hdd, warehouse_a) == Totals(3, 3, 0) and totals(hdd, van_a) == Totals(2, 0, 0)
    with pytest.raises(DomainError):
        services.transfer(part=hdd, source=van_a, destination=van_a, quantity=1, by=logistics)


def test_a_closed_location_receives_nothing(logistics, hdd, warehouse_a, van_a):
    stocked(hdd, warehouse_a, logistics)
    Location.objects.filter(pk=van_a.pk).update(active=False)
    van_a.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        services.transfer(part=hdd, source=warehouse_a, destination=van_a, quantity=1, by=logistics)
    assert refused.value.field == "destination"


# ------------------------------------------------------------------------------------------ reserve, release, use

def test_reserving_makes_units_unavailable_and_using_the_reservation_consumes_it(logistics, engineer, dispatcher,
                                                                               project_a, hdd, van_a):
    request_obj = verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone",
                                     title="NVR 硬盘告警", description="3 号 NVR 报硬盘错误")
    stocked(hdd, van_a, logistics, 2)
    reservation = services.reserve(part=hdd, location=van_a, quantity=2, by=logistics, request=request_obj)
    assert totals(hdd, van_a) == Totals(on_hand=2, reserved=2)
    with pytest.raises(OutOfStock):  # nothing left for a use that is not for this job
        services.use_part(part=hdd, location=van_a, quantity=1, by=engineer)
    used = services.use_part(part=hdd, location=van_a, quantity=1, by=engineer, reservation=reservation)
    assert (used.reserved_change, used.on_hand_change, used.request) == (-1, -1, request_obj)
    assert totals(hdd, van_a) == Totals(on_hand=1, reserved=1)
    assert services.outstanding(reservation) == 1
    released = services.release(reservation=reservation, by=logistics, reason="改用客户备件")
    assert (released.quantity, released.reserved_change) == (1, -1)
    assert totals(hdd, van_a) == Totals(on_hand=1, reserved=0)
    with pytest.raises(IllegalTransition):
        services.release(reservation=reservation, by=logistics)


def test_a_use_beyond_its_reservation_takes_the_rest_from_what_is_available(logistics, engineer, hdd, van_a):
    stocked(hdd, van_a, logistics, 3)
    reservation = services.reserve(part=hdd, location=van_a, quantity=1, by=logistics)
    used = services.use_part(part=hdd, location=van_a, quantity=3, by=engineer, reservation=reservation)
    assert (used.on_hand_change, used.reserved_change) == (-3, -1)
    assert totals(hdd, van_a) == Totals(0, 0, 0)


def test_release_cannot_give_back_more_than_is_left(logistics, hdd, warehouse_a):
    stocked(hdd, warehouse_a, logistics, 3)
    reservation = services.reserve(part=hdd, location=warehouse_a, quantity=2, by=logistics)
    with pytest.raises(DomainError) as refused:
        services.release(reservation=reservation, by=logistics, quantity=3)
    assert refused.value.field == "quantity"
    not_a_reservation = Movement.objects.get(kind="received")
    with pytest.raises(DomainError):
        services.release(reservation=not_a_reservation, by=logistics)
    assert totals(hdd, warehouse_a) == Totals(3, 2, 0)


def test_using_the_last_unit_twice_is_out_of_stock_the_second_time(logistics, engineer, hdd, van_a):
    stocked(hdd, van_a, logistics, 1)
    services.use_part(part=hdd, location=van_a, quantity=1, by=engineer)
    before = ledger()
    with pytest.raises(OutOfStock) as refused:
        services.use_part(part=hdd, location=van_a, quantity=1, by=engineer)
    assert (refused.value.code, refused.value.status, refused.value.field) == ("out_of_stock", 409, "quantity")
    assert "0" in str(refused.value.message)
    assert ledger() == before and totals(hdd, van_a) == Totals(0, 0, 0)


def test_a_serial_tracked_part_names_one_serial_per_unit(logistics, engineer, camera_module, warehouse_a, van_a, hdd):
    with pytest.raises(DomainError) as refused:
        services.receive(part=camera_module, location=warehouse_a, quantity=2, by=logistics, serials=["CM001"])
    assert refused.value.field == "serials"
    with pytest.raises(DomainError):
        services.receive(part=camera_module, location=warehouse_a, quantity=2, by=logistics, serials=["CM001", "CM001"])
    with pytest.raises(DomainError):  # an untracked part takes no serial numbers
        services.receive(part=hdd, location=warehouse_a, quantity=1, by=logistics, serials=["X"])
    services.receive(part=camera_module, location=van_a, quantity=2, by=logistics, serials=[" CM001 ", "CM002"])
    used = services.use_part(part=camera_module, location=van_a, quantity=1, by=engineer, serials=["CM002"])
    assert used.serials == ["CM002"]
    assert Movement.objects.get(kind="received").serials == ["CM001", "CM002"]


# ------------------------------------------------------------------------------------------ defective and RMA

def test_a_defective_unit_waits_at_its_location_until_it_goes_to_the_manufacturer(logistics, engineer, hdd, van_a):
    stocked(hdd, van_a, logistics, 2)
    services.return_defective(part=hdd, location=van_a, quantity=1, by=engineer, reference="客户拆回坏盘")
    assert totals(hdd, van_a) == Totals(on_hand=2, reserved=0, defective=1)  # never was ours: good stock unchanged
    services.return_defective(part=hdd, location=van_a, quantity=1, by=engineer, from_stock=True, reason="新盘开箱即坏")
    assert totals(hdd, van_a) == Totals(on_hand=1, reserved=0, defective=2)
    with pytest.raises(OutOfStock):
        services.send_to_rma(part=hdd, location=van_a, quantity=3, by=logistics, reference="RMA-2026-001")
    with pytest.raises(WrongLocation):  # shipping to the manufacturer is logistics' job
        services.send_to_rma(part=hdd, location=van_a, quantity=2, by=engineer, reference="RMA-2026-001")
    services.send_to_rma(part=hdd, location=van_a, quantity=2, by=logistics, reference="RMA-2026-001")
    assert totals(hdd, van_a) == Totals(on_hand=1, reserved=0, defective=0)


# ------------------------------------------------------------------------------------------ adjust

def test_an_adjustment_needs_a_reason_and_cannot_take_reserved_units(logistics, hdd, warehouse_a):
    stocked(hdd, warehouse_a, logistics, 3)
    services.reserve(part=hdd, location=warehouse_a, quantity=2, by=logistics)
    with pytest.raises(DomainError) as refused:
        services.adjust(part=hdd, location=warehouse_a, change=-1, reason=" ", by=logistics)
    assert refused.value.field == "reason"
    with pytest.raises(DomainError):
        services.adjust(part=hdd, location=warehouse_a, change=0, reason="盘点", by=logistics)
    with pytest.raises(OutOfStock):
        services.adjust(part=hdd, location=warehouse_a, change=-2, reason="盘亏", by=logistics)
    down = services.adjust(part=hdd, location=warehouse_a, change=-1, reason="盘亏一块", by=logistics)
    up = services.adjust(part=hdd, location=warehouse_a, change=4, reason="盘盈", by=logistics)
    assert (down.quantity, down.on_hand_change, up.quantity, up.on_hand_change) == (1, -1, 4, 4)
    assert totals(hdd, warehouse_a) == Totals(6, 2, 0)


# ------------------------------------------------------------------------------------------ corrections

def test_a_correction_is_a_reversing_row_and_the_original_stays(logistics, hdd, warehouse_a):
    wrong = services.receive(part=hdd, location=warehouse_a, quantity=10, by=logistics)
    reversal, = services.reverse(movement=wrong, by=logistics, reason="数量录错,应为 1")
    assert (reversal.kind, reversal.reverses, reversal.on_hand_change, reversal.quantity) == ("reversal", wrong, -10, 10)
    assert Movement.objects.filter(pk=wrong.pk, quantity=10, on_hand_change=10).exists()  # untouched
    assert totals(hdd, warehouse_a).on_hand == 0
    with pytest.raises(IllegalTransition):
        services.reverse(movement=wrong, by=logistics, reason="again")
    with pytest.raises(IllegalTransition):
        services.reverse(movement=reversal, by=logistics, reason="undo the undo")
    with pytest.raises(DomainError):
        services.reverse(movement=wrong, by=logistics, reason="")


def test_reversing_a_transfer_reverses_both_ends(logistics, hdd, warehouse_a, van_a):
    stocked(hdd, warehouse_a, logistics, 4)
    _out, into = services.transfer(part=hdd, source=warehouse_a, destination=van_a, quantity=3, by=logistics)
    rows = services.reverse(movement=into, by=logistics, reason="调错车")
    assert {row.location for row in rows} == {warehouse_a, van_a}
    assert totals(hdd, warehouse_a).on_hand == 4 and totals(hdd, van_a).on_hand == 0


def test_a_receipt_whose_units_are_gone_cannot_be_reversed(logistics, engineer, hdd, van_a):
    receipt = services.receive(part=hdd, location=van_a, quantity=1, by=logistics)
    services.use_part(part=hdd, location=van_a, quantity=1, by=engineer)
    with pytest.raises(OutOfStock):
        services.reverse(movement=receipt, by=logistics, reason="录错")
    assert totals(hdd, van_a).on_hand == 0


def test_reversing_a_use_gives_its_reservation_back(logistics, engineer, hdd, van_a):
    stocked(hdd, van_a, logistics, 2)
    reservation = services.reserve(part=hdd, location=van_a, quantity=2, by=logistics)
    used = services.use_part(part=hdd, location=van_a, quantity=2, by=engineer, reservation=reservation)
    services.reverse(movement=used, by=logistics, reason="未实际更换")
    assert totals(hdd, van_a) == Totals(2, 2, 0) and services.outstanding(reservation) == 2


@pytest.mark.parametrize("kind", ["reserved", "released"])
def test_reservations_are_corrected_by_release_not_by_reversal(kind, logistics, hdd, warehouse_a):
    stocked(hdd, warehouse_a, logistics)
    reservation = services.reserve(part=hdd, location=warehouse_a, quantity=1, by=logistics)
    row = reservation if kind == "reserved" else services.release(reservation=reservation, by=logistics)
    with pytest.raises(IllegalTransition):
        services.reverse(movement=row, by=logistics, reason="x")


# ------------------------------------------------------------------------------------------ the database's own rules

def test_the_database_refuses_a_row_whose_effect_does_not_match_its_kind(logistics, hdd, warehouse_a):
    from aftersales.core import clock

    row = {"part": hdd, "location": warehouse_a, "quantity": 2, "unit_cost": 1, "at": clock.now(), "by": logistics,
           "reserved_change": 0, "defective_change": 0}
    for kind, on_hand in (("received", -2), ("used", 2), ("adjusted", 3)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Movement.objects.create(kind=kind, on_hand_change=on_hand, reason="x", **row)
    with pytest.raises(IntegrityError), transaction.atomic():  # an adjustment says why
        Movement.objects.create(kind="adjusted", on_hand_change=2, **row)
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.create(kind="received", on_hand_change=0, **{**row, "quantity": 0})


def test_one_van_per_engineer_and_one_main_warehouse_per_branch(engineer, branch_a, van_a, warehouse_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Location.objects.create(kind=LocationKind.VAN, name="第二辆车", branch=branch_a, engineer=engineer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Location.objects.create(kind=LocationKind.WAREHOUSE, name="第二主仓", branch=branch_a, is_main=True)
    with pytest.raises(IntegrityError), transaction.atomic():  # a warehouse belongs to nobody
        Location.objects.create(kind=LocationKind.WAREHOUSE, name="私人仓", branch=branch_a, engineer=engineer)
    Location.objects.create(kind=LocationKind.WAREHOUSE, name="备件二库", branch=branch_a)  # another, not main


def test_a_slot_is_made_once_per_part_and_location_and_holds_no_quantity(logistics, hdd, warehouse_a):
    stocked(hdd, warehouse_a, logistics)
    stocked(hdd, warehouse_a, logistics)
    assert StockSlot.objects.filter(part=hdd, location=warehouse_a).count() == 1
    quantities = {"quantity", "on_hand", "reserved", "available", "defective", "minimum", "target"}
    assert not quantities & {field.name for field in StockSlot._meta.get_fields()}


def test_the_use_returns_the_cost_the_billing_rule_charges(logistics, engineer, dispatcher, project_a, hdd, van_a):
    """'更换原厂备件只收采购成本费': the row of the use carries the part's purchase cost at that moment; a later change
    of the catalogue's cost does not change what was used."""
    request_obj = verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone",
                                     title="硬盘坏", description="更换硬盘")
    verbs.reply(request=request_obj, by=dispatcher, version=current_version(request_obj), mode="remote", plan="远程")
    work_order = verbs.submit_work_order(request=request_obj, by=engineer, version=current_version(request_obj),
                                         actions="更换硬盘", minutes_spent=30, result="solved")
    stocked(hdd, van_a, logistics, 2)
    used = services.use_part(part=hdd, location=van_a, quantity=2, by=engineer, work_order=work_order)
    Part.objects.filter(pk=hdd.pk).update(purchase_cost=Decimal("999.00"))
    used.refresh_from_db()
    assert (used.unit_cost, used.total_cost, used.work_order, used.request) == (
        Decimal("520.00"), Decimal("1040.00"), work_order, request_obj)
