"""LOG-3: submitting, testing, answering and withdrawing a change notice through the verbs: the submission is
validated, its deadline stored, the desk told; a stale version or a step the state refuses writes nothing; the
answer goes to the customer's submitter."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile

from aftersales.changes import services
from aftersales.changes.deadlines import answer_due_at
from aftersales.changes.models import (
    ChangeNotice,
    CompatibilityTest,
    NoticeChannel,
    NoticeState,
    Verdict,
)
from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.notify.models import OutboxMessage

from ..factories import DeviceFactory, current_version
from .conftest import answer, submit, test


def inbox(event, notice):
    return set(OutboxMessage.objects.filter(event=event, about_id=str(notice.pk), channel="inapp")
               .values_list("recipient_user__username", flat=True))


def test_a_customer_submission_stores_its_deadline_and_tells_the_desk_of_the_branch(frozen_clock, project_a,
                                                                                      customer_user_a, dispatcher,
                                                                                      engineer):
    notice = submit(project_a, customer_user_a, starts_in=timedelta(days=3))
    notice.refresh_from_db()
    now = clock.now()
    assert (notice.state, notice.channel, notice.customer_id, notice.branch_id) == (
        NoticeState.SUBMITTED, NoticeChannel.PORTAL, project_a.customer_id, project_a.branch_id)
    assert notice.submitted_at == now and notice.answer_due_at == answer_due_at(now, notice.window_starts_at)
    assert notice.answer_due_at == notice.window_starts_at - timedelta(days=1)
    assert notice.warn_at == notice.answer_due_at - timedelta(hours=1)
    assert inbox("change_notice_submitted", notice) == {"dispatcher"}  # the desk, not every engineer


@pytest.mark.parametrize(("change", "field"), [
    ({"starts_in": -timedelta(minutes=1)}, "window_starts_at"),    # a customer announces before the change
    ({"hours": 0}, "window_ends_at"),                              # the window ends after it starts
    ({"title": "  "}, "title"),
    ({"description": ""}, "description"),
    ({"kind": "reboot"}, "kind"),
])
def test_a_bad_submission_names_the_field_and_writes_nothing(frozen_clock, project_a, customer_user_a, change, field):
    with pytest.raises(DomainError) as error:
        submit(project_a, customer_user_a, **change)
    assert error.value.field == field
    assert not ChangeNotice.objects.exists() and not OutboxMessage.objects.exists()


def test_a_customer_cannot_submit_for_another_customers_project(frozen_clock, project_b, customer_user_a):
    with pytest.raises(DomainError) as error:
        submit(project_b, customer_user_a)
    assert error.value.field == "project" and not ChangeNotice.objects.exists()


def test_affected_devices_must_be_of_the_notices_project(frozen_clock, project_a, device_a, device_b, customer_user_a):
    with pytest.raises(DomainError) as error:
        submit(project_a, customer_user_a, devices=[device_a, device_b])
    assert error.value.field == "devices"
    notice = submit(project_a, customer_user_a, devices=[device_a, DeviceFactory(project=project_a)])
    assert notice.devices.count() == 2


def test_staff_may_enter_a_notice_after_the_fact_and_it_is_due_at_once(frozen_clock, project_a, dispatcher):
    notice = submit(project_a, dispatcher, starts_in=-timedelta(hours=1))  # the customer phoned during the change
    assert notice.channel == NoticeChannel.STAFF
    assert notice.answer_due_at == clock.now() + timedelta(hours=2)  # never sooner than the 2-hour promise


def test_the_first_test_puts_the_notice_under_test_and_keeps_its_evidence(notice_a, engineer):
    recorded = test(notice_a, engineer, evidence="", evidence_file=ContentFile(b"%PDF-1.4 report", name="report.pdf"))
    notice_a.refresh_from_db()
    assert notice_a.state == NoticeState.UNDER_TEST and notice_a.version == 2
    assert (recorded.evidence_type, recorded.evidence_name, recorded.tested_by) == ("application/pdf", "report.pdf",
                                                                                     engineer)
    assert recorded.evidence_file.read().startswith(b"%PDF")


def test_evidence_must_be_an_image_pdf_or_text_and_a_refused_file_leaves_nothing(notice_a, engineer, settings):
    with pytest.raises(DomainError) as error:
        test(notice_a, engineer, evidence_file=ContentFile(b"PK\x03\x04zip", name="logs.zip"))
    assert error.value.field == "evidence_file" and not CompatibilityTest.objects.exists()
    with pytest.raises(DomainError) as error:
        test(notice_a, engineer, evidence="", evidence_file=None)
    assert error.value.field == "evidence"
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_answering_needs_a_test_and_tells_the_customers_submitter(notice_a, engineer, manager, customer_user_a):
    with pytest.raises(DomainError) as error:
        answer(notice_a, manager)
    assert error.value.field == "verdict"
    test(notice_a, engineer)
    answer(notice_a, manager, Verdict.CONDITIONAL, "兼容,条件:先升级客户端。")
    notice_a.refresh_from_db()
    assert (notice_a.state, notice_a.verdict, notice_a.answered_by, notice_a.answered_at) == (
        NoticeState.ANSWERED, Verdict.CONDITIONAL, manager, clock.now())
    assert inbox("change_notice_answered", notice_a) == {customer_user_a.username}


def test_a_notice_staff_entered_is_answered_to_every_contact_of_the_customer(frozen_clock, project_a, dispatcher,
                                                                              engineer, customer_user_a):
    notice = submit(project_a, dispatcher)
    test(notice, engineer)
    answer(notice, engineer)
    assert inbox("change_notice_answered", notice) == {customer_user_a.username}


def test_a_stale_version_is_refused_and_writes_nothing(notice_a, engineer, manager):
    test(notice_a, engineer)
    before = OutboxMessage.objects.count()
    with pytest.raises(StaleObject):
        services.answer_notice(notice=notice_a, by=manager, version=1, verdict=Verdict.COMPATIBLE, answer="可以")
    notice_a.refresh_from_db()
    assert notice_a.state == NoticeState.UNDER_TEST and OutboxMessage.objects.count() == before


def test_an_answered_notice_takes_no_more_tests_or_answers(notice_a, engineer, manager):
    test(notice_a, engineer)
    answer(notice_a, manager)
    with pytest.raises(IllegalTransition):
        test(notice_a, engineer)
    with pytest.raises(IllegalTransition):
        answer(notice_a, manager)
    assert CompatibilityTest.objects.count() == 1


def test_the_customer_withdraws_until_the_window_has_ended(frozen_clock, notice_a, customer_user_a, dispatcher):
    services.withdraw_notice(notice=notice_a, by=customer_user_a, version=current_version(notice_a), reason="推迟")
    notice_a.refresh_from_db()
    assert (notice_a.state, notice_a.withdrawn_by, notice_a.withdraw_reason) == (NoticeState.WITHDRAWN,
                                                                                   customer_user_a, "推迟")
    assert inbox("change_notice_withdrawn", notice_a) == {"dispatcher"}
    with pytest.raises(IllegalTransition):
        services.withdraw_notice(notice=notice_a, by=customer_user_a, version=current_version(notice_a))
    late = submit(notice_a.project, customer_user_a)
    frozen_clock.move_to(late.window_ends_at + timedelta(minutes=1))
    with pytest.raises(IllegalTransition):
        services.withdraw_notice(notice=late, by=customer_user_a, version=current_version(late))
