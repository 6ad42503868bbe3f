"""INS-1: rounds generated exactly once per (plan, period), plan edits regenerating only future rounds not started,
missed rounds, the approval gate's seam (start guard, override with a reason) and engineer scoping of the verbs."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.inspections import services, tasks
from aftersales.inspections.models import InspectionRound, RoundEvent, RoundState

from ..factories import current_version
from .conftest import make_plan, shanghai


def test_a_new_plan_generates_its_rounds_for_the_horizon_once(plan_a):
    # 26 Nov 2026 + 90 days = 24 Feb 2027: Nov (window still open), Dec, Jan, Feb
    assert list(plan_a.rounds.order_by("due_on").values_list("due_on", flat=True)) == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert services.generate_rounds(plan=plan_a) == []
    assert tasks.inspections_hourly.call_local() == {"generated": 0, "missed": 0}
    assert plan_a.rounds.count() == 4
    assert RoundEvent.objects.filter(round__plan=plan_a, kind="generated").count() == 4


def test_the_database_refuses_a_second_round_of_a_plan_in_the_same_period(round_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        InspectionRound.objects.create(plan=round_a.plan, project=round_a.project, customer=round_a.customer,
                                       branch=round_a.branch, period_start=round_a.period_start,
                                       window_end=round_a.window_end, due_on=round_a.due_on)


def test_rounds_are_assigned_in_turn_and_due_on_month_ends(frozen_clock, project_a, camera_checklist, engineer,
                                                           engineer2, manager):
    plan = make_plan(project_a, camera_checklist, [engineer, engineer2], manager, starts_on=date(2026, 12, 31),
                     horizon_days=130)
    rounds = list(plan.rounds.order_by("due_on"))
    assert [r.due_on for r in rounds] == [date(2026, 12, 31), date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]
    assert len({r.engineer_id for r in rounds}) == 2 and rounds[0].engineer_id != rounds[1].engineer_id


def test_editing_a_plan_regenerates_only_future_rounds_not_started(frozen_clock, plan_a, round_a, started_a, engineer,
                                                                   engineer2, manager):
    december = plan_a.rounds.get(period_start=date(2026, 12, 1))
    services.update_plan(plan=plan_a, by=manager, version=current_version(plan_a), anchor_day=20,
                         engineers=[engineer2])
    started_a.refresh_from_db()
    december.refresh_from_db()
    assert (started_a.due_on, started_a.engineer_id, started_a.state) == (date(2026, 11, 1), engineer.pk, "in_progress")
    assert (december.due_on, december.engineer_id, december.pk) == (date(2026, 12, 20), engineer2.pk, december.pk)
    assert december.events.filter(kind="rescheduled").exists()
    # quarterly from now on: the months between quarters leave; the started November round stays
    services.update_plan(plan=plan_a, by=manager, version=current_version(plan_a), cadence="quarterly",
                         anchor_month=0)
    assert list(plan_a.rounds.order_by("due_on").values_list("due_on", "state")) == [
        (date(2026, 11, 1), "in_progress"), (date(2027, 1, 20), "scheduled")]


def test_a_stale_plan_edit_is_refused_and_changes_nothing(plan_a, manager):
    seen = current_version(plan_a)
    services.update_plan(plan=plan_a, by=manager, version=seen, name="季度巡检")
    with pytest.raises(StaleObject):
        services.update_plan(plan=plan_a, by=manager, version=seen, anchor_day=9)
    assert plan_a.rounds.filter(due_on__day=9).count() == 0


def test_a_round_not_done_in_its_window_becomes_missed_and_stays_listed_with_its_reason(frozen_clock, plan_a, round_a,
                                                                                        manager, engineer):
    frozen_clock.move_to(shanghai(2026, 12, 1, 0, 30))
    assert tasks.inspections_hourly.call_local()["missed"] == 1
    round_a.refresh_from_db()
    assert round_a.state == RoundState.MISSED and round_a.missed_at is not None and round_a.missed_reason == ""
    assert services.mark_missed_rounds() == []  # once
    with pytest.raises(DomainError) as refused:
        services.explain_missed(round=round_a, by=manager, version=round_a.version, reason=" ")
    assert refused.value.field == "reason"
    services.explain_missed(round=round_a, by=manager, version=round_a.version, reason="客户机房装修,无法进场")
    round_a.refresh_from_db()
    assert round_a.missed_reason == "客户机房装修,无法进场" and round_a.missed_reason_by == manager
    with pytest.raises(IllegalTransition):  # missed before it started: it cannot be started any more
        services.start_round(round=round_a, by=engineer, version=round_a.version)


def test_a_round_completed_on_the_phone_inside_its_window_and_synced_late_is_done(frozen_clock, started_a, engineer,
                                                                                   photo):
    from .conftest import answer_all

    frozen_clock.move_to(shanghai(2026, 12, 2, 9, 0))  # the phone was offline until December
    services.mark_missed_rounds()
    started_a.refresh_from_db()
    assert started_a.state == RoundState.MISSED
    answer_all(started_a, engineer, photo=photo, at=shanghai(2026, 11, 30, 15, 0))
    done = services.complete_round(round=started_a, by=engineer, version=current_version(started_a),
                                   completed_at=shanghai(2026, 11, 30, 16, 0))
    assert done.state == RoundState.DONE and done.completed_at == shanghai(2026, 11, 30, 16, 0)
    assert done.completed_received_at == shanghai(2026, 12, 2, 9, 0)


def test_a_round_needing_approval_cannot_start_until_approved_or_overridden_with_a_reason(
        frozen_clock, project_a, camera_checklist, engineer, manager):
    plan = make_plan(project_a, camera_checklist, [engineer], manager, needs_approval=True)
    november, december = plan.rounds.order_by("due_on")[:2]
    assert november.state == RoundState.AWAITING_APPROVAL
    with pytest.raises(IllegalTransition) as refused:
        services.start_round(round=november, by=engineer, version=november.version)
    assert "approv" in str(refused.value.message).lower() or "批准" in str(refused.value.message) or refused.value.code
    with pytest.raises(DomainError) as no_reason:
        services.override_approval(round=november, by=manager, version=current_version(november), reason="")
    assert no_reason.value.field == "reason"
    services.override_approval(round=november, by=manager, version=current_version(november), reason="客户口头同意")
    started = services.start_round(round=november, by=engineer, version=current_version(november))
    assert started.state == RoundState.IN_PROGRESS and started.override_reason == "客户口头同意"
    # the approval gate's seam (INS-2): the customer's approval lets the round start
    services.record_approval(round=december, at=shanghai(2026, 11, 26, 9, 0))
    december.refresh_from_db()
    assert december.state == RoundState.SCHEDULED and december.approved_at == shanghai(2026, 11, 26, 9, 0)


def test_only_the_rounds_engineer_starts_it_and_only_inside_its_window(frozen_clock, plan_a, round_a, engineer2,
                                                                      engineer):
    with pytest.raises(services.NotAssigned):
        services.start_round(round=round_a, by=engineer2, version=round_a.version)
    december = plan_a.rounds.get(period_start=date(2026, 12, 1))
    with pytest.raises(DomainError) as early:
        services.start_round(round=december, by=engineer, version=december.version)
    assert early.value.field == "started_at"
    with pytest.raises(DomainError) as future:
        services.start_round(round=round_a, by=engineer, version=round_a.version,
                             started_at=shanghai(2026, 11, 26, 12, 0))
    assert future.value.field == "started_at"
    assert InspectionRound.objects.get(pk=round_a.pk).state == RoundState.SCHEDULED


def test_deactivating_a_plan_removes_its_future_rounds_not_started(plan_a, started_a, manager):
    services.update_plan(plan=plan_a, by=manager, version=current_version(plan_a), is_active=False)
    assert list(plan_a.rounds.values_list("state", flat=True)) == ["in_progress"]
    assert services.generate_rounds(plan=plan_a) == []


def test_the_horizon_moves_forward_with_the_clock(frozen_clock, plan_a):
    frozen_clock.shift(timedelta(days=31))
    assert len(services.generate_rounds(plan=plan_a)) == 1
    assert plan_a.rounds.filter(period_start=date(2027, 3, 1)).exists()
