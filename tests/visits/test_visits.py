"""VIS-1: a visit is recorded with the customer's needs and questions and its follow-up actions (owner, due date,
tracked to done); stale edits are 409s that write nothing; everything is scoped (another customer's visit is a 404)."""

from datetime import date, datetime

import pytest

from aftersales.core import clock
from aftersales.core.errors import IllegalTransition, StaleObject
from aftersales.notify.models import OutboxMessage
from aftersales.visits import services
from aftersales.visits.models import FollowUp, FollowUpState, ReturnVisit, VisitState

from ..conftest import api_as
from ..factories import StaffFactory, current_version


def record_body(visit, **changes):
    return {"version": visit.version, "needs": "增加录像保存天数", "questions": "扩容费用?", "answers": "另行报价",
            "contact_person": "马红梅", **changes}


def test_a_visit_is_recorded_with_its_follow_ups_over_the_api(visit_a, engineer, manager):
    response = api_as(engineer).post(f"/api/visits/{visit_a.pk}/record/", record_body(visit_a, follow_ups=[
        {"description": "提交扩容报价", "owner": manager.pk, "due_on": "2026-12-03"}]), format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["needs"], body["overdue"], body["visited_at"][:16]) == (
        "done", "增加录像保存天数", False, "2026-11-26T10:00")
    [follow_up] = body["follow_ups"]
    assert (follow_up["owner"], follow_up["due_on"], follow_up["state"]) == (manager.pk, "2026-12-03", "open")
    assert OutboxMessage.objects.filter(event="follow_up_assigned", recipient_user=manager).exists()

    done = api_as(manager).post(f"/api/visit-follow-ups/{follow_up['id']}/complete/",
                                {"version": follow_up["version"], "resolution": "报价已发送"}, format="json")
    assert done.status_code == 200, done.json()
    assert (done.json()["state"], done.json()["resolution"]) == ("done", "报价已发送")


def test_recording_from_a_stale_page_is_a_409_and_writes_nothing(visit_a, engineer, dispatcher, manager):
    seen = visit_a.version
    services.replan_visit(visit=visit_a, by=dispatcher, version=seen, due_on=date(2026, 11, 28), owner=engineer)
    response = api_as(engineer).post(f"/api/visits/{visit_a.pk}/record/", record_body(visit_a, version=seen, follow_ups=[
        {"description": "x", "owner": manager.pk, "due_on": "2026-12-03"}]), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "stale")
    visit_a.refresh_from_db()
    assert visit_a.state == VisitState.PLANNED and not FollowUp.objects.exists()


def test_a_visit_recorded_twice_is_an_illegal_step(visit_a, engineer):
    services.record_visit(visit=visit_a, by=engineer, version=visit_a.version, needs="无")
    with pytest.raises(IllegalTransition):
        services.record_visit(visit=visit_a, by=engineer, version=current_version(visit_a), needs="无")


def test_a_follow_up_needs_an_owner_who_can_see_the_project(visit_a, engineer, branch_b):
    stranger = StaffFactory(username="sh_engineer", branch=branch_b, role="engineer")
    with pytest.raises(services.DomainError) as refused:
        services.record_visit(visit=visit_a, by=engineer, version=visit_a.version, needs="无", follow_ups=[
            services.FollowUpLine("上门", stranger, date(2026, 12, 1))])
    assert refused.value.field == "follow_ups"
    visit_a.refresh_from_db()
    assert visit_a.state == VisitState.PLANNED and not FollowUp.objects.exists()


def test_an_empty_record_is_a_400_naming_the_field(visit_a, engineer):
    response = api_as(engineer).post(f"/api/visits/{visit_a.pk}/record/",
                                     {"version": visit_a.version, "needs": " "}, format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["needs"])


def test_a_visit_time_in_the_future_is_refused(visit_a, engineer):
    response = api_as(engineer).post(f"/api/visits/{visit_a.pk}/record/", record_body(
        visit_a, visited_at="2026-11-27T10:00:00+08:00"), format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["visited_at"])


def test_a_completed_follow_up_cannot_be_completed_again(visit_a, engineer):
    follow_up = services.add_follow_up(visit=visit_a, by=engineer, description="培训", owner=engineer,
                                       due_on=date(2026, 11, 25))
    assert follow_up.is_overdue(clock.today())
    services.complete_follow_up(follow_up=follow_up, by=engineer, version=follow_up.version, resolution="已培训")
    with pytest.raises(IllegalTransition):
        services.complete_follow_up(follow_up=follow_up, by=engineer, version=current_version(follow_up),
                                    resolution="再次")
    with pytest.raises(StaleObject):
        services.replan_visit(visit=visit_a, by=engineer, version=99, due_on=date(2026, 12, 1))
    assert FollowUp.objects.get().state == FollowUpState.DONE


# ------------------------------------------------------------------------------------------------ scoping

def test_another_customers_visit_is_a_404_in_pages_and_api(client, visit_a, visit_b, customer_user_a):
    client.force_login(customer_user_a)
    assert client.get(f"/visits/{visit_b.pk}/").status_code == 404
    assert client.get(f"/visits/{visit_a.pk}/").status_code == 200
    api = api_as(customer_user_a)
    assert api.get(f"/api/visits/{visit_b.pk}/").status_code == 404
    assert [row["id"] for row in api.get("/api/visits/").json()["results"]] == [visit_a.pk]
    page = client.get("/visits/")
    assert [visit.pk for visit in page.context["object_list"]] == [visit_a.pk]


def test_a_customer_reads_but_does_not_record_or_plan(client, visit_a, customer_user_a, project_a):
    client.force_login(customer_user_a)
    assert client.get(f"/visits/{visit_a.pk}/record/").status_code == 403
    api = api_as(customer_user_a)
    assert api.post(f"/api/visits/{visit_a.pk}/record/", record_body(visit_a), format="json").status_code == 403
    assert api.post("/api/visits/", {"project": project_a.pk, "due_on": "2026-12-01"}, format="json").status_code == 403
    assert api.get("/api/visit-schedules/").status_code == 403
    assert ReturnVisit.objects.get(pk=visit_a.pk).state == VisitState.PLANNED


def test_another_branchs_staff_do_not_see_the_visit(client, visit_a, general_manager, branch_b):
    engineer_b = StaffFactory(username="sh_engineer", branch=branch_b, role="engineer")
    client.force_login(engineer_b)
    assert client.get(f"/visits/{visit_a.pk}/").status_code == 404
    client.force_login(general_manager)  # every branch
    assert client.get(f"/visits/{visit_a.pk}/").status_code == 200


def test_a_foreign_project_in_a_plan_is_a_400(dispatcher, project_b):
    response = api_as(dispatcher).post("/api/visits/", {"project": project_b.pk, "due_on": "2026-12-01"}, format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["project"])
    assert not ReturnVisit.objects.exists()


# ------------------------------------------------------------------------------------------------ pages

def test_the_record_page_records_the_visit_with_follow_up_lines(client, visit_a, engineer, manager):
    client.force_login(engineer)
    assert client.get(f"/visits/{visit_a.pk}/record/").status_code == 200
    data = {"version": visit_a.version, "method": "on_site", "visited_at": "2026-11-26T09:00", "contact_person": "马红梅",
            "needs": "新增账号", "questions": "", "answers": "",
            "follow_up-TOTAL_FORMS": "3", "follow_up-INITIAL_FORMS": "0", "follow_up-MIN_NUM_FORMS": "0",
            "follow_up-MAX_NUM_FORMS": "10",
            "follow_up-0-description": "开通账号", "follow_up-0-owner": manager.pk, "follow_up-0-due_on": "2026-11-30",
            "follow_up-1-description": "", "follow_up-1-owner": "", "follow_up-1-due_on": "",
            "follow_up-2-description": "", "follow_up-2-owner": "", "follow_up-2-due_on": ""}
    response = client.post(f"/visits/{visit_a.pk}/record/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    visit_a.refresh_from_db()
    assert (visit_a.state, visit_a.method, visit_a.visited_at) == (
        VisitState.DONE, "on_site", datetime(2026, 11, 26, 9, tzinfo=clock.SHANGHAI))
    assert list(visit_a.follow_ups.values_list("description", "owner")) == [("开通账号", manager.pk)]


def test_a_follow_up_line_without_an_owner_is_a_form_error(client, visit_a, engineer):
    client.force_login(engineer)
    data = {"version": visit_a.version, "method": "phone", "needs": "新增账号",
            "follow_up-TOTAL_FORMS": "1", "follow_up-INITIAL_FORMS": "0", "follow_up-MIN_NUM_FORMS": "0",
            "follow_up-MAX_NUM_FORMS": "10", "follow_up-0-description": "开通账号"}
    response = client.post(f"/visits/{visit_a.pk}/record/", data)
    assert response.status_code == 200
    assert response.context["lines"].errors[0]["owner"]
    assert ReturnVisit.objects.get(pk=visit_a.pk).state == VisitState.PLANNED


@pytest.mark.parametrize("n", [3, 30])
def test_the_visit_list_costs_the_same_for_3_or_30_visits(n, client, project_a, dispatcher, engineer, frozen_clock,
                                                          django_assert_max_num_queries):
    for i in range(n):
        services.plan_visit(by=dispatcher, project=project_a, due_on=date(2026, 11, 1 + i % 28), owner=engineer)
    client.force_login(dispatcher)
    with django_assert_max_num_queries(12):
        assert client.get("/visits/").status_code == 200
