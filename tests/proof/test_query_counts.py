"""Issue 24 §4: a month's facts, and the report's pages, cost a fixed number of queries whatever the month holds."""

import pytest
from django.urls import reverse

from aftersales.proof import facts, services
from aftersales.service import verbs
from aftersales.service.reports import Period

from ..factories import current_version
from .conftest import at, open_at

FACTS_BUDGET = 17  # requests, devices, targets, pauses, escalations, visits, work orders; rounds, findings; cases,
# loans; charge sheets, lines (2 subqueries, no extra round trip); surveys; training — plus the contact's own rows


def october_of(n, frozen_clock, customer_user_a, project_a, dispatcher):
    for i in range(n):
        request = open_at(frozen_clock, at(2026, 10, 5 + i % 20, 10, i % 60), by=customer_user_a,
                          project=project_a, title=f"故障{i}")
        if i % 2:
            verbs.pause(request=request, by=dispatcher, version=current_version(request), reason="业主原因")
    frozen_clock.move_to(at(2026, 11, 2, 9))


@pytest.mark.parametrize("n", [2, 12])
def test_the_facts_cost_the_same_for_2_or_12_requests(n, frozen_clock, customer_a, customer_user_a, project_a,
                                                      dispatcher, django_assert_max_num_queries):
    october_of(n, frozen_clock, customer_user_a, project_a, dispatcher)
    with django_assert_max_num_queries(FACTS_BUDGET):
        month = facts.build(customer_a, Period.month(2026, 10), customer_user_a)
    assert month["requests"]["figures"]["opened"]["n"] == n


@pytest.mark.parametrize("n", [2, 12])
def test_the_report_page_costs_the_same_for_2_or_12_requests(n, frozen_clock, customer_a, customer_user_a, project_a,
                                                             dispatcher, client, django_assert_max_num_queries):
    october_of(n, frozen_clock, customer_user_a, project_a, dispatcher)
    report = services.generate(customer_a, 2026, 10)
    client.force_login(customer_user_a)
    with django_assert_max_num_queries(8):  # session, user, 2 × perms, the report, its versions (+ nav badges)
        assert client.get(reverse("proof:report_detail", args=[report.pk])).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("proof:report_list")).status_code == 200
