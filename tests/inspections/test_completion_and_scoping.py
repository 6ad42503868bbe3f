"""Completion per project and month computed by the database (done ÷ due, missed and overridden named); scoping: a
customer reads their own projects' rounds, an engineer the rounds assigned to them, another customer's round is a
404 on the page and in the API."""

from datetime import date

import pytest
from django.urls import reverse

from aftersales.inspections import selectors, services

from ..conftest import api_as
from ..factories import current_version
from .conftest import answer_all, make_plan, shanghai


def test_completion_counts_done_due_missed_and_names_missed_and_overridden(frozen_clock, project_a, camera_checklist,
                                                                           engineer, manager, photo):
    plan = make_plan(project_a, camera_checklist, [engineer], manager, starts_on=date(2026, 9, 1),
                     needs_approval=True, today=date(2026, 9, 1))
    september, october, november = (plan.rounds.get(period_start=date(2026, m, 1)) for m in (9, 10, 11))
    services.override_approval(round=september, by=manager, version=current_version(september), reason="客户电话同意")
    services.start_round(round=september, by=engineer, version=current_version(september),
                         started_at=shanghai(2026, 9, 10, 9))
    september.refresh_from_db()
    answer_all(september, engineer, photo=photo)
    services.complete_round(round=september, by=engineer, version=current_version(september),
                            completed_at=shanghai(2026, 9, 10, 11))
    services.mark_missed_rounds()  # today 26 Nov: October's window ended
    services.explain_missed(round=october, by=manager, version=current_version(october), reason="国庆假期客户停工")
    rows = {row["month"]: row for row in selectors.completion(manager, year=2026)}
    assert {m.month: (r["due"], r["done"], r["missed"], r["open"], r["overridden"], r["rate"]) for m, r in rows.items()
            } == {9: (1, 1, 0, 0, 1, 100), 10: (1, 0, 1, 0, 0, 0), 11: (1, 0, 0, 1, 0, 0)}
    assert [r.pk for r in rows[date(2026, 9, 1)]["overridden_rounds"]] == [september.pk]
    assert [(r.pk, r.missed_reason) for r in rows[date(2026, 10, 1)]["missed_rounds"]] == [(october.pk, "国庆假期客户停工")]
    response = api_as(manager).get(reverse("inspectioncompletion-list"), {"year": 2026, "month": 10})
    assert response.status_code == 200
    assert response.json()[0]["missed_rounds"][0]["missed_reason"] == "国庆假期客户停工"
    assert november.pk not in [r.pk for row in rows.values() for r in row["missed_rounds"]]


def test_another_customers_round_is_a_404_on_the_page_and_in_the_api(round_a, round_b, customer_user_a, client):
    client.force_login(customer_user_a)
    assert client.get(round_a.get_absolute_url()).status_code == 200
    assert client.get(round_b.get_absolute_url()).status_code == 404
    api = api_as(customer_user_a)
    assert api.get(reverse("inspectionround-detail", args=[round_b.pk])).status_code == 404
    assert api.get(reverse("inspectionround-detail", args=[round_a.pk])).status_code == 200
    listed = api.get(reverse("inspectionround-list")).json()["results"]
    assert {row["customer"] for row in listed} == {round_a.customer_id}


def test_a_customer_reads_their_rounds_but_cannot_record_them(round_a, customer_user_a, client):
    response = api_as(customer_user_a).post(reverse("inspectionround-start", args=[round_a.pk]),
                                            {"version": round_a.version}, format="json")
    assert response.status_code == 403
    client.force_login(customer_user_a)
    assert client.get(reverse("inspections:start", args=[round_a.pk])).status_code == 403


def test_an_engineer_sees_the_rounds_assigned_to_them_only(frozen_clock, plan_a, round_a, engineer, engineer2, client,
                                                           dispatcher):
    services.reassign_round(round=round_a, by=dispatcher, version=current_version(round_a), engineer=engineer2)
    assert round_a.pk not in selectors.rounds_for(engineer).values_list("pk", flat=True)
    client.force_login(engineer)
    assert client.get(round_a.get_absolute_url()).status_code == 404
    client.force_login(engineer2)
    assert client.get(round_a.get_absolute_url()).status_code == 200
    client.force_login(dispatcher)
    assert client.get(round_a.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("n", [3, 30])
def test_the_round_list_costs_the_same_for_3_or_30_rounds(n, frozen_clock, project_a, camera_checklist, engineer,
                                                          manager, client, django_assert_max_num_queries):
    for i in range(n // 3):
        make_plan(project_a, camera_checklist, [engineer], manager, name=f"巡检 {i}", horizon_days=60)
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("inspections:round_list")).status_code == 200
