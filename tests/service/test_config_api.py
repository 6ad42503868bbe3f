"""Issue 21 §6 over the API (/api/config/…): the same verbs as the pages, errors as `{code, detail, fields?}`."""

from datetime import date

import pytest

from aftersales.accounts.models import Position
from aftersales.service import verbs
from aftersales.service.models import (
    CalendarDay, EscalationRule, HolidayYear, ProjectPolicy, ServiceRequest, SlaPolicy, SlaTargetRule, WorkCalendar,
)

from ..conftest import api_as
from .conftest import shanghai

pytestmark = pytest.mark.usefixtures("frozen_clock")  # 2026-11-26 10:00 Shanghai, a Thursday


def test_a_step_that_would_notify_nobody_is_a_400_naming_the_field(manager):
    response = api_as(manager).post("/api/config/escalation-steps/",
                                    {"branch": manager.branch_id, "level": 1, "position": Position.LOGISTICS},
                                    format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "position" in body["fields"]
    assert not EscalationRule.objects.exists()


def test_a_step_is_added_and_the_ladder_shows_who_it_notifies(manager, dispatcher):
    client = api_as(manager)
    ladder = client.get(f"/api/config/ladders/{manager.branch_id}/").json()
    assert (ladder["own"], [step["level"] for step in ladder["steps"]]) == (False, [1, 2])
    assert [user["id"] for user in ladder["steps"][0]["notifies"]] == [manager.pk]
    response = client.post("/api/config/escalation-steps/",
                           {"branch": manager.branch_id, "level": 1, "position": Position.DISPATCHER, "delay_minutes": 0},
                           format="json")
    assert response.status_code == 201, response.json()
    ladder = client.get(f"/api/config/ladders/{manager.branch_id}/").json()
    assert ladder["own"] and [step["notifies"][0]["id"] for step in ladder["steps"]] == [dispatcher.pk]
    step_id = response.json()["id"]
    # changing it to a position nobody holds is refused too; the same level twice is a 400 on `level`
    assert client.patch(f"/api/config/escalation-steps/{step_id}/", {"position": "logistics"}, format="json"
                        ).json()["fields"].keys() == {"position"}
    clash = client.post("/api/config/escalation-steps/",
                        {"branch": manager.branch_id, "level": 1, "position": "department_manager"}, format="json")
    assert (clash.status_code, list(clash.json()["fields"])) == (400, ["level"])
    assert client.delete(f"/api/config/escalation-steps/{step_id}/").status_code == 204
    assert client.get(f"/api/config/ladders/{manager.branch_id}/").json()["own"] is False


def test_a_department_manager_is_confined_to_their_branch(manager, branch_b, project_b, general_manager):
    client = api_as(manager)
    response = client.post("/api/config/escalation-steps/",
                           {"branch": branch_b.pk, "level": 1, "position": Position.GENERAL_MANAGER}, format="json")
    assert response.status_code == 400 and "branch" in response.json()["fields"]
    assert client.get(f"/api/config/ladders/{branch_b.pk}/").status_code == 404
    assert [ladder["branch"] for ladder in client.get("/api/config/ladders/").json()["results"]] == [manager.branch_id]
    policy = SlaPolicy.objects.get(is_default=True)
    assert client.put(f"/api/config/project-policies/{project_b.pk}/", {"policy": policy.pk}, format="json"
                      ).status_code == 404
    foreign = EscalationRule.objects.create(branch=branch_b, level=1, position=Position.GENERAL_MANAGER)
    assert client.delete(f"/api/config/escalation-steps/{foreign.pk}/").status_code == 404
    assert client.post("/api/config/holiday-years/import/", {"year": 2025}, format="json").status_code == 403


def test_a_customer_user_and_a_dispatcher_may_not_read_the_configuration(customer_user_a, dispatcher):
    for user in (customer_user_a, dispatcher):
        assert api_as(user).get("/api/config/calendars/").status_code == 403
        assert api_as(user).get("/api/config/ladders/").status_code == 403


def test_the_preview_answers_due_times_for_each_priority_and_target_and_writes_nothing(admin_user):
    policy = SlaPolicy.objects.get(is_default=True)  # 7×24
    before = ServiceRequest.objects.count()
    body = api_as(admin_user).get(f"/api/config/policies/{policy.pk}/preview/").json()
    rows = {(row["priority"], row["kind"]): row for row in body["rows"]}
    assert rows[("serious", "reply")]["due_at"] == "2026-11-26T10:15:00+08:00"
    assert rows[("emergency", "departure")]["due_at"] == "2026-11-26T10:10:00+08:00"
    assert len(rows) == SlaTargetRule.objects.filter(policy=policy).count()
    assert ServiceRequest.objects.count() == before


def test_importing_a_year_records_it_and_an_unknown_year_is_a_400(admin_user):
    CalendarDay.objects.filter(calendar__isnull=True, day__year=2024).delete()
    HolidayYear.objects.filter(year=2024).delete()
    client = api_as(admin_user)
    response = client.post("/api/config/holiday-years/import/", {"year": 2024}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["added"] == response.json()["days_off"] + response.json()["make_up_days"] > 0
    assert HolidayYear.objects.filter(year=2024).exists()
    year = client.get("/api/config/calendars/public-year/?year=2024").json()
    assert year["known"] and {"day": "2024-10-01", "kind": "off", "name": "国庆节"}.items() <= next(
        day for day in year["days"] if day["day"] == "2024-10-01").items()
    unknown = client.post("/api/config/holiday-years/import/", {"year": 2027}, format="json")
    assert unknown.status_code == 400 and "year" in unknown.json()["fields"]
    assert not HolidayYear.objects.filter(year=2027).exists()
    assert 2027 in year["missing_years"]


def test_a_year_entered_by_hand_is_recorded_as_known(admin_user):
    client = api_as(admin_user)
    assert client.post("/api/config/holiday-years/complete/", {"year": 2027}, format="json").status_code == 400
    assert client.post("/api/config/calendar-days/", {"day": "2027-01-01", "kind": "off", "name": "元旦"},
                       format="json").status_code == 201
    response = client.post("/api/config/holiday-years/complete/", {"year": 2027}, format="json")
    assert response.status_code == 200 and response.json()["year"] == 2027


def test_a_calendar_day_recomputes_the_open_requests_in_the_same_action(admin_user, project_a, customer_user_a):
    office = WorkCalendar.objects.get(name="工作日 9:00–18:00")
    policy = SlaPolicy.objects.create(name="工作时间", calendar=office)
    SlaTargetRule.objects.create(policy=policy, priority="general", kind="reply", minutes=120)
    SlaTargetRule.objects.create(policy=policy, priority="general", kind="resolution", minutes=480)
    client = api_as(admin_user)
    assert client.put(f"/api/config/project-policies/{project_a.pk}/", {"policy": policy.pk}, format="json"
                      ).json() == {"project": project_a.pk, "policy": policy.pk, "effective_policy": policy.pk}
    request = verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                                 title="录像丢失", description="三号 NVR")
    assert request.resolve_due_at == shanghai(2026, 11, 27, 10, 30)
    response = client.post("/api/config/calendar-days/", {"calendar": office.pk, "day": "2026-11-27", "kind": "off",
                                                          "name": "年度盘点"}, format="json")
    assert (response.status_code, response.json()["recomputed"]) == (201, 1)
    request.refresh_from_db()
    assert request.resolve_due_at == shanghai(2026, 11, 30, 10, 30)
    assert client.delete(f"/api/config/calendar-days/{response.json()['id']}/").json() == {"recomputed": 1}
    request.refresh_from_db()
    assert request.resolve_due_at == shanghai(2026, 11, 27, 10, 30)
    assert client.put(f"/api/config/project-policies/{project_a.pk}/", {"policy": None}, format="json"
                      ).json()["policy"] is None
    assert not ProjectPolicy.objects.exists()


@pytest.mark.parametrize("body", [{"day": "9999-12-31", "kind": "off"}, {"day": "2026-05-01", "kind": "holiday"},
                                  {"day": "2026-05-01", "kind": "off", "calendar": 999999}, {"day": [], "kind": {}}])
def test_bad_days_are_400s_with_fields(admin_user, body):
    response = api_as(admin_user).post("/api/config/calendar-days/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid" and response.json()["fields"]


def test_a_7x24_calendar_refuses_a_closure_day(admin_user):
    always = WorkCalendar.objects.get(always_on=True)
    response = api_as(admin_user).post("/api/config/calendar-days/",
                                       {"calendar": always.pk, "day": "2026-12-01", "kind": "off"}, format="json")
    assert response.status_code == 400 and "calendar" in response.json()["fields"]
    assert not CalendarDay.objects.filter(day=date(2026, 12, 1)).exists()


@pytest.mark.parametrize("year", ["abc", "99999", "1900"])
def test_a_bad_year_parameter_is_a_400(admin_user, year):
    response = api_as(admin_user).get(f"/api/config/calendars/public-year/?year={year}")
    assert response.status_code == 400 and "year" in response.json()["fields"]
