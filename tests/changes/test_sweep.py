"""LOG-3: an unanswered notice warns the desk like an SLA target: "due soon" an hour before the deadline, "overdue"
at it, each exactly once however often and on however many workers the sweep runs; an answered or withdrawn notice
warns nobody; an answered notice is closed once its window has ended."""

from datetime import timedelta

import pytest

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.changes import services, sweep, tasks
from aftersales.changes.models import ChangeNotice, NoticeState
from aftersales.notify.models import OutboxMessage

from ..factories import StaffFactory, current_version
from .conftest import answer, submit, test


def warnings(event):
    return list(OutboxMessage.objects.filter(event=event, channel="inapp").order_by("pk").values_list(
        "about_id", "recipient_user__username"))


@pytest.fixture
def branch_manager(branch_a):
    return StaffFactory(username="dept", branch=branch_a, position=Position.DEPARTMENT_MANAGER,
                        role=roles.DEPARTMENT_MANAGER)


def test_due_soon_then_overdue_each_fire_once_across_runs(frozen_clock, notice_a, dispatcher, branch_manager):
    frozen_clock.move_to(notice_a.warn_at - timedelta(minutes=1))
    assert tasks.change_notice_deadlines.call_local() == {"overdue": 0, "due_soon": 0, "closed": 0}
    frozen_clock.move_to(notice_a.warn_at)
    assert sweep.sweep()["due_soon"] == 1
    assert sweep.sweep()["due_soon"] == 0  # a second run says nothing again
    assert warnings("change_notice_due_soon") == [(str(notice_a.pk), "dispatcher")]
    assert warnings("change_notice_overdue") == []
    frozen_clock.move_to(notice_a.answer_due_at)
    assert sweep.sweep() == {"overdue": 1, "due_soon": 0, "closed": 0}
    assert sweep.sweep() == {"overdue": 0, "due_soon": 0, "closed": 0}
    assert sorted(warnings("change_notice_overdue")) == [(str(notice_a.pk), "dept"), (str(notice_a.pk), "dispatcher")]
    assert len(warnings("change_notice_due_soon")) == 1
    notice_a.refresh_from_db()
    assert (notice_a.warned_at, notice_a.overdue_at) == (notice_a.warn_at, notice_a.answer_due_at)


def test_a_competing_worker_that_claimed_first_leaves_nothing_to_this_one(frozen_clock, notice_a, dispatcher):
    frozen_clock.move_to(notice_a.answer_due_at + timedelta(minutes=5))
    now = notice_a.answer_due_at + timedelta(minutes=5)
    mine_overdue, mine_soon = sweep.overdue_ids(now=now), sweep.due_soon_ids(now=now)  # read, then the other wins
    assert mine_overdue == mine_soon == [notice_a.pk]
    assert sweep.sweep(now=now)["overdue"] == 1  # the other worker
    assert sweep.fire_overdue(mine_overdue, now=now) == []  # our conditional UPDATEs change no row
    assert sweep.fire_due_soon(mine_soon, now=now) == []
    assert len(warnings("change_notice_overdue")) == 1


def test_a_worker_down_past_the_deadline_says_overdue_only(frozen_clock, notice_a, dispatcher):
    frozen_clock.move_to(notice_a.answer_due_at + timedelta(hours=3))
    assert sweep.sweep() == {"overdue": 1, "due_soon": 0, "closed": 0}
    assert warnings("change_notice_due_soon") == [] and len(warnings("change_notice_overdue")) == 1


def test_answered_and_withdrawn_notices_warn_nobody(frozen_clock, project_a, customer_user_a, engineer, dispatcher):
    answered = submit(project_a, customer_user_a)
    test(answered, engineer)
    answer(answered, engineer)
    withdrawn = submit(project_a, customer_user_a)
    services.withdraw_notice(notice=withdrawn, by=customer_user_a, version=current_version(withdrawn))
    frozen_clock.move_to(answered.answer_due_at + timedelta(hours=1))
    assert sweep.sweep() == {"overdue": 0, "due_soon": 0, "closed": 0}
    assert not OutboxMessage.objects.filter(event__in=["change_notice_due_soon", "change_notice_overdue"]).exists()


def test_an_answer_after_the_due_soon_warning_stops_the_overdue_one(frozen_clock, notice_a, engineer, dispatcher):
    frozen_clock.move_to(notice_a.warn_at)
    sweep.sweep()
    test(notice_a, engineer)
    answer(notice_a, engineer)
    frozen_clock.move_to(notice_a.answer_due_at + timedelta(minutes=1))
    assert sweep.sweep()["overdue"] == 0 and warnings("change_notice_overdue") == []


def test_answered_notices_close_after_their_window(frozen_clock, notice_a, engineer):
    test(notice_a, engineer)
    answer(notice_a, engineer)
    frozen_clock.move_to(notice_a.window_ends_at)
    assert sweep.sweep()["closed"] == 1
    notice_a.refresh_from_db()
    assert notice_a.state == NoticeState.CLOSED and notice_a.closed_at == notice_a.window_ends_at


def test_the_sweep_reads_only_what_is_due(frozen_clock, project_a, customer_user_a, django_assert_max_num_queries):
    for days in range(2, 12):
        submit(project_a, customer_user_a, starts_in=timedelta(days=days))
    with django_assert_max_num_queries(3):  # two indexed range reads that find nothing, one UPDATE to close
        assert sweep.sweep() == {"overdue": 0, "due_soon": 0, "closed": 0}
    assert ChangeNotice.objects.filter(warned_at__isnull=False).count() == 0
