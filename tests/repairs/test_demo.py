"""The demo holds repairs in every state, vendor RMAs in flight (one overdue), spare units out (one overdue) and
replacements done, all loaded through the verbs."""

from aftersales.core import clock
from aftersales.demo import data
from aftersales.intake.labels.codes import device_for_code
from aftersales.repairs.models import DeviceReplacement, Loan, RepairCase, RepairState, VendorRma


def test_the_demo_has_repairs_in_every_state_rmas_loans_and_replacements(db):
    data.load()
    today = clock.today()
    assert set(RepairCase.objects.values_list("state", flat=True)) == set(RepairState.values)
    in_flight = VendorRma.objects.filter(returned_on__isnull=True)
    assert in_flight.filter(expected_back_on__gte=today).exists() and in_flight.filter(expected_back_on__lt=today).exists()
    out = Loan.objects.filter(returned_at__isnull=True)
    assert out.filter(due_back_on__lt=today).count() == 1 and out.filter(due_back_on__gte=today).exists()
    replacements = list(DeviceReplacement.objects.select_related("old", "new"))
    assert {r.source for r in replacements} == {"stock", "vendor"}
    for replacement in replacements:
        assert device_for_code(replacement.new.label_code) == replacement.new
        assert replacement.old.label_code != replacement.new.label_code
