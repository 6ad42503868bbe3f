"""VIS-1: scheduled visits are made exactly once per (schedule, period) — by a unique key, whatever runs the job twice
or on several workers at once — and the missed ones stay, overdue."""

from datetime import date, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from aftersales.core import clock
from aftersales.service import verbs
from aftersales.visits import services, tasks
from aftersales.visits.models import Cadence, ReturnVisit, VisitKind, VisitSchedule, VisitState

from ..concurrency import database_for_threads, in_threads
from ..factories import current_version


def shanghai(*args):
    return datetime(*args, tzinfo=clock.SHANGHAI)


def test_a_new_schedule_makes_the_current_periods_visit_at_once(schedule_a, engineer):
    visit = ReturnVisit.objects.get(schedule=schedule_a)
    assert (visit.kind, visit.period_start, visit.due_on, visit.owner, visit.state) == (
        VisitKind.SCHEDULED, date(2026, 11, 1), date(2026, 11, 30), engineer, VisitState.PLANNED)
    assert (visit.customer_id, visit.branch_id) == (schedule_a.project.customer_id, schedule_a.project.branch_id)


def test_the_job_run_twice_makes_each_periods_visit_once(schedule_a, frozen_clock):
    frozen_clock.move_to(shanghai(2027, 1, 3, 9))
    tasks.visits_hourly.call_local()
    tasks.visits_hourly.call_local()
    services.generate_due_visits()
    assert list(ReturnVisit.objects.filter(schedule=schedule_a).order_by("period_start")
                .values_list("period_start", flat=True)) == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]


def test_a_second_visit_of_the_same_schedule_and_period_is_refused_by_the_database(schedule_a):
    visit = ReturnVisit.objects.get(schedule=schedule_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReturnVisit.objects.create(project=visit.project, customer_id=visit.customer_id, branch_id=visit.branch_id,
                                   kind=VisitKind.SCHEDULED, schedule=schedule_a, period_start=visit.period_start,
                                   due_on=visit.due_on)
    assert ReturnVisit.objects.filter(schedule=schedule_a).count() == 1


def test_even_a_job_that_lost_its_high_water_mark_makes_no_second_visit(schedule_a, frozen_clock):
    """A worker that read the schedule before another worker moved it on inserts the same periods: dropped."""
    frozen_clock.move_to(shanghai(2026, 12, 2, 9))
    services.generate_due_visits()
    VisitSchedule.objects.filter(pk=schedule_a.pk).update(generated_until=date(2026, 10, 31))
    services.generate_due_visits()
    assert ReturnVisit.objects.filter(schedule=schedule_a).count() == 2


@pytest.mark.django_db(transaction=True)
def test_four_workers_running_the_job_at_once_make_each_visit_once(project_a, dispatcher, tmp_path):
    with time_machine_at(shanghai(2026, 11, 26, 10)) as traveller:
        schedule = services.create_schedule(by=dispatcher, project=project_a, cadence=Cadence.MONTHLY, day_of_month=28)
        traveller.move_to(shanghai(2027, 3, 2, 8))
        with database_for_threads(tmp_path):
            in_threads(lambda _i: services.generate_due_visits(), 4)
            made = in_threads(lambda _i: sorted(ReturnVisit.objects.filter(schedule_id=schedule.pk)
                                                 .values_list("period_start", flat=True)), 1)[0]
    assert made == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]


def time_machine_at(when):
    import time_machine

    return time_machine.travel(when, tick=False)


def test_a_period_missed_while_no_worker_ran_is_made_and_shown_overdue(schedule_a, frozen_clock, client, dispatcher):
    frozen_clock.move_to(shanghai(2027, 1, 5, 9))
    services.generate_due_visits()
    november, december = ReturnVisit.objects.filter(schedule=schedule_a).order_by("due_on")[:2]
    assert november.is_overdue(clock.today()) and december.is_overdue(clock.today())
    client.force_login(dispatcher)
    page = client.get("/visits/?state=overdue")
    assert page.status_code == 200
    assert [row.pk for row in page.context["object_list"]] == [november.pk, december.pk]
    assert page.content.decode().count("visit-overdue") == 2


def test_a_paused_schedule_makes_no_visits_and_an_ended_one_none_after_its_end(schedule_a, frozen_clock, dispatcher):
    services.update_schedule(schedule=schedule_a, by=dispatcher, version=current_version(schedule_a),
                             ends_on=date(2026, 12, 31))
    frozen_clock.move_to(shanghai(2027, 2, 2, 9))
    services.generate_due_visits()
    assert ReturnVisit.objects.filter(schedule=schedule_a).count() == 2  # November, December
    services.update_schedule(schedule=schedule_a, by=dispatcher, version=current_version(schedule_a), active=False,
                             ends_on=None)
    frozen_clock.move_to(shanghai(2027, 5, 2, 9))
    services.generate_due_visits()
    assert ReturnVisit.objects.filter(schedule=schedule_a).count() == 2


def test_a_second_active_schedule_of_a_project_is_a_conflict(schedule_a, dispatcher):
    with pytest.raises(services.Conflict):
        services.create_schedule(by=dispatcher, project=schedule_a.project)
    assert VisitSchedule.objects.count() == 1


def closed_request(project, reporter, admin_user):
    request = verbs.open_request(by=reporter, project=project, priority="general", channel="portal", title="黑屏",
                                 description="三号摄像机")
    verbs.reply(request=request, by=admin_user, version=current_version(request), mode="remote", plan="远程处理")
    work_order = verbs.submit_work_order(request=request, by=admin_user, version=current_version(request),
                                         actions="重启", minutes_spent=5, result="solved")
    verbs.confirm_work_order(work_order=work_order, by=reporter, version=current_version(work_order), via="portal",
                             signer_name="马红梅")
    request.refresh_from_db()
    return request


def test_a_closed_service_request_brings_one_visit_after_it(frozen_clock, project_a, dispatcher, engineer,
                                                            customer_user_a, admin_user):
    schedule = services.create_schedule(by=dispatcher, project=project_a, owner=engineer, after_requests=True,
                                        days_after_request=7)
    request = closed_request(project_a, customer_user_a, admin_user)
    assert request.state == "closed"
    services.generate_after_request_visits()
    services.generate_after_request_visits()
    visit = ReturnVisit.objects.get(kind=VisitKind.AFTER_REQUEST)
    assert (visit.service_request_id, visit.owner, visit.due_on) == (
        request.pk, engineer, request.closed_at.astimezone(clock.SHANGHAI).date() + timedelta(days=7))
    assert schedule.after_requests
