"""The demo holds change notices answered (with their tests), one under test, one overdue whose warning the sweep
has put in the outbox, and one withdrawn, all made through the verbs."""

from aftersales.changes.models import ChangeNotice, NoticeState, Verdict
from aftersales.core import clock
from aftersales.demo import data
from aftersales.notify.models import OutboxMessage


def test_the_demo_has_notices_in_each_state_and_an_overdue_one_warned(db):
    data.load()
    notices = list(ChangeNotice.objects.prefetch_related("tests"))
    states = {notice.state for notice in notices}
    assert {NoticeState.ANSWERED, NoticeState.UNDER_TEST, NoticeState.SUBMITTED, NoticeState.WITHDRAWN} <= states
    answered = [n for n in notices if n.state == NoticeState.ANSWERED]
    assert {n.verdict for n in answered} == {Verdict.COMPATIBLE, Verdict.CONDITIONAL}
    assert all(n.tests.all() for n in answered) and any(t.evidence_file for n in answered for t in n.tests.all())
    overdue = [n for n in notices if n.is_open and n.answer_due_at < clock.now()]
    assert len(overdue) == 1 and overdue[0].overdue_at is not None
    assert OutboxMessage.objects.filter(event="change_notice_overdue", about_id=str(overdue[0].pk)).exists()
