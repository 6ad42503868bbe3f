"""Real concurrent transactions, each thread on its own database connection (as separate worker processes would be):
one open loan per unit holds when eight desks lend the same unit at once, and of two people taking a step from the
same page, the first wins and the second gets a stale-version refusal."""

import pytest

from aftersales.core import clock
from aftersales.core.errors import StaleObject
from aftersales.repairs import services
from aftersales.repairs.models import Loan, RepairCase, RepairStep

from ..concurrency import database_for_threads, in_threads
from ..factories import DeviceFactory


@pytest.mark.django_db(transaction=True)
def test_eight_desks_lending_the_same_unit_at_once_make_one_loan(project_a, dispatcher, tmp_path):
    cases = [services.open_case(by=dispatcher, device=DeviceFactory(project=project_a), fault=f"故障 {i}")
             for i in range(8)]

    def lend(i):
        case = RepairCase.objects.get(pk=cases[i].pk)
        try:
            services.lend_unit(case=case, by=dispatcher, version=case.version, unit_serial="SPARE-RACE",
                               unit_model="备用机", due_back_on=clock.today())
        except services.UnitOnLoan as refused:
            assert refused.field == "unit_serial" and "SPARE-RACE" in str(refused.message)
            return "refused"
        return "lent"

    with database_for_threads(tmp_path):
        outcomes = in_threads(lend, 8)
        written = in_threads(lambda _i: (Loan.objects.filter(unit_serial="SPARE-RACE").count(),
                                         RepairStep.objects.filter(kind="loan_lent").count()), 1)[0]
    assert sorted(outcomes) == ["lent"] + ["refused"] * 7
    assert written == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_two_people_taking_a_step_from_the_same_page_the_second_is_stale(device_a, dispatcher, engineer, tmp_path):
    case = services.open_case(by=dispatcher, device=device_a, fault="黑屏")
    seen = case.version

    def step(i):
        try:
            if i == 0:
                services.repair_on_site(case=case, by=engineer, version=seen)
            else:
                services.cancel(case=case, by=dispatcher, version=seen, reason="重复")
        except StaleObject:
            return "stale"
        return "done"

    with database_for_threads(tmp_path):
        outcomes = in_threads(step, 2)
        final = in_threads(lambda _i: (RepairCase.objects.get(pk=case.pk).state,
                                       RepairStep.objects.filter(case_id=case.pk).count()), 1)[0]
    assert sorted(outcomes) == ["done", "stale"]
    assert final[0] in ("repairing", "cancelled") and final[1] == 2
