"""Issue 21 §6: the configuration pages — calendars, project policies with a preview, escalation ladders — as an
administrator and as a department manager confined to their own branch."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse

from aftersales.accounts.models import Position
from aftersales.service import verbs
from aftersales.service.models import (
    CalendarDay, DayKind, EscalationRule, HolidayYear, ProjectPolicy, ServiceRequest, SlaPolicy, SlaTargetRule,
    WorkCalendar,
)

from .conftest import shanghai

pytestmark = pytest.mark.usefixtures("frozen_clock")  # 2026-11-26 10:00 Shanghai, a Thursday: 2027 is missing


@pytest.fixture
def office_policy(db):
    """The seed's targets on the office-hours calendar (9:00–12:00, 13:30–18:00 on working days)."""
    office = WorkCalendar.objects.get(name="工作日 9:00–18:00")
    policy = SlaPolicy.objects.create(name="工作时间", calendar=office, warn_at_percent=80)
    for rule in SlaTargetRule.objects.filter(policy__is_default=True):
        SlaTargetRule.objects.create(policy=policy, priority=rule.priority, kind=rule.kind, minutes=rule.minutes,
                                     starts=rule.starts, onsite_only=rule.onsite_only)
    return policy


# ------------------------------------------------------------------------------------------------ ladders

def test_a_branch_without_a_ladder_shows_the_default_and_says_its_own_would_replace_it(client, manager, dispatcher):
    client.force_login(manager)
    response = client.get(reverse("service:config_ladder", args=[manager.branch_id]))
    page = response.content.decode()
    assert response.context["ladder"]["own"] is False
    assert "data-replaces-default" in page  # the plain statement that a branch's own ladder replaces the default
    assert 'data-level="1"' in page and 'data-level="2"' in page  # the default's two steps
    assert manager.display_name in page  # level 1 (department manager) would notify the manager today


def test_a_ladder_step_that_would_notify_nobody_is_refused(client, manager):
    client.force_login(manager)
    url = reverse("service:config_ladder", args=[manager.branch_id])
    response = client.post(url, {"action": "save", "level": 1, "position": Position.LOGISTICS, "delay_minutes": 0})
    assert response.status_code == 200
    assert "position" in response.context["step_form"].errors
    assert not EscalationRule.objects.exists()  # escalation is not silently switched off


def test_a_step_whose_position_someone_holds_is_saved_audited_and_replaces_the_default(client, manager, dispatcher):
    client.force_login(manager)
    url = reverse("service:config_ladder", args=[manager.branch_id])
    response = client.post(url, {"action": "save", "level": 1, "position": Position.DISPATCHER, "delay_minutes": 5})
    assert response.status_code == 302
    step = EscalationRule.objects.get(branch=manager.branch)
    assert (step.level, step.position, step.delay_minutes) == (1, Position.DISPATCHER, 5)
    assert LogEntry.objects.get_for_object(step).get().actor == manager
    page = client.get(url).content.decode()
    assert 'data-level="2"' not in page  # the default's second step no longer applies
    assert dispatcher.display_name in page


def test_copying_the_default_ladder_gives_the_branch_its_steps(client, manager, general_manager):
    client.force_login(manager)
    response = client.post(reverse("service:config_ladder", args=[manager.branch_id]), {"action": "copy_default"})
    assert response.status_code == 302
    assert list(EscalationRule.objects.filter(branch=manager.branch).values_list("level", "position", "delay_minutes")) == [
        (1, "department_manager", 0), (2, "general_manager", 60)]


def test_a_department_manager_is_confined_to_their_branch(client, manager, branch_b, project_b, general_manager):
    client.force_login(manager)
    assert client.get(reverse("service:config_ladder", args=[branch_b.pk])).status_code == 404
    assert client.post(reverse("service:config_ladder", args=[branch_b.pk]),
                       {"action": "save", "level": 1, "position": Position.GENERAL_MANAGER}).status_code == 404
    assert client.get(reverse("service:config_project_policy", args=[project_b.pk])).status_code == 404
    ladders = client.get(reverse("service:config_ladders")).content.decode()
    assert branch_b.name not in ladders
    # calendars are shared by every branch: read, not changed
    assert client.get(reverse("service:config_calendars")).status_code == 200
    assert client.post(reverse("service:config_calendars"), {"year": 2025}).status_code == 403
    assert not EscalationRule.objects.exists()


def test_staff_without_the_permission_cannot_open_the_pages(client, dispatcher):
    client.force_login(dispatcher)
    for name in ("config_home", "config_calendars", "config_policies", "config_ladders"):
        assert client.get(reverse(f"service:{name}")).status_code == 403


# ------------------------------------------------------------------------------------------------ calendars

def test_importing_a_year_records_it_with_its_named_days_in_one_action(client, admin_user):
    CalendarDay.objects.filter(calendar__isnull=True, day__year=2025).delete()
    HolidayYear.objects.filter(year=2025).delete()
    client.force_login(admin_user)
    response = client.post(reverse("service:config_calendars"), {"year": 2025})
    assert response.status_code == 302
    assert HolidayYear.objects.get(year=2025).source.startswith("chinese-calendar")
    national_day = CalendarDay.objects.get(calendar__isnull=True, day=date(2025, 10, 1))
    assert (national_day.kind, national_day.name) == (DayKind.OFF, "国庆节")
    assert CalendarDay.objects.get(calendar__isnull=True, day=date(2025, 9, 28)).kind == DayKind.MAKE_UP  # a Sunday worked
    assert LogEntry.objects.get_for_object(national_day).get().actor == admin_user
    page = client.get(response["Location"]).content.decode()
    assert "国庆节" in page


def test_importing_a_year_the_bundled_data_does_not_know_says_so_and_writes_nothing(client, admin_user):
    client.force_login(admin_user)
    before = CalendarDay.objects.count(), HolidayYear.objects.count()
    response = client.post(reverse("service:config_calendars"), {"year": 2027})
    assert response.status_code == 200
    errors = response.context["import_form"].errors["year"]
    assert "2027" in errors[0]
    assert (CalendarDay.objects.count(), HolidayYear.objects.count()) == before


def test_a_new_public_day_off_recomputes_the_open_requests_in_the_same_action(client, admin_user, project_a,
                                                                              customer_user_a, office_policy):
    ProjectPolicy.objects.create(project=project_a, policy=office_policy)
    request = verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                                 title="录像丢失", description="三号 NVR")
    # 8 working hours from Thursday 10:00: 6.5 h on Thursday, 1.5 h on Friday morning
    assert request.resolve_due_at == shanghai(2026, 11, 27, 10, 30)
    client.force_login(admin_user)
    response = client.post(reverse("service:config_public_calendar") + "?year=2026",
                           {"action": "save", "day": "2026-11-27", "kind": DayKind.OFF, "name": "停电检修"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.resolve_due_at == shanghai(2026, 11, 30, 10, 30)  # Friday is off now: Monday
    # and removing it moves it back
    day = CalendarDay.objects.get(calendar__isnull=True, day=date(2026, 11, 27))
    client.post(reverse("service:config_public_calendar") + "?year=2026", {"action": "remove", "day_id": day.pk})
    request.refresh_from_db()
    assert request.resolve_due_at == shanghai(2026, 11, 27, 10, 30)


def test_a_bad_day_is_a_form_error_not_a_500(client, admin_user):
    client.force_login(admin_user)
    url = reverse("service:config_public_calendar")
    for bad in ({"action": "save", "day": "9999-01-01", "kind": "off"}, {"action": "save", "day": "x", "kind": "off"},
                {"action": "save", "day": "2026-05-01", "kind": "holiday"}):
        response = client.post(url, bad)
        assert response.status_code == 200
        assert response.context["day_form"].errors
    assert client.post(url, {"action": "remove", "day_id": "abc"}).status_code == 404
    assert client.get(url + "?year=99999").status_code == 200  # an odd year parameter shows this year


def test_the_year_view_shows_a_calendars_own_closures(client, admin_user):
    office = WorkCalendar.objects.get(name="工作日 9:00–18:00")
    client.force_login(admin_user)
    url = reverse("service:config_calendar", args=[office.pk])
    assert client.post(url + "?year=2026", {"action": "save", "day": "2026-12-31", "kind": "off", "name": "年终盘点"}
                       ).status_code == 302
    page = client.get(url + "?year=2026").content.decode()
    assert "年终盘点" in page and 'data-day="2026-10-01" data-kind="off"' in page  # own closure and a public day


def test_every_configuration_page_warns_while_next_year_is_missing(client, admin_user, project_a):
    client.force_login(admin_user)
    policy = SlaPolicy.objects.get(is_default=True)
    for url in (reverse("service:config_home"), reverse("service:config_calendars"),
                reverse("service:config_public_calendar"), reverse("service:config_policies"),
                reverse("service:config_policy", args=[policy.pk]),
                reverse("service:config_project_policy", args=[project_a.pk]),
                reverse("service:config_ladders"), reverse("service:config_ladder", args=[project_a.branch_id])):
        assert 'data-missing-year="2027"' in client.get(url).content.decode(), url


# ------------------------------------------------------------------------------------------------ policies

def test_the_preview_says_when_a_request_opened_now_would_be_due_and_writes_nothing(client, manager, project_a,
                                                                                    office_policy):
    client.force_login(manager)
    before = ServiceRequest.objects.count()
    url = reverse("service:config_project_policy", args=[project_a.pk])
    page = client.get(url).content.decode()  # the default policy: 7×24
    assert "2026-11-26" in page and "10:15" in page  # a serious request's 15-minute reply
    assert client.post(url, {"policy": office_policy.pk}).status_code == 302
    assert ProjectPolicy.objects.get(project=project_a).policy == office_policy
    rows = {(row.priority, row.kind): row for row in client.get(url).context["preview"]}
    assert rows[("serious", "reply")].due_at == shanghai(2026, 11, 26, 10, 15)
    assert rows[("general", "resolution")].due_at == shanghai(2026, 11, 27, 10, 30)  # office hours: Friday morning
    assert ServiceRequest.objects.count() == before
    assert client.post(url, {"policy": ""}).status_code == 302  # back to the default
    assert not ProjectPolicy.objects.filter(project=project_a).exists()


def test_a_foreign_policy_id_is_a_form_error(client, admin_user, project_a):
    client.force_login(admin_user)
    response = client.post(reverse("service:config_project_policy", args=[project_a.pk]), {"policy": "999999"})
    assert response.status_code == 200 and response.context["form"].errors["policy"]


# ------------------------------------------------------------------------------------------------ constraints

def test_constraint_errors_read_as_sentences(branch_a, admin_user, client):
    EscalationRule.objects.create(branch=branch_a, level=1, position=Position.DEPARTMENT_MANAGER)
    with pytest.raises(ValidationError) as raised:
        EscalationRule(branch=branch_a, level=1, position=Position.GENERAL_MANAGER).validate_constraints()
    assert "escalation_level_once" not in str(raised.value)
    CalendarDay.objects.create(day=date(2030, 1, 1), kind=DayKind.OFF)
    with pytest.raises(ValidationError) as raised:
        CalendarDay(day=date(2030, 1, 1), kind=DayKind.OFF).validate_constraints()
    assert "public_day_once" not in str(raised.value)
    # and the admin's form shows the sentence
    client.force_login(admin_user)
    response = client.post(reverse("admin:service_escalationrule_add"),
                           {"branch": branch_a.pk, "level": 1, "position": "general_manager", "delay_minutes": 0})
    assert response.status_code == 200
    assert b"escalation_level_once" not in response.content
