"""RPT-1: the report pages: filters, scoping, permissions, drill-downs that agree with the numbers, query budgets."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.reports.report_views import PAGE_SIZE, REPORTS
from aftersales.service import verbs
from aftersales.service.models import Target

from ..factories import DeviceFactory, StaffFactory

SH = ZoneInfo("Asia/Shanghai")


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def open_requests(clock, project, by, n, *, start=None, devices=()):
    made = []
    for i in range(n):
        clock.move_to((start or shanghai(2026, 3, 2, 8)) + timedelta(minutes=i))
        made.append(verbs.open_request(by=by, project=project, priority="general", channel="phone", title=f"故障{i}",
                                       description="d", devices=list(devices)))
    return made


@pytest.fixture
def engineer_user(branch_a):
    return StaffFactory(username="eng-r", branch=branch_a, position=Position.ENGINEER, role=roles.ENGINEER)


def test_the_index_lists_every_report(client, manager):
    client.force_login(manager)
    response = client.get(reverse("reports:report_index"))
    assert response.status_code == 200
    for slug in REPORTS:
        assert reverse(f"reports:report_{slug}").encode() in response.content


@pytest.mark.parametrize("slug", list(REPORTS))
def test_every_report_renders_for_a_manager_and_a_customer(slug, client, manager, customer_user_a):
    for user in (manager, customer_user_a):
        client.force_login(user)
        expected = 403 if user.customer_id and slug == "costs" else 200
        assert client.get(reverse(f"reports:report_{slug}"), {"month": "2026-03"}).status_code == expected


def test_engineers_and_dispatchers_may_not_view_reports(client, engineer_user, dispatcher):
    for user in (engineer_user, dispatcher):
        client.force_login(user)
        assert client.get(reverse("reports:report_sla")).status_code == 403
        assert client.get(reverse("reports:rows", args=["sla_n"])).status_code == 403


def test_a_bad_month_is_a_form_error_not_a_500(client, manager):
    client.force_login(manager)
    for params in ({"month": "2026-13"}, {"month": "9999-01"}, {"date_from": "2026-03-05", "date_to": "2026-03-01"},
                   {"date_from": "2026-03-05"}, {"customer": "abc"}, {"export": "doc"}):
        response = client.get(reverse("reports:report_sla"), params)
        assert response.status_code == 400, params
    assert client.get(reverse("reports:rows", args=["sla_n"]), {"month": "x"}).status_code == 400


def test_unknown_figure_or_key_is_a_404(client, manager):
    client.force_login(manager)
    assert client.get(reverse("reports:rows", args=["nope"])).status_code == 404
    assert client.get(reverse("reports:rows", args=["sla_met"]), {"target": "x", "priority": "general"}).status_code == 404


def test_every_number_links_to_the_rows_it_counts(frozen_clock, client, dispatcher, manager, project_a):
    made = open_requests(frozen_clock, project_a, dispatcher, 3)
    late = Target.objects.get(request=made[0], kind="reply")
    Target.objects.filter(pk=late.pk).update(breached_at=late.due_at)
    client.force_login(manager)
    page = client.get(reverse("reports:report_sla"), {"month": "2026-03"})
    missed = page.context["rows"][0][4]  # reply, general: the "missed" cell
    assert missed["value"] == 1
    rows = client.get(missed["url"])
    assert rows.status_code == 200
    assert [row["values"][0] for row in rows.context["rows"]] == [made[0].number]


def test_a_customer_user_sees_only_its_own_numbers(frozen_clock, client, dispatcher, general_manager, customer_user_a,
                                                   project_a, project_b):
    open_requests(frozen_clock, project_a, dispatcher, 1)
    open_requests(frozen_clock, project_b, general_manager, 2, start=shanghai(2026, 3, 3, 8))
    client.force_login(customer_user_a)
    page = client.get(reverse("reports:report_sla"), {"month": "2026-03"})
    assert page.context["rows"][0][2]["value"] == 1
    assert "branch" not in page.context["form"].fields and "engineer" not in page.context["form"].fields
    foreign = client.get(reverse("reports:report_sla"), {"month": "2026-03", "customer": project_b.customer_id})
    assert foreign.status_code == 400  # another customer is not a choice
    rows = client.get(reverse("reports:rows", args=["sla_n"]), {"month": "2026-03", "target": "reply",
                                                                "priority": "general"})
    assert len(rows.context["rows"]) == 1


def test_the_rows_page_is_bounded(frozen_clock, client, dispatcher, manager, project_a):
    open_requests(frozen_clock, project_a, dispatcher, PAGE_SIZE + 3)
    client.force_login(manager)
    url = reverse("reports:rows", args=["sla_n"])
    first = client.get(url, {"month": "2026-03", "target": "reply", "priority": "general"})
    second = client.get(url, {"month": "2026-03", "target": "reply", "priority": "general", "page": 2})
    assert (len(first.context["rows"]), len(second.context["rows"])) == (PAGE_SIZE, 3)


@pytest.mark.parametrize("n", [2, 12])
def test_each_page_costs_the_same_for_2_or_12_requests(n, frozen_clock, client, dispatcher, manager, project_a,
                                                       django_assert_max_num_queries):
    camera = DeviceFactory(project=project_a, model="DS-A")
    open_requests(frozen_clock, project_a, dispatcher, n, devices=[camera])
    client.force_login(manager)
    client.get(reverse("reports:report_index"))  # the session and permissions, as on any page
    # session, user, roles version, 2 × permissions, the form's choices (customer, project, branch, engineer),
    # and the figure's own queries (SLA: 3)
    budgets = {"sla": 14, "escalations": 12, "satisfaction": 12, "inspections": 12, "expiries": 13, "failures": 13,
               "costs": 12}
    for slug, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            assert client.get(reverse(f"reports:report_{slug}"), {"month": "2026-03"}).status_code == 200
    with django_assert_max_num_queries(13):
        response = client.get(reverse("reports:rows", args=["sla_n"]),
                              {"month": "2026-03", "target": "reply", "priority": "general"})
        assert len(response.context["rows"]) == n


def test_customers_never_see_our_repair_costs(client, customer_user_a, manager):
    client.force_login(customer_user_a)
    assert client.get(reverse("reports:report_costs")).status_code == 403
    assert client.get(reverse("reports:rows", args=["warranty_costs"])).status_code == 403
    assert reverse("reports:report_costs").encode() not in client.get(reverse("reports:report_index")).content
    client.force_login(manager)
    assert client.get(reverse("reports:report_costs")).status_code == 200


def test_every_linked_count_equals_the_rows_listed(frozen_clock, client, dispatcher, engineer_user, manager, project_a):
    from decimal import Decimal

    from aftersales.billing.models import ChargeLine, ChargeSheet
    from aftersales.service.models import AlertKind, SlaAlert, WorkOrder

    cameras = [DeviceFactory(project=project_a, model="DS-A") for _ in range(3)]
    made = open_requests(frozen_clock, project_a, dispatcher, 4, devices=cameras[:2])
    late = Target.objects.get(request=made[0], kind="reply")
    Target.objects.filter(pk=late.pk).update(breached_at=late.due_at)
    SlaAlert.objects.create(request=made[0], target="reply", kind=AlertKind.ESCALATION, level=1,
                            fired_at=shanghai(2026, 3, 5, 11))
    order = WorkOrder.objects.create(request=made[1], engineer=engineer_user, actions="换电源", minutes_spent=30,
                                     result="fixed", state="confirmed", confirmed_at=shanghai(2026, 3, 6), satisfaction=4)
    sheet = ChargeSheet.objects.create(work_order=order, fault_day=shanghai(2026, 3, 6).date(), device=cameras[0],
                                       customer_total=Decimal(0), integrator_total=Decimal(150),
                                       issued_at=shanghai(2026, 3, 6))
    ChargeLine.objects.create(sheet=sheet, kind="part", description="电源", quantity=1, customer_amount=0,
                              integrator_cost=150, covered=True, basis="covered")
    client.force_login(manager)
    checked = 0
    for slug in REPORTS:
        page = client.get(reverse(f"reports:report_{slug}"), {"month": "2026-03"})
        for row in page.context["rows"]:
            for cell in row:
                if cell["url"] and "/reports/rows/" in cell["url"] and isinstance(cell["value"], int):
                    listed = client.get(cell["url"])
                    assert listed.status_code == 200, cell["url"]
                    assert listed.context["paginator"].count == cell["value"], (slug, cell)
                    checked += 1
    assert checked >= 12  # every non-zero count of the seven reports
