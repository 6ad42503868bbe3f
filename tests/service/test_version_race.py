"""Issue 19 §3: the verbs own the version check. A change that commits between a page's read and the verb's lock
is refused with the stale-object error and writes nothing; the timeline line a verb writes is its audit (actor and
changed fields, old and new)."""

import re

import pytest
from django.urls import reverse

from aftersales.core import versioning
from aftersales.core.errors import StaleObject
from aftersales.service import verbs
from aftersales.service.models import (
    EventKind,
    Pause,
    Priority,
    ServiceRequest,
    State,
    TimelineEvent,
    WorkOrder,
    WorkOrderState,
)

from ..conftest import api_as
from ..factories import current_version
from .test_pages import HTMX

REPORT = {"cause": "核心交换机电源模块老化", "impact": "东区视频中断", "timeline": "09:10 报修", "fix": "更换电源模块",
          "prevention": "季度巡检"}


def open_general(by, project) -> ServiceRequest:
    return verbs.open_request(by=by, project=project, priority=Priority.GENERAL, channel="phone", title="NVR 录像丢失",
                              description="3 号 NVR 昨晚录像缺失")


def version_in_form(page: str, action: str, request_obj) -> int:
    """The version the page's form of `action` carries, as the browser would send it back."""
    form = re.search(rf'<form[^>]*action="{reverse(f"service:{action}", args=[request_obj.pk])}".*?</form>', page, re.S)
    assert form, f"no {action} form on the page"
    return int(re.search(r'name="version" value="(\d+)"', form.group(0)).group(1))


def written(request_obj) -> tuple:
    """What a verb on `request_obj` writes: the row, its timeline and its pauses."""
    row = ServiceRequest.objects.filter(pk=request_obj.pk).values(
        "state", "priority", "paused", "version", "assignee", "plan", "contingency_plan", "advisor").get()
    return row, TimelineEvent.objects.filter(request=request_obj).count(), Pause.objects.filter(request=request_obj).count()


# ------------------------------------------------------------------------------------------ the page

@pytest.mark.django_db(transaction=True)  # each step commits, as separate HTTP requests and workers do
def test_a_change_committed_after_the_page_was_read_is_refused_with_the_stale_error(
        client, frozen_clock, dispatcher, manager, project_a):
    request_obj = open_general(dispatcher, project_a)
    client.force_login(dispatcher)
    page = client.get(request_obj.get_absolute_url())
    assert page.status_code == 200
    seen = version_in_form(page.content.decode(), "pause", request_obj)
    assert seen == current_version(request_obj)

    # Another user changes the request, and that commits, while the dispatcher is still typing the reason.
    verbs.change_priority(request=request_obj, by=manager, version=seen, priority=Priority.SERIOUS, reason="业务中断")
    before = written(request_obj)

    response = client.post(reverse("service:pause", args=[request_obj.pk]), {"version": seen, "reason": "业主机房钥匙未到"},
                           **HTMX)
    assert response.status_code == 409
    assert str(StaleObject().message) in response.content.decode()
    assert written(request_obj) == before  # no pause, no timeline line, no new version
    assert not Pause.objects.filter(request=request_obj).exists()
    assert not TimelineEvent.objects.filter(request=request_obj, kind=EventKind.PAUSED).exists()
    # The API answers the same form of conflict.
    answer = api_as(dispatcher).post(f"/api/requests/{request_obj.pk}/pause/", {"version": seen, "reason": "等待业主"},
                                     format="json")
    assert (answer.status_code, answer.json()["code"]) == (409, "stale")
    assert written(request_obj) == before


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_after_the_view_read_the_request_but_before_the_verb_locked_it_is_refused(
        client, frozen_clock, dispatcher, manager, project_a, monkeypatch):
    """The window the page's own comparison left open: the view has read the request (at the version the form
    carries), then another change commits, then the verb locks the row. Only the verb's check under its lock
    sees it."""
    request_obj = open_general(dispatcher, project_a)
    client.force_login(dispatcher)
    seen = version_in_form(client.get(request_obj.get_absolute_url()).content.decode(), "pause", request_obj)
    real_pause = verbs.pause
    interleaved = []

    def pause_after_another_change(*, request, **kwargs):
        assert request.version == seen  # what the view read still matches the form
        verbs.change_priority(request=request, by=manager, version=seen, priority=Priority.SERIOUS)
        interleaved.append(written(request))
        return real_pause(request=request, **kwargs)

    monkeypatch.setattr(verbs, "pause", pause_after_another_change)
    response = client.post(reverse("service:pause", args=[request_obj.pk]), {"version": seen, "reason": "业主机房钥匙未到"},
                           **HTMX)
    assert response.status_code == 409 and str(StaleObject().message) in response.content.decode()
    assert interleaved and written(request_obj) == interleaved[0]
    request_obj.refresh_from_db()
    assert (request_obj.priority, request_obj.paused) == (Priority.SERIOUS, False)  # the first writer's change only


# ------------------------------------------------------------------------------------------ the verbs

def test_a_stale_version_is_refused_by_the_verb_and_the_request_is_unchanged(frozen_clock, dispatcher, manager,
                                                                             project_a):
    request_obj = open_general(dispatcher, project_a)
    old = current_version(request_obj)
    verbs.reply(request=request_obj, by=manager, version=old, mode="phone", plan="电话指导重启")
    before = written(request_obj)
    with pytest.raises(StaleObject):
        verbs.cancel(request=request_obj, by=dispatcher, version=old, reason="x")
    assert written(request_obj) == before
    assert ServiceRequest.objects.get(pk=request_obj.pk).state == State.REPLIED


@pytest.mark.parametrize("verb", ["reply", "dispatch", "pause", "resume", "change_priority", "record_contingency",
                                  "hand_to_advisor", "cancel", "submit_work_order"])
def test_every_desk_verb_refuses_a_stale_version_and_writes_nothing(frozen_clock, dispatcher, manager, engineer, advisor,
                                                                    project_a, verb):
    request_obj = open_general(dispatcher, project_a)
    old = current_version(request_obj)
    verbs.record_contingency(request=request_obj, by=manager, version=old, plan="借用备用 NVR")  # someone else was first
    arguments = {
        "reply": {"mode": "phone", "plan": "电话指导"}, "dispatch": {"engineer": engineer}, "pause": {"reason": "等待业主"},
        "resume": {}, "change_priority": {"priority": Priority.SERIOUS}, "record_contingency": {"plan": "另一方案"},
        "hand_to_advisor": {"advisor": advisor}, "cancel": {"reason": "重复"},
        "submit_work_order": {"actions": "重启", "minutes_spent": 5, "result": "solved"},
    }[verb]
    by = engineer if verb == "submit_work_order" else dispatcher
    before = written(request_obj)
    with pytest.raises(StaleObject):
        getattr(verbs, verb)(request=request_obj, by=by, version=old, **arguments)
    assert written(request_obj) == before
    assert not WorkOrder.objects.exists()


def test_a_verb_without_a_version_it_saw_is_refused(frozen_clock, dispatcher, project_a):
    request_obj = open_general(dispatcher, project_a)
    before = written(request_obj)
    with pytest.raises(StaleObject):
        verbs.pause(request=request_obj, by=dispatcher, version=None, reason="等待业主")
    with pytest.raises(StaleObject):
        versioning.claim_version(request_obj, None)
    assert written(request_obj) == before


def test_stale_work_order_and_incident_report_versions_are_refused(frozen_clock, dispatcher, engineer, customer_user_a,
                                                                   project_a):
    request_obj = open_general(dispatcher, project_a)
    verbs.reply(request=request_obj, by=dispatcher, version=current_version(request_obj), mode="remote", plan="远程")
    work_order = verbs.submit_work_order(request=request_obj, by=engineer, version=current_version(request_obj),
                                         actions="重启", minutes_spent=5, result="solved")
    with pytest.raises(StaleObject):
        verbs.confirm_work_order(work_order=work_order, by=customer_user_a, version=work_order.version - 1, via="portal")
    assert WorkOrder.objects.get().state == WorkOrderState.AWAITING_CONFIRMATION
    report = verbs.save_incident_report(request=request_obj, by=dispatcher, version=None, **REPORT)
    with pytest.raises(StaleObject):  # a second first draft
        verbs.save_incident_report(request=request_obj, by=engineer, version=None, **{**REPORT, "cause": "另一个原因"})
    verbs.save_incident_report(request=request_obj, by=dispatcher, version=report.version, **{**REPORT, "fix": "改"})
    with pytest.raises(StaleObject):
        verbs.submit_incident_report(report=report, by=dispatcher, version=report.version)
    report.refresh_from_db()
    assert (report.state, report.cause, report.fix) == (WorkOrderState.DRAFT, REPORT["cause"], "改")


# ------------------------------------------------------------------------------------------ the timeline is the audit

def test_a_timeline_line_names_the_actor_and_the_fields_the_verb_changed(frozen_clock, dispatcher, manager, engineer,
                                                                         customer_user_a, project_a):
    request_obj = open_general(dispatcher, project_a)
    verbs.reply(request=request_obj, by=dispatcher, version=current_version(request_obj), mode="remote",
                plan="远程登录 NVR 检查硬盘")
    replied = TimelineEvent.objects.get(request=request_obj, kind=EventKind.REPLIED)
    assert replied.actor == dispatcher
    assert replied.changes["state"] == ["new", "replied"]
    assert replied.changes["plan"] == ["", "远程登录 NVR 检查硬盘"] and replied.changes["service_mode"] == ["", "remote"]
    assert replied.changes["replied_at"][0] is None and replied.changes["replied_at"][1]
    assert not {"version", "updated_at", "reply_due_at", "next_check_at"} & set(replied.changes)

    verbs.change_priority(request=request_obj, by=manager, version=current_version(request_obj), priority=Priority.SERIOUS)
    changed = TimelineEvent.objects.get(request=request_obj, kind=EventKind.PRIORITY_CHANGED)
    assert (changed.actor, changed.changes) == (manager, {"priority": ["general", "serious"]})

    verbs.comment(request=request_obj, by=engineer, text="出发前检查备件")  # an append changes no field
    assert TimelineEvent.objects.get(request=request_obj, kind=EventKind.COMMENT).changes is None

    work_order = verbs.submit_work_order(request=request_obj, by=engineer, version=current_version(request_obj),
                                         actions="更换硬盘", minutes_spent=30, result="solved")
    verbs.confirm_work_order(work_order=work_order, by=customer_user_a, version=current_version(work_order), via="portal",
                             satisfaction=5)
    confirmed = TimelineEvent.objects.get(request=request_obj, kind=EventKind.CONFIRMED)
    assert confirmed.actor == customer_user_a
    assert confirmed.changes["state"] == ["resolved", "closed"]
    assert confirmed.changes["work_order.state"] == ["awaiting", "confirmed"]
    assert confirmed.changes["work_order.satisfaction"] == [None, 5]

    report = verbs.save_incident_report(request=request_obj, by=dispatcher, version=None, **REPORT)
    verbs.save_incident_report(request=request_obj, by=manager, version=report.version, **{**REPORT, "fix": "更换并紧固"})
    drafted, revised = TimelineEvent.objects.filter(request=request_obj, kind=EventKind.INCIDENT_REPORT).order_by("pk")
    assert (drafted.data["step"], drafted.actor, drafted.changes["incident_report.cause"]) == (
        "drafted", dispatcher, [None, REPORT["cause"]])
    assert (revised.data["step"], revised.actor, revised.changes) == (
        "revised", manager, {"incident_report.fix": [REPORT["fix"], "更换并紧固"]})
