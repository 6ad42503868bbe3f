"""Issue 21 §1: the departure and arrival clocks start from the request, not from a dispatch. An on-site plan at the
reply (or any later decision to go on site) starts them from the moment the request was received (pauses
excluded), engineer named or not; a general request's arrival is due at the appointment both sides agreed."""

from datetime import timedelta

import pytest

from aftersales.service import sweep, verbs
from aftersales.service.models import AlertKind, Priority, SlaAlert, Target

from ..factories import current_version
from .conftest import shanghai

OPENED = shanghai(2026, 11, 26, 10, 0)  # the frozen clock's time


def open_request(by, project, priority):
    return verbs.open_request(by=by, project=project, priority=priority, channel="phone", title="监控中心黑屏",
                              description="解码器无输出")


def dues(request) -> dict:
    return {t.kind: t.due_at for t in Target.objects.filter(request=request, started_at__isnull=False)}


def escalated(request) -> set:
    return set(SlaAlert.objects.filter(request=request, kind=AlertKind.ESCALATION).values_list("target", "level"))


@pytest.mark.parametrize("priority, departure, arrival", [
    (Priority.EMERGENCY, timedelta(minutes=10), timedelta(hours=2)),
    (Priority.SERIOUS, timedelta(hours=1), timedelta(hours=2)),
])
def test_an_onsite_plan_without_a_dispatch_starts_departure_and_arrival_from_the_report(
        frozen_clock, dispatcher, project_a, priority, departure, arrival):
    request = open_request(dispatcher, project_a, priority)
    assert "departure" not in dues(request) and "arrival" not in dues(request)  # on site is not decided yet
    frozen_clock.shift(timedelta(minutes=5))
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="onsite", plan="派人到现场")
    assert dues(request)["departure"] == OPENED + departure
    assert dues(request)["arrival"] == OPENED + arrival
    # Nobody is dispatched, nobody departs: the promise is missed and escalates like any other.
    frozen_clock.move_to(OPENED + departure + timedelta(minutes=1))
    sweep.sweep()
    assert ("departure", 1) in escalated(request)


def test_a_remote_plan_starts_no_onsite_clock_and_a_later_dispatch_counts_from_the_report(
        frozen_clock, dispatcher, engineer, project_a):
    request = open_request(dispatcher, project_a, Priority.SERIOUS)
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="remote", plan="远程登录")
    assert "departure" not in dues(request) and "arrival" not in dues(request)
    frozen_clock.shift(timedelta(minutes=40))  # remote did not help: the desk sends someone
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    assert dues(request)["departure"] == OPENED + timedelta(hours=1)
    assert dues(request)["arrival"] == OPENED + timedelta(hours=2)


def test_a_dispatch_after_an_onsite_plan_gives_nobody_more_time(frozen_clock, dispatcher, engineer, project_a):
    request = open_request(dispatcher, project_a, Priority.GENERAL)
    frozen_clock.shift(timedelta(minutes=20))
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="onsite", plan="上门检查")
    before = dues(request)
    assert before["arrival"] == OPENED + timedelta(minutes=20) + timedelta(hours=2)  # counted from the decision
    frozen_clock.shift(timedelta(hours=1))
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    assert dues(request) == before


def test_a_general_requests_arrival_is_due_at_the_agreed_appointment_and_missing_it_escalates(
        frozen_clock, dispatcher, engineer, project_a):
    request = open_request(dispatcher, project_a, Priority.GENERAL)
    appointment = shanghai(2026, 11, 27, 14, 0)  # tomorrow afternoon, as agreed on the phone
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="onsite", plan="明天下午上门",
                scheduled_for=appointment)
    assert dues(request)["arrival"] == appointment
    assert "departure" not in dues(request)  # the seed sets no departure promise for a general request
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    assert dues(request)["arrival"] == appointment
    frozen_clock.move_to(appointment - timedelta(minutes=1))
    sweep.sweep()
    assert ("arrival", 1) not in escalated(request)
    frozen_clock.move_to(appointment + timedelta(minutes=1))
    sweep.sweep()
    sweep.sweep()
    assert ("arrival", 1) in escalated(request)
    assert SlaAlert.objects.filter(request=request, kind=AlertKind.ESCALATION, target="arrival", level=1).count() == 1


def test_an_arrival_on_time_meets_the_appointment(frozen_clock, dispatcher, engineer, project_a):
    request = open_request(dispatcher, project_a, Priority.GENERAL)
    appointment = shanghai(2026, 11, 26, 15, 0)
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="onsite", plan="下午上门",
                scheduled_for=appointment)
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    frozen_clock.move_to(appointment - timedelta(minutes=10))
    verbs.depart(request=request, by=engineer)
    verbs.arrive(request=request, by=engineer, confirmed_by_customer=True)
    frozen_clock.move_to(appointment + timedelta(hours=1))
    sweep.sweep()
    assert not escalated(request)
    assert Target.objects.get(request=request, kind="arrival").met_at == appointment - timedelta(minutes=10)


def test_a_pause_moves_the_clocks_counted_from_the_report(frozen_clock, dispatcher, project_a):
    request = open_request(dispatcher, project_a, Priority.SERIOUS)
    frozen_clock.shift(timedelta(minutes=10))
    verbs.pause(request=request, by=dispatcher, version=current_version(request), reason="业主要求稍后联系")
    frozen_clock.shift(timedelta(minutes=30))
    verbs.resume(request=request, by=dispatcher, version=current_version(request))
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="onsite", plan="派人到现场")
    assert dues(request)["departure"] == OPENED + timedelta(minutes=90)  # an hour, plus the half hour paused


def test_the_request_page_shows_the_appointment_and_a_paused_clock(client, frozen_clock, dispatcher, project_a):
    from django.utils import translation

    with translation.override("zh-hans"):  # the page's language
        agreed, paused, running = (translation.gettext(text) for text in ("at the agreed appointment", "paused",
                                                                           "running"))
    request = open_request(dispatcher, project_a, Priority.GENERAL)
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="onsite", plan="明天上门",
                scheduled_for=shanghai(2026, 11, 27, 14, 0))
    client.force_login(dispatcher)

    def targets_table():
        page = client.get(request.get_absolute_url()).content.decode()
        return page.split('class="table table-sm mb-0 targets"')[1].split("</table>")[0]

    assert agreed in targets_table() and f">{paused}<" not in targets_table()
    verbs.pause(request=request, by=dispatcher, version=current_version(request), reason="业主出差")
    assert f">{paused}<" in targets_table() and f">{running}<" not in targets_table()
