"""CUS-5: the billing rule as a pure function — free while covered, original parts at their purchase cost after,
labour and service never charged, the integrator's own cost always recorded, a manager's exception its own line."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.billing.rule import (
    Basis, BillingError, ChargeSheet, Coverage, LineKind, ManagerException, PartUsed, charge_sheet,
)

WARRANTY = Coverage(parts=True, labour=True, onsite=True, label="原厂保修", ends=date(2026, 3, 14))
HDD = PartUsed("硬盘 4TB", 2, Decimal("412.50"), reference="movement 17")


def sheet(coverage, **kwargs) -> ChargeSheet:
    return charge_sheet(fault_day=date(2026, 3, 14), coverage=coverage, parts=[HDD], labour_minutes=90, onsite_visits=1,
                        labour_cost_per_hour=Decimal("120"), onsite_cost_per_visit=Decimal("80"), **kwargs)


def test_covered_everything_is_free_and_the_integrator_cost_is_recorded():
    covered = sheet(WARRANTY)
    assert covered.customer_total == Decimal("0.00")
    assert covered.integrator_total == Decimal("825.00") + Decimal("180.00") + Decimal("80.00")
    assert all(line.covered and line.basis == Basis.COVERED for line in covered.lines)


def test_after_coverage_parts_at_purchase_cost_labour_and_service_zero():
    after = sheet(None)
    by_kind = {line.kind: line for line in after.lines}
    assert by_kind[LineKind.PART].customer_amount == Decimal("825.00")
    assert by_kind[LineKind.PART].basis == Basis.PURCHASE_COST and by_kind[LineKind.PART].reference == "movement 17"
    assert by_kind[LineKind.LABOUR].customer_amount == 0 and by_kind[LineKind.LABOUR].basis == Basis.NO_LABOUR_FEE
    assert by_kind[LineKind.ONSITE].customer_amount == 0 and by_kind[LineKind.ONSITE].basis == Basis.NO_SERVICE_FEE
    assert after.customer_total == Decimal("825.00")
    assert after.integrator_total == sheet(WARRANTY).integrator_total  # the cost is the same whoever pays


def test_a_period_that_covers_labour_but_not_parts():
    labour_only = Coverage(parts=False, labour=True, onsite=True, label="HT-2025-001")
    result = sheet(labour_only)
    assert result.customer_total == Decimal("825.00")
    assert [line.covered for line in result.lines] == [False, True, True]


def test_a_managers_exception_is_a_line_of_its_own():
    goodwill = ManagerException(Decimal("-825.00"), "首次故障，经理同意免收", "张经理")
    result = sheet(None, exceptions=[goodwill])
    assert result.customer_total == Decimal("0.00")
    exception = result.lines[-1]
    assert exception.kind == LineKind.EXCEPTION and exception.reference == "张经理" and exception.basis == Basis.EXCEPTION
    assert result.lines[0].customer_amount == Decimal("825.00")  # the rule's own line is not edited


@pytest.mark.parametrize("exception", [
    ManagerException(Decimal("-1"), " ", "张经理"), ManagerException(Decimal("-1"), "好意", ""),
    ManagerException(Decimal("-900"), "too much", "张经理"),
])
def test_exceptions_need_a_reason_an_approver_and_cannot_go_below_zero(exception):
    with pytest.raises(BillingError):
        sheet(None, exceptions=[exception])


@pytest.mark.parametrize("part", [PartUsed("x", 0, Decimal("1")), PartUsed("x", 1, Decimal("-1"))])
def test_bad_part_lines_are_refused(part):
    with pytest.raises(BillingError):
        charge_sheet(fault_day=date(2026, 1, 1), coverage=None, parts=[part])


def test_money_is_rounded_half_up_to_the_fen():
    result = charge_sheet(fault_day=date(2026, 1, 1), coverage=None, parts=[PartUsed("x", 3, Decimal("0.335"))])
    assert result.customer_total == Decimal("1.01")  # 1.005 -> 1.01


@given(st.lists(st.tuples(st.integers(1, 50), st.decimals(min_value=0, max_value=100000, places=2)), max_size=6),
       st.integers(0, 10000), st.booleans())
def test_the_customer_never_pays_more_than_the_parts_cost_and_nothing_when_covered(parts, minutes, covered):
    used = [PartUsed(f"p{i}", quantity, cost) for i, (quantity, cost) in enumerate(parts)]
    result = charge_sheet(fault_day=date(2026, 1, 1), coverage=WARRANTY if covered else None, parts=used,
                          labour_minutes=minutes, labour_cost_per_hour=Decimal("100"))
    parts_cost = sum((line.integrator_cost for line in result.lines if line.kind == LineKind.PART), Decimal(0))
    assert result.customer_total == (Decimal("0.00") if covered else parts_cost)
    assert all(line.customer_amount == 0 for line in result.lines if line.kind != LineKind.PART)
