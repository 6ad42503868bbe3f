"""TRN-1: a session is planned → held (the customer is asked for the signed feedback) → feedback signed, or cancelled
while planned. Every other move is refused with a 409 and nothing written; a stale version is refused the same way."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.notify.models import OutboxMessage
from aftersales.training import services
from aftersales.training.links import feedback_url
from aftersales.training.models import (
    Attendee,
    SessionKind,
    SessionState,
    TrainingFeedback,
    TrainingLog,
    TrainingSession,
)

from ..factories import current_version
from .conftest import hold, plan, sign, signature


def written():
    return (TrainingSession.objects.values_list("pk", "state", "version").order_by("pk").count(),
            sorted(TrainingSession.objects.values_list("pk", "state", "version")), TrainingFeedback.objects.count(),
            TrainingLog.objects.count(), OutboxMessage.objects.count(), Attendee.objects.count())


def test_a_session_is_planned_with_the_project_s_customer_and_branch(planned_a, project_a, engineer):
    assert (planned_a.state, planned_a.customer_id, planned_a.branch_id) == (
        SessionState.PLANNED, project_a.customer_id, project_a.branch_id)
    assert list(planned_a.trainers.all()) == [engineer]
    assert [a.name for a in planned_a.attendees.order_by("pk")] == ["李强", "王芳"]
    assert planned_a.number == f"PX{planned_a.pk:05d}"
    assert TrainingLog.objects.get(session=planned_a).kind == "planned"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": "  "}, "title"),
    ({"kind": "party"}, "kind"),
    ({"venue": "moon"}, "venue"),
    ({"content": ""}, "content"),
    ({"trainers": [], "vendor_trainers": ""}, "trainers"),
    ({"kind": SessionKind.JOINT_WITH_VENDOR, "vendor_trainers": ""}, "vendor_trainers"),
    ({"attendees": [services.AttendeeIn(" ")]}, "attendees"),
])
def test_a_plan_with_bad_input_is_refused_on_its_field_and_writes_nothing(frozen_clock, project_a, engineer,
                                                                          overrides, field):
    with pytest.raises(DomainError) as refused:
        plan(project_a, engineer, **overrides)
    assert refused.value.field == field and refused.value.status == 400
    assert not TrainingSession.objects.exists() and not TrainingLog.objects.exists()


def test_a_session_must_end_after_it_starts(frozen_clock, project_a, engineer):
    start = plan(project_a, engineer).starts_at
    with pytest.raises(DomainError) as refused:
        plan(project_a, engineer, starts_at=start, ends_at=start)
    assert refused.value.field == "ends_at"


def test_a_customer_user_is_not_one_of_our_trainers(frozen_clock, project_a, engineer, customer_user_a):
    with pytest.raises(DomainError) as refused:
        plan(project_a, engineer, trainers=[engineer, customer_user_a])
    assert refused.value.field == "trainers"


def test_recording_it_held_marks_attendance_adds_walk_ins_and_mails_the_feedback_link(planned_a, engineer,
                                                                                      customer_user_a, customer_user_b):
    customer_user_a.email = "ma@customer.example"
    customer_user_a.save()
    li, wang = planned_a.attendees.order_by("pk")
    held = services.record_held(session=planned_a, by=engineer, version=planned_a.version, present=[li],
                                walk_ins=[services.AttendeeIn("赵磊", "网管")], summary="讲完")
    assert (held.state, held.held_recorded_by, held.summary) == (SessionState.HELD, engineer, "讲完")
    assert dict(held.attendees.values_list("name", "attended")) == {"李强": True, "王芳": False, "赵磊": True}
    mails = OutboxMessage.objects.filter(event="training_feedback_needed")
    assert {m.recipient_user_id for m in mails} == {customer_user_a.pk}  # the customer's contact, not another's
    email = mails.get(channel="email")
    assert email.url == feedback_url(held) and "/training/feedback/" in email.url


def test_a_session_cannot_be_recorded_as_held_before_it_began(frozen_clock, project_a, engineer):
    later = plan(project_a, engineer, hours_from_now=3)
    with pytest.raises(DomainError) as refused:
        hold(later, engineer)
    assert refused.value.field == "present"
    assert TrainingSession.objects.get(pk=later.pk).state == SessionState.PLANNED


def test_a_session_nobody_attended_was_not_held(planned_a, engineer):
    before = written()
    with pytest.raises(DomainError) as refused:
        services.record_held(session=planned_a, by=engineer, version=planned_a.version, present=[])
    assert refused.value.field == "present" and written() == before


def test_only_invited_attendees_of_the_session_can_be_present(planned_a, planned_b, engineer):
    with pytest.raises(DomainError):
        services.record_held(session=planned_a, by=engineer, version=planned_a.version,
                             present=list(planned_b.attendees.all()))


def test_the_feedback_is_signed_once_and_the_trainers_hear_of_it(held_a, engineer):
    feedback = sign(held_a, on_screen_of=engineer)
    held_a.refresh_from_db()
    assert held_a.state == SessionState.SIGNED
    assert (feedback.rating, feedback.signer_name, feedback.signed_via, feedback.recorded_by, feedback.signed_by) == (
        5, "马红梅", "screen", engineer, None)
    assert feedback.signature.name.startswith("training/signatures/") and feedback.signature.read()[:4] == b"\x89PNG"
    assert OutboxMessage.objects.filter(event="training_feedback_signed", recipient_user=engineer).exists()
    with pytest.raises(IllegalTransition):
        sign(held_a, on_screen_of=engineer)
    assert TrainingFeedback.objects.count() == 1


@pytest.mark.parametrize("signature_file", [None, ContentFile(b"GIF89a not a png", name="s.png"),
                                            ContentFile(b"", name="s.png")])
def test_the_signature_is_required_and_must_be_a_png(held_a, engineer, signature_file):
    before = written()
    with pytest.raises(DomainError) as refused:
        sign(held_a, on_screen_of=engineer, signature=signature_file)
    assert refused.value.field == "signature" and refused.value.status == 400
    assert written() == before
    assert TrainingSession.objects.get(pk=held_a.pk).state == SessionState.HELD


@pytest.mark.parametrize("field", ["evaluation", "signer_name", "rating"])
def test_the_feedback_needs_its_evaluation_name_and_rating(held_a, engineer, field):
    with pytest.raises(DomainError) as refused:
        sign(held_a, on_screen_of=engineer, **{field: None if field == "rating" else "  "})
    assert refused.value.field == field
    with pytest.raises(DomainError):
        sign(held_a, on_screen_of=engineer, rating=6)


def test_feedback_is_only_for_a_held_session(planned_a, engineer):
    before = written()
    with pytest.raises(IllegalTransition) as refused:
        sign(planned_a, on_screen_of=engineer)
    assert refused.value.status == 409 and written() == before


def test_a_cancelled_session_refuses_everything(planned_a, engineer):
    cancelled = services.cancel_session(session=planned_a, by=engineer, version=planned_a.version, reason="业主改期")
    assert (cancelled.state, cancelled.cancel_reason) == (SessionState.CANCELLED, "业主改期")
    before = written()
    version = current_version(cancelled)
    for attempt in (
        lambda: hold(cancelled, engineer),
        lambda: sign(cancelled, on_screen_of=engineer),
        lambda: services.cancel_session(session=cancelled, by=engineer, version=version, reason="again"),
        lambda: services.add_attendee(session=cancelled, by=engineer, version=version, name="张三"),
        lambda: services.add_material(session=cancelled, by=engineer, upload=signature()),
        lambda: services.resend_feedback_link(session=cancelled, by=engineer, version=version),
    ):
        with pytest.raises(IllegalTransition):
            attempt()
    assert written() == before


def test_a_held_session_cannot_be_cancelled_or_changed(held_a, engineer):
    with pytest.raises(IllegalTransition):
        services.cancel_session(session=held_a, by=engineer, version=held_a.version, reason="不要了")
    with pytest.raises(IllegalTransition):
        services.change_plan(session=held_a, by=engineer, version=held_a.version, title="新", kind="handover",
                             venue="company", starts_at=held_a.starts_at, ends_at=held_a.ends_at, content="x",
                             trainers=[engineer])


def test_a_stale_version_is_refused_and_writes_nothing(planned_a, engineer, dispatcher):
    seen = planned_a.version
    services.add_attendee(session=planned_a, by=dispatcher, version=seen, name="张三")
    before = written()
    for attempt in (
        lambda: services.record_held(session=planned_a, by=engineer, version=seen,
                                     present=list(planned_a.attendees.all())),
        lambda: services.cancel_session(session=planned_a, by=engineer, version=seen, reason="x"),
        lambda: services.add_attendee(session=planned_a, by=engineer, version=seen, name="李四"),
    ):
        with pytest.raises(StaleObject) as refused:
            attempt()
        assert (refused.value.status, refused.value.code) == (409, "stale")
    assert written() == before


def test_a_change_of_plan_is_logged_with_what_changed(planned_a, engineer, dispatcher):
    later = planned_a.starts_at + timedelta(days=1)
    changed = services.change_plan(session=planned_a, by=dispatcher, version=planned_a.version, title="平台操作培训",
                                   kind="handover", venue="company", starts_at=later, ends_at=later + timedelta(hours=1),
                                   content=planned_a.content, place=planned_a.place, trainers=[engineer, dispatcher])
    assert changed.venue == "company" and set(changed.trainers.all()) == {engineer, dispatcher}
    line = TrainingLog.objects.get(session=planned_a, kind="changed")
    assert set(line.data["changes"]) == {"venue", "starts_at", "ends_at", "trainers"}


def test_a_material_is_stored_through_the_storage_api_and_a_bad_file_leaves_nothing(planned_a, engineer):
    material = services.add_material(session=planned_a, by=engineer,
                                     upload=ContentFile(b"%PDF-1.4 handout", name="讲义.pdf"))
    assert (material.content_type, material.original_name) == ("application/pdf", "讲义.pdf")
    assert material.file.storage.exists(material.file.name)
    with pytest.raises(DomainError) as refused:
        services.add_material(session=planned_a, by=engineer, upload=ContentFile(b"\x00\x01\x02\xff", name="x.exe"))
    assert refused.value.field == "file"
    assert planned_a.materials.count() == 1


def test_a_new_feedback_link_voids_the_old_one(customer_user_a, held_a, engineer):
    old = feedback_url(held_a)
    renewed = services.resend_feedback_link(session=held_a, by=engineer, version=held_a.version)
    assert feedback_url(renewed) != old
    assert OutboxMessage.objects.filter(event="training_feedback_needed").values("dedupe_key").distinct().count() == 2
