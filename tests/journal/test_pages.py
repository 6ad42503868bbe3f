"""LOG-1 pages and API: my log, a day, the team's day, the customer's entries; scoping and query budgets."""

from datetime import timedelta

import pytest
from django.urls import reverse

from aftersales.core import clock
from aftersales.journal import services
from aftersales.journal.models import LogEntry

from ..conftest import api_as
from ..factories import StaffFactory
from .conftest import day_with_entry


def test_my_log_offers_to_start_the_day_with_the_suggestions(engineer_day, engineer, client):
    client.force_login(engineer)
    page = client.get(reverse("journal:my_log")).content.decode()
    assert engineer_day.number in page and f'value="r{engineer_day.pk}"' in page
    response = client.post(reverse("journal:start_day"), {"day": clock.today().isoformat(),
                                                          "keep": [f"r{engineer_day.pk}"]})
    assert response.status_code == 302
    entry = LogEntry.objects.get()
    assert entry.author == engineer and list(entry.requests.all()) == [engineer_day]


def test_adding_an_entry_by_request_number_and_submitting(frozen_clock, engineer, project_a, request_a, client):
    client.force_login(engineer)
    log = services.start_day(by=engineer, day=clock.today())
    response = client.post(reverse("journal:entry_add", args=[log.pk]), {
        "version": log.version, "project": project_a.pk, "what": "更换电源", "place": "东门", "minutes": 40,
        "request_numbers": request_a.number, "visible_to_customer": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.get()
    assert (entry.minutes, entry.visible_to_customer, list(entry.requests.all())) == (40, True, [request_a])
    bad = client.post(reverse("journal:entry_add", args=[log.pk]), {
        "version": log.version + 1, "project": project_a.pk, "what": "x", "minutes": 10, "request_numbers": "NOPE-1"})
    assert "NOPE-1" in bad.content.decode() and LogEntry.objects.count() == 1
    log.refresh_from_db()
    client.post(reverse("journal:submit_day", args=[log.pk]), {"version": log.version})
    log.refresh_from_db()
    assert log.submitted_at is not None


def test_another_branchs_day_is_a_404_and_the_manager_sees_their_own(
        frozen_clock, engineer, engineer_b, manager, dispatcher, project_a, project_b, client):
    log_a, _ = day_with_entry(engineer, project_a)
    log_b, _ = day_with_entry(engineer_b, project_b)
    client.force_login(manager)
    assert client.get(reverse("journal:log_detail", args=[log_a.pk])).status_code == 200
    assert client.get(reverse("journal:log_detail", args=[log_b.pk])).status_code == 404
    client.force_login(dispatcher)  # no team permission: only their own days
    assert client.get(reverse("journal:log_detail", args=[log_a.pk])).status_code == 404
    client.force_login(engineer)  # a manager's POST on someone's day is refused like a missing one
    assert client.post(reverse("journal:submit_day", args=[log_b.pk]), {"version": 1}).status_code == 404


def test_the_customer_sees_only_their_entries_marked_visible(
        frozen_clock, engineer, engineer_b, project_a, project_b, customer_user_a, client):
    log, _ = day_with_entry(engineer, project_a, what="对客户可见的巡检", visible_to_customer=True)
    services.add_entry(log=log, by=engineer, version=log.version, project=project_a, what="内部备注:备件短缺",
                       minutes=20)
    day_with_entry(engineer_b, project_b, what="别家客户的工作", visible_to_customer=True)
    client.force_login(customer_user_a)
    page = client.get(reverse("journal:entries")).content.decode()
    assert "对客户可见的巡检" in page and "内部备注" not in page and "别家客户" not in page
    rows = api_as(customer_user_a).get("/api/log-entries/").json()["results"]
    assert [row["what"] for row in rows] == ["对客户可见的巡检"]
    hidden = LogEntry.objects.get(what__startswith="内部")
    assert api_as(customer_user_a).get(f"/api/log-entries/{hidden.pk}/").status_code == 404
    assert api_as(customer_user_a).get("/api/daily-logs/").status_code == 403
    response = api_as(customer_user_a).post("/api/log-entries/", {"log": 1, "project": project_a.pk, "what": "x",
                                                                  "minutes": 5, "version": 1}, format="json")
    assert response.status_code == 403


def test_the_api_writes_a_day_and_refuses_a_foreign_project(frozen_clock, engineer, project_a, project_b):
    api = api_as(engineer)
    day = api.post("/api/daily-logs/", {"day": clock.today().isoformat()}, format="json").json()
    body = {"log": day["id"], "version": day["version"], "project": project_b.pk, "what": "维修", "minutes": 30}
    foreign = api.post("/api/log-entries/", body, format="json")
    assert foreign.status_code == 400 and "project" in foreign.json()["fields"]
    created = api.post("/api/log-entries/", {**body, "project": project_a.pk}, format="json")
    assert created.status_code == 201, created.json()
    stale = api.post(f"/api/log-entries/{created.json()['id']}/remove/", {"version": day["version"]}, format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    submitted = api.post(f"/api/daily-logs/{day['id']}/submit/", {"version": day["version"] + 1}, format="json")
    assert submitted.status_code == 200 and submitted.json()["submitted_at"]


def test_the_team_day_counts_who_wrote_and_their_minutes(frozen_clock, engineer, manager, branch_a, project_a,
                                                         engineer_b, project_b, client):
    silent = StaffFactory(username="silent", branch=branch_a, role="engineer", full_name="未写日志")
    log, _ = day_with_entry(engineer, project_a, minutes=60)
    services.add_entry(log=log, by=engineer, version=log.version, project=project_a, what="写报告", minutes=45)
    day_with_entry(engineer_b, project_b, minutes=200)  # another branch: not in this manager's team
    client.force_login(manager)
    response = client.get(reverse("journal:team"))
    people = {p.username: p for p in response.context["people"]}
    assert people["engineer"].minutes == 105 and people["engineer"].log_id == log.pk
    assert people[silent.username].log_id is None and "engineer_b" not in people
    assert response.context["written"] == 1 and response.context["missing"] == len(people) - 1
    client.force_login(engineer)
    assert client.get(reverse("journal:team")).status_code == 403


@pytest.mark.parametrize("n", [2, 12])
def test_the_pages_cost_the_same_for_few_or_many_days(n, frozen_clock, engineer, manager, branch_a, project_a,
                                                      customer_user_a, client, django_assert_max_num_queries):
    for back in range(n):
        for i in range(2):
            StaffFactory(username=f"e{n}-{back}-{i}", branch=branch_a, role="engineer") if back == 0 else None
        day_with_entry(engineer, project_a, day=clock.today() - timedelta(days=back), visible_to_customer=True)
    client.force_login(engineer)
    with django_assert_max_num_queries(18):
        assert client.get(reverse("journal:my_log")).status_code == 200
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("journal:team")).status_code == 200
    client.force_login(customer_user_a)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("journal:entries")).status_code == 200
    with django_assert_max_num_queries(8):  # user's perms, count, page, requests, rounds
        assert len(api_as(customer_user_a).get("/api/log-entries/").json()["results"]) == n
    with django_assert_max_num_queries(10):
        assert api_as(engineer).get("/api/daily-logs/").status_code == 200
