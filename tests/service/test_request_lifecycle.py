"""SRQ-1..10 through the verbs, with a controlled clock."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.notify.models import OutboxMessage
from aftersales.service import sweep, verbs
from aftersales.service.models import AlertKind, EventKind, Priority, SlaAlert, State, TimelineEvent

from ..factories import current_version
from .conftest import shanghai


def open_general(by, project):
    return verbs.open_request(by=by, project=project, priority=Priority.GENERAL, channel="phone",
                              title="NVR 录像丢失", description="3 号 NVR 昨晚录像缺失")


def open_on_new_years_eve_under_office_hours(frozen_clock, dispatcher, project):
    """A general request at 17:00 on 2026-12-31 under a weekday-hours calendar with an 8 h resolution target."""
    from aftersales.service.models import ProjectPolicy, SlaPolicy, SlaTargetRule, WorkCalendar

    policy = SlaPolicy.objects.create(name="工作日", calendar=WorkCalendar.objects.get(name__startswith="工作日"))
    SlaTargetRule.objects.create(policy=policy, priority="general", kind="resolution", minutes=480)
    ProjectPolicy.objects.create(project=project, policy=policy)
    frozen_clock.move_to(shanghai(2026, 12, 31, 17, 0))
    return open_general(dispatcher, project)


def test_general_request_replied_in_time_and_resolved_in_8_hours(frozen_clock, dispatcher, engineer, customer_user_a, project_a):
    request = open_general(dispatcher, project_a)
    assert request.reply_due_at == shanghai(2026, 11, 26, 12, 0)
    assert request.resolve_due_at == shanghai(2026, 11, 26, 18, 0)
    frozen_clock.shift(timedelta(minutes=30))
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="remote", plan="远程登录 NVR 检查硬盘")
    frozen_clock.shift(timedelta(hours=3))
    sweep.sweep()
    request.refresh_from_db()
    assert request.escalation_level == 0
    work_order = verbs.submit_work_order(request=request, by=engineer, version=current_version(request),
                                         actions="更换硬盘并恢复录像", minutes_spent=90, result="solved")
    verbs.confirm_work_order(work_order=work_order, by=customer_user_a, version=current_version(work_order),
                             via="portal", satisfaction=5)
    request.refresh_from_db()
    assert request.state == State.CLOSED and request.next_due_at is None
    assert not SlaAlert.objects.filter(request=request).exists()
    kinds = list(TimelineEvent.objects.filter(request=request).values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED, EventKind.REPLIED, EventKind.RESOLVED, EventKind.CONFIRMED]


def test_serious_request_missing_departure_escalates_to_manager_then_general_manager_once_each(
        frozen_clock, dispatcher, engineer, manager, general_manager, project_a):
    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.SERIOUS, channel="phone",
                                 title="监控中心全部黑屏", description="解码器无输出")
    frozen_clock.shift(timedelta(minutes=5))
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    frozen_clock.shift(timedelta(minutes=50))  # 55 min after the report: 80 % of the hour has passed
    sweep.sweep()
    assert SlaAlert.objects.filter(request=request, target="departure", kind=AlertKind.WARNING).count() == 1
    assert TimelineEvent.objects.filter(request=request, kind=EventKind.WARNED, data__target="departure").count() == 1
    frozen_clock.shift(timedelta(minutes=6))  # 61 min: departure missed
    sweep.sweep()
    sweep.sweep()  # a second worker, or a restart, changes nothing
    request.refresh_from_db()
    assert request.escalation_level == 1
    escalations = SlaAlert.objects.filter(request=request, kind=AlertKind.ESCALATION)
    assert list(escalations.values_list("target", "level")) == [("departure", 1)]
    assert OutboxMessage.objects.filter(event="escalation", recipient_user=manager).count() >= 1
    frozen_clock.shift(timedelta(minutes=61))
    sweep.sweep()
    sweep.sweep()
    request.refresh_from_db()
    assert request.escalation_level == 2
    assert set(escalations.values_list("target", "level")) >= {("departure", 1), ("departure", 2)}
    assert SlaAlert.objects.filter(request=request, kind=AlertKind.ESCALATION, target="departure").count() == 2
    assert OutboxMessage.objects.filter(event="escalation", recipient_user=general_manager).exists()
    breached = TimelineEvent.objects.filter(request=request, kind=EventKind.BREACHED, data__target="departure")
    assert breached.count() == 1


def test_pause_for_the_owner_moves_the_deadline_and_never_earlier(frozen_clock, dispatcher, project_a):
    request = open_general(dispatcher, project_a)
    before = request.resolve_due_at
    frozen_clock.shift(timedelta(hours=1))
    verbs.pause(request=request, by=dispatcher, version=current_version(request), reason="业主机房钥匙未到")
    request.refresh_from_db()
    assert request.resolve_due_at is None and request.paused
    frozen_clock.shift(timedelta(hours=2))
    verbs.resume(request=request, by=dispatcher, version=current_version(request))
    request.refresh_from_db()
    assert request.resolve_due_at == before + timedelta(hours=2)


def test_illegal_transition_is_refused_and_writes_nothing(frozen_clock, dispatcher, engineer, project_a):
    request = open_general(dispatcher, project_a)
    events = TimelineEvent.objects.count()
    with pytest.raises(IllegalTransition):
        verbs.submit_work_order(request=request, by=engineer, version=current_version(request), actions="x",
                                minutes_spent=1, result="solved")
    assert TimelineEvent.objects.count() == events
    request.refresh_from_db()
    assert request.state == State.NEW


def test_second_of_two_concurrent_replies_is_stale(frozen_clock, dispatcher, project_a):
    request = open_general(dispatcher, project_a)
    seen = request.version
    verbs.reply(request=request, by=dispatcher, mode="phone", plan="电话指导重启", version=seen)
    with pytest.raises(StaleObject):
        verbs.change_priority(request=request, by=dispatcher, priority=Priority.SERIOUS, version=seen)


def test_rejection_reopens_with_the_reason(frozen_clock, dispatcher, engineer, customer_user_a, project_a):
    request = open_general(dispatcher, project_a)
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="remote", plan="远程处理")
    work_order = verbs.submit_work_order(request=request, by=engineer, version=current_version(request), actions="重启",
                                         minutes_spent=10, result="solved")
    verbs.reject_work_order(work_order=work_order, by=customer_user_a, version=current_version(work_order),
                            reason="问题依旧", via="portal")
    request.refresh_from_db()
    assert request.state == State.REPLIED and request.resolve_due_at is not None
    assert TimelineEvent.objects.filter(request=request, kind=EventKind.REJECTED, text="问题依旧").exists()


def test_arrival_needs_proof_and_records_the_distance(frozen_clock, dispatcher, engineer, project_a):
    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.EMERGENCY, channel="phone",
                                 title="全部摄像机离线", description="核心交换机故障")
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    verbs.depart(request=request, by=engineer)
    with pytest.raises(DomainError, match="到场需要凭证"):
        verbs.arrive(request=request, by=engineer)
    frozen_clock.shift(timedelta(minutes=40))
    verbs.arrive(request=request, by=engineer, latitude=38.5001, longitude=106.3001, accuracy_m=15)
    event = TimelineEvent.objects.get(request=request, kind=EventKind.ARRIVED)
    assert event.data["proof"] == "position" and event.data["distance_m"] < 100 and not event.data["far"]
    request.refresh_from_db()
    assert request.resolve_due_at == shanghai(2026, 11, 26, 12, 40)  # emergency: 2 h from arrival


def test_administrators_are_warned_from_october_that_next_years_holidays_are_missing(client, admin_user, frozen_clock):
    frozen_clock.move_to(shanghai(2026, 10, 1, 9, 0))
    client.force_login(admin_user)
    page = client.get("/").content.decode()
    assert "2027" in page
    frozen_clock.move_to(shanghai(2026, 9, 30, 9, 0))
    assert "2027" not in client.get("/").content.decode()


def test_a_request_crossing_into_a_year_without_holiday_data_is_computed_and_provisional(frozen_clock, dispatcher, project_a):
    request = open_on_new_years_eve_under_office_hours(frozen_clock, dispatcher, project_a)
    assert request.due_provisional
    # 1 h on Dec 31, then 2027-01-01 counts as a plain Friday (no data yet): 09–12 and 13:30–17:30.
    assert request.resolve_due_at == shanghai(2027, 1, 1, 17, 30)


def test_a_check_is_scheduled_at_the_exact_warning_instant(frozen_clock, dispatcher, project_a, django_capture_on_commit_callbacks):
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    with django_capture_on_commit_callbacks(execute=True):
        request = open_general(dispatcher, project_a)
    scheduled = [task for task in HUEY.scheduled() if task.name.endswith("check_request")]
    assert [(task.args, task.eta.replace(tzinfo=None)) for task in scheduled] == [
        ((request.pk,), request.next_check_at.astimezone(ZoneInfo("UTC")).replace(tzinfo=None))]



def test_request_page_costs_the_same_for_1_or_4_work_orders(frozen_clock, client, dispatcher, engineer, customer_user_a, project_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    request = open_general(dispatcher, project_a)
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="remote", plan="远程处理")
    client.force_login(dispatcher)
    counts = []
    for rounds in (1, 3):
        for _ in range(rounds):
            work_order = verbs.submit_work_order(request=request, by=engineer, version=current_version(request),
                                                 actions="重启", minutes_spent=5, result="solved")
            verbs.reject_work_order(work_order=work_order, by=customer_user_a, version=current_version(work_order),
                                    reason="仍有问题", via="portal")
        client.get(request.get_absolute_url())
        with CaptureQueriesContext(connection) as captured:
            assert client.get(request.get_absolute_url()).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], f"{counts[0]} queries with 1 work order, {counts[1]} with 4"


def test_calendar_changes_move_the_due_times_of_open_requests(frozen_clock, dispatcher, project_a,
                                                               django_capture_on_commit_callbacks):
    """Lessons #1/#2: a newly known year ends the provisional due time; a closure day moves a due time."""
    from datetime import date

    from aftersales.service.models import CalendarDay, DayKind, HolidayYear

    request = open_on_new_years_eve_under_office_hours(frozen_clock, dispatcher, project_a)
    assert request.due_provisional and request.resolve_due_at == shanghai(2027, 1, 1, 17, 30)

    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(day=date(2027, 1, 1), kind=DayKind.OFF, name="元旦")
        HolidayYear.objects.create(year=2027, source="test")
    request.refresh_from_db()
    assert not request.due_provisional
    assert request.resolve_due_at == shanghai(2027, 1, 4, 17, 30)  # New Year's Day off: Monday instead

    with django_capture_on_commit_callbacks(execute=True):  # the office closes that Monday
        CalendarDay.objects.create(calendar=request.policy.calendar, day=date(2027, 1, 4), kind=DayKind.OFF, name="盘点")
    request.refresh_from_db()
    assert request.resolve_due_at == shanghai(2027, 1, 5, 17, 30)
