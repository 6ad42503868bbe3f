"""The seed's three scenarios end to end through the API, with a controlled clock (SRQ-3, SRQ-5..7)."""

from datetime import timedelta

import pytest

from aftersales.service.models import (
    AlertKind, ProjectPolicy, SlaAlert, SlaPolicy, SlaTargetRule, TimelineEvent, WorkCalendar,
)
from aftersales.service import sweep

from ..conftest import api_as
from .conftest import shanghai


def timeline(request_id):
    return list(TimelineEvent.objects.filter(request_id=request_id).order_by("at", "pk").values_list("kind", flat=True))


def test_general_request_replied_in_time_and_resolved_within_8_hours(frozen_clock, dispatcher, engineer, customer_user_a, project_a):
    customer = api_as(customer_user_a)
    created = customer.post("/api/requests/", {"project": project_a.pk, "priority": "general", "title": "客户端无法回放",
                                               "description": "二楼客户端回放报错"}, format="json")
    assert created.status_code == 201, created.json()
    request_id = created.json()["id"]
    assert created.json()["reply_due_at"] == "2026-11-26T12:00:00+08:00"  # 2 h
    frozen_clock.shift(timedelta(minutes=40))
    desk = api_as(dispatcher)
    replied = desk.post(f"/api/requests/{request_id}/reply/", {"mode": "remote", "plan": "远程检查客户端版本",
                                                                "version": created.json()["version"]}, format="json")
    assert replied.status_code == 200, replied.json()
    frozen_clock.shift(timedelta(hours=5))
    sweep.sweep()
    field = api_as(engineer)
    wo = field.post(f"/api/requests/{request_id}/work-orders/", {
        "actions": "升级客户端至 V3.2", "minutes_spent": 30, "result": "solved",
        "version": field.get(f"/api/requests/{request_id}/").json()["version"]}, format="json")
    assert wo.status_code == 201, wo.json()
    confirmed = customer.post(f"/api/work-orders/{wo.json()['id']}/confirm/",
                              {"satisfaction": 5, "comment": "满意", "version": wo.json()["version"]}, format="json")
    assert confirmed.status_code == 200, confirmed.json()
    body = customer.get(f"/api/requests/{request_id}/").json()
    assert body["state"] == "closed"
    assert {t["kind"]: t["breached_at"] for t in body["targets"]} == {"reply": None, "resolution": None}
    assert timeline(request_id) == ["created", "replied", "resolved", "confirmed"]


def test_serious_request_missing_its_1_hour_departure_escalates_once_per_level(
        frozen_clock, dispatcher, engineer, manager, general_manager, project_a):
    desk = api_as(dispatcher)
    created = desk.post("/api/requests/", {"project": project_a.pk, "priority": "serious", "title": "主干光纤中断",
                                           "description": "东区 40 路摄像机离线"}, format="json").json()
    request_id = created["id"]
    frozen_clock.shift(timedelta(minutes=10))
    dispatched = desk.post(f"/api/requests/{request_id}/dispatch/", {"engineer": engineer.pk, "version": created["version"]},
                           format="json")
    assert dispatched.status_code == 200
    for minutes in (40, 10, 1, 60, 1):  # 10:50 warned (80 % = 10:48), 11:00 missed, 12:01 general manager
        frozen_clock.shift(timedelta(minutes=minutes))
        sweep.sweep()
        sweep.sweep()  # a second worker or a restart changes nothing
    body = desk.get(f"/api/requests/{request_id}/").json()
    assert body["escalation_level"] == 2
    steps = SlaAlert.objects.filter(request_id=request_id, kind=AlertKind.ESCALATION, target="departure")
    assert sorted(steps.values_list("level", flat=True)) == [1, 2]
    escalated = [e for e in body["events"] if e["kind"] == "escalated" and e["data"]["target"] == "departure"]
    assert [e["data"]["level"] for e in escalated] == [1, 2]
    assert manager.display_name in escalated[0]["data"]["notified"]
    assert [e["data"]["target"] for e in body["events"] if e["kind"] == "warned"][:1] == ["departure"]
    assert general_manager.display_name in escalated[1]["data"]["notified"]
    contingency = desk.post(f"/api/requests/{request_id}/contingency/",
                            {"text": "先借用备用交换机恢复东区视频", "version": body["version"]}, format="json")
    assert contingency.status_code == 200


@pytest.fixture
def business_hours_project(project_a):
    office = WorkCalendar.objects.get(always_on=False, name__startswith="工作日")
    default = SlaPolicy.objects.get(is_default=True)
    policy = SlaPolicy.objects.create(name="工作日合同", calendar=office)
    SlaTargetRule.objects.bulk_create([
        SlaTargetRule(policy=policy, priority=r.priority, kind=r.kind, minutes=r.minutes, starts=r.starts, onsite_only=r.onsite_only)
        for r in default.rules.all()
    ])
    ProjectPolicy.objects.create(project=project_a, policy=policy)
    return project_a


def test_emergency_on_business_hours_contract_on_the_eve_of_national_day(
        frozen_clock, dispatcher, engineer, customer_user_a, business_hours_project):
    frozen_clock.move_to(shanghai(2026, 9, 30, 17, 0))  # the eve of National Day (Oct 1–7 off)
    customer, desk, field = api_as(customer_user_a), api_as(dispatcher), api_as(engineer)
    created = customer.post("/api/requests/", {"project": business_hours_project.pk, "priority": "emergency",
                                                "title": "监控中心大屏全部黑屏", "description": "业务中断"}, format="json")
    request_id = created.json()["id"]
    assert created.json()["reply_due_at"] == "2026-09-30T17:10:00+08:00"  # 10 min
    frozen_clock.shift(timedelta(minutes=5))
    dispatched = desk.post(f"/api/requests/{request_id}/dispatch/", {"engineer": engineer.pk,
                                                                      "version": created.json()["version"]}, format="json")
    assert dispatched.status_code == 200
    frozen_clock.shift(timedelta(minutes=3))
    departed = field.post(f"/api/requests/{request_id}/depart/")
    assert departed.status_code == 200
    frozen_clock.shift(timedelta(minutes=12))  # 17:20: the owner cannot open the machine room until after the holiday
    paused = desk.post(f"/api/requests/{request_id}/pause/", {"reason": "业主机房节日封闭,节后处理",
                                                              "version": departed.json()["version"]}, format="json")
    assert paused.status_code == 200 and paused.json()["paused"]
    frozen_clock.move_to(shanghai(2026, 10, 8, 9, 0))
    sweep.sweep()
    assert desk.post(f"/api/requests/{request_id}/resume/", {"version": paused.json()["version"]},
                     format="json").status_code == 200
    body = desk.get(f"/api/requests/{request_id}/").json()
    arrival = next(t for t in body["targets"] if t["kind"] == "arrival")
    assert arrival["due_at"] == "2026-10-08T10:40:00+08:00"  # 20 min used before the pause, 100 min from 09:00 Oct 8
    frozen_clock.shift(timedelta(minutes=30))
    arrived = field.post(f"/api/requests/{request_id}/arrive/", {"latitude": 38.5002, "longitude": 106.3001, "accuracy_m": 12}, format="json")
    assert arrived.status_code == 200, arrived.json()
    assert arrived.json()["resolve_due_at"] == "2026-10-08T11:30:00+08:00"  # 2 h after arrival at 09:30
    frozen_clock.shift(timedelta(minutes=110))
    wo = field.post(f"/api/requests/{request_id}/work-orders/", {"actions": "更换解码器电源", "minutes_spent": 110,
                                                                 "result": "solved", "version": arrived.json()["version"]},
                    format="json")
    assert wo.status_code == 201, wo.json()
    assert customer.post(f"/api/work-orders/{wo.json()['id']}/confirm/", {"satisfaction": 4, "version": wo.json()["version"]},
                         format="json").status_code == 200
    body = desk.get(f"/api/requests/{request_id}/").json()
    assert body["state"] == "closed" and all(t["breached_at"] is None for t in body["targets"])
    assert timeline(request_id) == ["created", "dispatched", "departed", "paused", "resumed", "arrived", "resolved", "confirmed"]


def test_illegal_move_is_a_409_with_reason(frozen_clock, dispatcher, engineer, project_a):
    desk = api_as(dispatcher)
    request_id = desk.post("/api/requests/", {"project": project_a.pk, "priority": "general", "title": "t", "description": "d"},
                           format="json").json()["id"]
    response = api_as(engineer).post(f"/api/requests/{request_id}/depart/")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"


def test_stale_version_is_a_409(frozen_clock, dispatcher, project_a):
    desk = api_as(dispatcher)
    body = desk.post("/api/requests/", {"project": project_a.pk, "priority": "general", "title": "t", "description": "d"},
                     format="json").json()
    first = desk.post(f"/api/requests/{body['id']}/reply/", {"mode": "phone", "plan": "电话指导", "version": body["version"]}, format="json")
    second = desk.post(f"/api/requests/{body['id']}/priority/", {"priority": "serious", "version": body["version"]}, format="json")
    assert first.status_code == 200 and (second.status_code, second.json()["code"]) == (409, "stale")


def test_a_desk_action_without_the_version_is_a_400_and_changes_nothing(frozen_clock, dispatcher, engineer, advisor,
                                                                         project_a):
    desk, field = api_as(dispatcher), api_as(engineer)
    body = desk.post("/api/requests/", {"project": project_a.pk, "priority": "general", "title": "t", "description": "d"},
                     format="json").json()
    for action, data in (("reply", {"mode": "phone", "plan": "电话指导"}), ("dispatch", {"engineer": engineer.pk}),
                         ("pause", {"reason": "等待业主"}), ("resume", {}), ("priority", {"priority": "serious"}),
                         ("contingency", {"text": "借用备机"}), ("advisor", {"advisor": advisor.pk}),
                         ("cancel", {"reason": "重复"}),
                         ("work-orders", {"actions": "重启", "minutes_spent": 5, "result": "solved"})):
        client = field if action == "work-orders" else desk
        response = client.post(f"/api/requests/{body['id']}/{action}/", data, format="json")
        assert response.status_code == 400 and "version" in response.json()["fields"], (action, response.json())
    assert desk.get(f"/api/requests/{body['id']}/").json()["version"] == body["version"]
    assert timeline(body["id"]) == ["created"]


def test_customer_cannot_open_a_request_on_another_customers_project(customer_user_a, project_b):
    response = api_as(customer_user_a).post("/api/requests/", {"project": project_b.pk, "priority": "general", "title": "t",
                                                              "description": "d"}, format="json")
    assert response.status_code == 400 and "project" in response.json()["fields"]
