"""Exactly once per (plan, period) when generators run at the same time: real concurrent transactions, each thread
on its own database connection (as separate worker processes would be)."""

from datetime import date

import pytest

from aftersales.inspections import services
from aftersales.inspections.models import Answer, InspectionPlan, InspectionRound, RoundEvent

from ..concurrency import database_for_threads, in_threads
from .conftest import make_plan


@pytest.mark.django_db(transaction=True)
def test_four_generators_at_once_write_each_round_once(frozen_clock, project_a, camera_checklist, engineer, manager,
                                                      tmp_path):
    plan = make_plan(project_a, camera_checklist, [engineer], manager, starts_on=date(2026, 11, 10), horizon_days=7)
    assert plan.rounds.count() == 1  # November only
    InspectionPlan.objects.filter(pk=plan.pk).update(horizon_days=400)

    def generate(_i):
        return len(services.generate_rounds(plan=InspectionPlan.objects.get(pk=plan.pk), today=date(2026, 11, 26)))

    with database_for_threads(tmp_path):
        created = in_threads(generate, 4)
        rows = in_threads(lambda _i: (list(InspectionRound.objects.filter(plan_id=plan.pk)
                                           .values_list("period_start", flat=True)),
                                      RoundEvent.objects.filter(round__plan_id=plan.pk, kind="generated").count()), 1)[0]
    periods, events = rows
    assert sum(created) == 13 and sorted(created)[-1] == 13  # one generator wrote them all, the others none
    assert len(periods) == len(set(periods)) == 14 and events == 14


@pytest.mark.django_db(transaction=True)
def test_the_same_answer_sent_twice_at_once_is_stored_once(frozen_clock, started_a, engineer, tmp_path):
    import uuid

    check = started_a.checks.get()
    item = check.checklist.items.get(position=1)
    client_id = uuid.uuid4()

    def send(_i):
        answer, created = services.record_answer(round=InspectionRound.objects.get(pk=started_a.pk), by=engineer,
                                                 device=check.device_id, item=item.pk, client_id=client_id,
                                                 passed=True)
        return created

    with database_for_threads(tmp_path):
        outcomes = in_threads(send, 4)
        stored = in_threads(lambda _i: Answer.objects.filter(client_id=client_id).count(), 1)[0]
    assert sorted(outcomes) == [False, False, False, True] and stored == 1
