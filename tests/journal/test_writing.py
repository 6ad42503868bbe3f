"""LOG-1: writing a day through the verbs — suggestions, links validated, versions, submission and audited
corrections."""

from datetime import timedelta

import pytest

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.journal import services
from aftersales.journal.models import DailyLog, LogEntry, LogEvent, LogEventKind

from ..factories import ProjectFactory, current_version
from .conftest import day_with_entry, open_request


def test_a_day_starts_with_what_the_system_knows_of_the_engineer(engineer_day, engineer, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # linked requests, linked rounds, visits, work orders, rounds
        suggestions = services.suggestions(engineer, clock.today())
    assert [s.key for s in suggestions] == [f"r{engineer_day.pk}"]
    only = suggestions[0]
    assert only.minutes == 90  # arrived 09:00, left 10:30
    assert engineer_day.number in only.what and "更换摄像机电源" in only.what  # the visit and the work order merged
    assert only.requests == [engineer_day] and only.project == engineer_day.project


def test_starting_the_day_keeps_only_what_the_engineer_ticked(engineer_day, engineer):
    log = services.start_day(by=engineer, day=clock.today(), keep=services.suggestions(engineer, clock.today()))
    entry = log.entries.get()
    assert (entry.minutes, list(entry.requests.all()), entry.visible_to_customer) == (90, [engineer_day], False)
    assert services.suggestions(engineer, clock.today()) == []  # what is in the log is no longer suggested
    empty = services.start_day(by=engineer, day=clock.today() - timedelta(days=1), keep=[])
    assert empty.entries.count() == 0


def test_starting_a_day_twice_is_the_same_day(frozen_clock, engineer):
    first = services.start_day(by=engineer, day=clock.today())
    second = services.start_day(by=engineer, day=clock.today())
    assert first.pk == second.pk and DailyLog.objects.count() == 1
    assert LogEvent.objects.filter(kind=LogEventKind.STARTED).count() == 1


def test_a_log_is_not_written_for_a_future_day_nor_by_a_customer(frozen_clock, engineer, customer_user_a):
    with pytest.raises(DomainError) as error:
        services.start_day(by=engineer, day=clock.today() + timedelta(days=1))
    assert error.value.field == "day"
    with pytest.raises(DomainError):
        services.start_day(by=customer_user_a, day=clock.today())
    assert not DailyLog.objects.exists()


def test_an_entry_links_only_requests_and_rounds_of_its_project_that_the_author_sees(
        frozen_clock, engineer, project_a, request_a, request_b, customer_a, dispatcher):
    log = services.start_day(by=engineer, day=clock.today())
    other_project = ProjectFactory(customer=customer_a)
    request_elsewhere = open_request(other_project, dispatcher)
    for wrong in (request_b, request_elsewhere):  # another branch's; a request of another project
        with pytest.raises(DomainError) as error:
            services.add_entry(log=log, by=engineer, version=current_version(log), project=project_a, what="维修",
                               minutes=30, requests=[wrong])
        assert error.value.field == "requests"
    with pytest.raises(DomainError) as error:
        services.add_entry(log=log, by=engineer, version=current_version(log), project=request_b.project,
                           what="维修", minutes=30)
    assert error.value.field == "project"
    assert not LogEntry.objects.exists() and current_version(log) == log.version  # nothing written
    entry = services.add_entry(log=log, by=engineer, version=current_version(log), project=project_a, what="维修",
                               minutes=30, requests=[request_a])
    assert list(entry.requests.all()) == [request_a]


def test_a_stale_version_writes_nothing(frozen_clock, engineer, project_a):
    log, entry = day_with_entry(engineer, project_a)
    with pytest.raises(StaleObject):
        services.add_entry(log=log, by=engineer, version=log.version - 1, project=project_a, what="重复", minutes=10)
    with pytest.raises(StaleObject):
        services.remove_entry(entry=entry, by=engineer, version=log.version - 1)
    assert LogEntry.objects.count() == 1


def test_a_day_has_at_most_1440_minutes(frozen_clock, engineer, project_a):
    log, _entry = day_with_entry(engineer, project_a, minutes=1400)
    with pytest.raises(DomainError) as error:
        services.add_entry(log=log, by=engineer, version=log.version, project=project_a, what="加班", minutes=60)
    assert error.value.field == "minutes"


def test_only_the_author_changes_a_day(frozen_clock, engineer, manager, project_a):
    log, entry = day_with_entry(engineer, project_a)
    with pytest.raises(DomainError):
        services.edit_entry(entry=entry, by=manager, version=log.version, project=project_a, what="改", minutes=5)
    with pytest.raises(DomainError):
        services.submit_day(log=log, by=manager, version=log.version)


def test_submitting_then_correcting_a_day_is_recorded(frozen_clock, engineer, project_a):
    empty = services.start_day(by=engineer, day=clock.today() - timedelta(days=1))
    with pytest.raises(DomainError):
        services.submit_day(log=empty, by=engineer, version=empty.version)  # nothing written yet
    log, entry = day_with_entry(engineer, project_a)
    services.submit_day(log=log, by=engineer, version=log.version)
    with pytest.raises(IllegalTransition):
        services.submit_day(log=log, by=engineer, version=current_version(log))
    frozen_clock.shift(timedelta(hours=3))
    services.edit_entry(entry=entry, by=engineer, version=current_version(log), project=project_a, what="巡检摄像机 12 台",
                        minutes=75, visible_to_customer=True)
    log.refresh_from_db()
    assert log.corrected_at == clock.now() and log.submitted_at < log.corrected_at
    correction = LogEvent.objects.get(kind=LogEventKind.ENTRY_CHANGED)
    assert correction.after_submission
    assert correction.data["changes"]["minutes"] == [60, 75]
    assert correction.data["changes"]["visible_to_customer"] == [False, True]
    before = LogEvent.objects.filter(kind=LogEventKind.ENTRY_ADDED).get()
    assert not before.after_submission


def test_an_inspection_round_started_that_day_is_suggested(frozen_clock, engineer, project_a, device_a, admin_user):
    from django.utils import timezone

    from aftersales.inspections import services as inspections

    checklist = inspections.create_checklist(by=admin_user, category=device_a.category, name="巡检",
                                             items=[{"kind": "pass_fail", "label": "图像清晰"}])
    plan = inspections.create_plan(by=admin_user, project=project_a, name="月度巡检", cadence="monthly",
                                   starts_on=timezone.localdate(), checklists=[checklist], engineers=[engineer])
    round_ = plan.rounds.order_by("due_on").first()
    round_ = inspections.start_round(round=round_, by=engineer, version=round_.version)
    suggestions = services.suggestions(engineer, clock.today())
    assert [(s.key, s.rounds) for s in suggestions] == [(f"i{round_.pk}", [round_])]
    assert "月度巡检" in suggestions[0].what
    log = services.start_day(by=engineer, day=clock.today(), keep=suggestions)
    assert list(log.entries.get().rounds.all()) == [round_]
    assert services.suggestions(engineer, clock.today() - timedelta(days=1)) == []
