"""Issue 24 §4: the month's inspections, repairs and loans, charges, surveys and training, each figure with its rows."""

import json

from aftersales.billing.models import ChargeSheet
from aftersales.inspections.models import InspectionRound
from aftersales.proof import facts
from aftersales.service.reports import Period

from .conftest import month_of_work


def test_every_section_counts_its_rows(frozen_clock, customer_a, customer_user_a, project_a, device_a, admin_user,
                                      engineer):
    world = month_of_work(frozen_clock, contact=customer_user_a, project=project_a, device=device_a, by=admin_user,
                          engineer=engineer, tag="甲")
    month = facts.build(customer_a, Period.month(2026, 10), customer_user_a)
    october_round = InspectionRound.objects.get(plan=world["plan"], period_start__month=10)
    assert month["inspections"]["figures"]["due"] == {"n": 1, "rows": [october_round.number]}
    assert month["inspections"]["figures"]["pending"]["n"] == 1
    case = world["case"]
    assert month["repairs"]["figures"]["opened"] == {"n": 1, "rows": [case.number]}
    assert month["repairs"]["figures"]["loans"] == {"n": 1, "rows": [world["loan"].pk]}
    assert month["repairs"]["loans"][0]["unit"] == "甲备用机 甲-SPARE-9"
    sheet = ChargeSheet.objects.get(work_order__request=world["request"])
    assert month["charges"]["figures"]["sheets"]["rows"] == [sheet.pk]
    assert month["charges"]["figures"]["total"]["amount"] == f"{sheet.customer_total:.2f}"
    assert month["training"]["figures"]["held"] == {"n": 1, "rows": [world["session"].pk]}
    assert month["surveys"]["figures"]["sent"] == {"n": 1, "rows": [world["survey"].pk]}


def test_the_customer_sees_what_they_pay_never_our_cost(frozen_clock, customer_a, customer_user_a, project_a,
                                                        device_a, admin_user, engineer):
    month_of_work(frozen_clock, contact=customer_user_a, project=project_a, device=device_a, by=admin_user,
                  engineer=engineer, tag="甲")
    text = json.dumps(facts.build(customer_a, Period.month(2026, 10), customer_user_a), ensure_ascii=False)
    assert "integrator" not in text and "our cost" not in text
