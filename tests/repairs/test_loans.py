"""Issue 22 §4: a spare unit lent while the device is away. One open loan per unit is a database constraint; a case
cannot end while its loan is out; overdue loans are listed for the desk and for the customer."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from aftersales.core.errors import IllegalTransition, StaleObject
from aftersales.repairs import services
from aftersales.repairs.models import Loan, RepairState, RepairStep
from aftersales.repairs.transitions import CaseHasOpenLoan

from ..factories import DeviceFactory, current_version
from .conftest import bring_to, take

TODAY = date(2026, 11, 26)  # the frozen clock's day


def lend(case, by, serial="SPARE-001", due=TODAY + timedelta(days=7), **extra):
    return services.lend_unit(case=case, by=by, version=current_version(case), unit_serial=serial,
                              unit_model="DS-2CD3T46 备用机", due_back_on=due, **extra)


@pytest.fixture
def second_case(project_a, dispatcher):
    return services.open_case(by=dispatcher, device=DeviceFactory(project=project_a), fault="另一台故障")


def test_the_database_refuses_a_second_open_loan_of_a_unit(frozen_clock, case_a, second_case, dispatcher):
    lend(case_a, dispatcher)
    with pytest.raises(IntegrityError), transaction.atomic():  # the constraint itself, past every check of the verb
        Loan.objects.create(case=second_case, unit_serial="SPARE-001", unit_model="x", lent_at=case_a.opened_at,
                            due_back_on=TODAY, lent_by=dispatcher)


def test_lending_a_unit_out_on_loan_is_a_clear_error_naming_the_loan_and_writes_nothing(frozen_clock, case_a,
                                                                                       second_case, dispatcher):
    lend(case_a, dispatcher, serial="spare-001 ")
    before = (Loan.objects.count(), RepairStep.objects.count(), current_version(second_case))
    with pytest.raises(services.UnitOnLoan) as refused:
        lend(second_case, dispatcher, serial=" Spare-001")  # one unit, one spelling: stored as SPARE-001
    assert (refused.value.status, refused.value.code, refused.value.field) == (409, "unit_on_loan", "unit_serial")
    assert case_a.number in str(refused.value.message) and "2026-12-03" in str(refused.value.message)
    assert (Loan.objects.count(), RepairStep.objects.count(), current_version(second_case)) == before


def test_a_returned_unit_can_be_lent_again(frozen_clock, case_a, second_case, dispatcher):
    loan = lend(case_a, dispatcher)
    services.return_loan(loan=loan, by=dispatcher, version=loan.version, note="完好")
    again = lend(second_case, dispatcher)
    assert again.unit_serial == "SPARE-001" and Loan.objects.filter(returned_at__isnull=True).count() == 1


@pytest.mark.parametrize("name", ["close", "cancel"])
def test_a_case_cannot_end_while_its_loan_is_out(name, frozen_clock, case_a, dispatcher):
    state = RepairState.FIXED if name == "close" else RepairState.DIAGNOSING
    case = bring_to(case_a, state, dispatcher)
    loan = lend(case, dispatcher)
    before = (current_version(case), RepairStep.objects.count())
    with pytest.raises(CaseHasOpenLoan) as refused:
        take(case, name, dispatcher)
    assert refused.value.status == 409 and refused.value.code == "loan_open"
    assert "SPARE-001" in str(refused.value.message) and "2026-12-03" in str(refused.value.message)
    assert (current_version(case), RepairStep.objects.count()) == before
    services.return_loan(loan=loan, by=dispatcher, version=loan.version)
    assert take(case, name, dispatcher).state in (RepairState.CLOSED, RepairState.CANCELLED)


def test_lending_needs_an_open_case_and_a_due_date_not_in_the_past(frozen_clock, case_a, dispatcher):
    with pytest.raises(services.DomainError) as refused:
        lend(case_a, dispatcher, due=TODAY - timedelta(days=1))
    assert refused.value.field == "due_back_on"
    case = bring_to(case_a, RepairState.CANCELLED, dispatcher)
    with pytest.raises(IllegalTransition):
        lend(case, dispatcher)


def test_returning_twice_or_from_a_stale_page_is_refused(frozen_clock, case_a, dispatcher):
    loan = lend(case_a, dispatcher)
    with pytest.raises(StaleObject):
        services.return_loan(loan=loan, by=dispatcher, version=loan.version + 1)
    loan = services.return_loan(loan=loan, by=dispatcher, version=loan.version)
    with pytest.raises(IllegalTransition):
        services.return_loan(loan=loan, by=dispatcher, version=loan.version)
    assert list(RepairStep.objects.filter(case=case_a).values_list("kind", flat=True).order_by("pk")) == [
        "opened", "loan_lent", "loan_returned"]


def test_overdue_loans_are_listed_for_the_desk_and_for_their_customer_only(frozen_clock, client, case_a, case_b,
                                                                          dispatcher, general_manager,
                                                                          customer_user_a, customer_user_b):
    lend(case_a, dispatcher, serial="SPARE-A", due=TODAY + timedelta(days=2))
    lend(case_b, general_manager, serial="SPARE-B", due=TODAY + timedelta(days=30))
    frozen_clock.shift(timedelta(days=5))
    client.force_login(dispatcher)
    desk = client.get("/repairs/loans/?overdue=true").content.decode()
    assert "SPARE-A" in desk and "SPARE-B" not in desk and "table-danger overdue" in desk
    board = client.get("/repairs/").content.decode()
    assert 'class="alert alert-danger py-2 d-flex flex-wrap gap-3 repair-overdue"' in board
    client.force_login(customer_user_a)
    mine = client.get("/repairs/").content.decode()
    assert "SPARE-A" in mine and 'list-group-item-danger overdue" data-loan=' in mine
    assert "SPARE-B" not in client.get("/repairs/loans/").content.decode()
    client.force_login(customer_user_b)
    theirs = client.get("/repairs/").content.decode()
    assert "SPARE-B" in theirs and "SPARE-A" not in theirs
