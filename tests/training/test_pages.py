"""TRN-1 pages: scoped like everything else (another customer's session is a 404, like a missing one), the engineer
plans and records, the customer signs on the engineer's screen or in the portal, a stale form is a 409 for htmx and
writes nothing."""

import pytest
from django.urls import reverse

from aftersales.core import clock
from aftersales.training.models import (
    SessionState,
    TrainingFeedback,
    TrainingMaterial,
    TrainingSession,
)

from ..factories import current_version
from .conftest import DATA_URL, FEEDBACK, plan

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, obj):
    return reverse(f"training:{name}", args=[obj.pk])


def state_of(session):
    return TrainingSession.objects.values_list("state", flat=True).get(pk=session.pk)


SESSION_PAGES = ["session_detail", "change_plan", "attendees", "record_held", "cancel", "resend_link", "add_material",
                 "sign_on_screen"]


def test_another_customers_session_is_not_found_on_any_page(client, planned_a, held_b, customer_user_a, engineer):
    client.force_login(customer_user_a)
    assert client.get(url("session_detail", planned_a)).status_code == 200
    assert client.get(url("session_detail", held_b)).status_code == 404
    assert client.get(url("sign_in_portal", held_b)).status_code == 404
    assert client.post(url("sign_in_portal", held_b), {**FEEDBACK, "signature": DATA_URL,
                                                        "version": held_b.version}).status_code == 404
    listed = client.get(reverse("training:session_list")).content.decode()
    assert f'data-session="{planned_a.pk}"' in listed and f'data-session="{held_b.pk}"' not in listed
    client.force_login(engineer)  # staff of branch A: branch B's session is not found either
    for name in SESSION_PAGES:
        assert client.get(url(name, held_b)).status_code == 404, name
    assert client.post(url("cancel", held_b), {"version": held_b.version, "reason": "x"}).status_code == 404
    assert state_of(held_b) == SessionState.HELD


def test_a_material_is_downloaded_only_through_the_scoped_page(client, planned_a, planned_b, engineer,
                                                                 general_manager, customer_user_a, customer_user_b):
    from django.core.files.base import ContentFile

    from aftersales.training import services

    material = services.add_material(session=planned_a, by=engineer,
                                     upload=ContentFile(b"%PDF-1.4 handout", name="讲义.pdf"))
    client.force_login(customer_user_a)
    response = client.get(url("material", material))
    assert response.status_code == 200 and response["Content-Security-Policy"] == "sandbox"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(customer_user_b)
    assert client.get(url("material", material)).status_code == 404


def test_customers_may_not_plan_or_record(client, planned_a, customer_user_a):
    client.force_login(customer_user_a)
    assert client.get(reverse("training:session_create")).status_code == 403
    assert client.post(url("record_held", planned_a), {"version": planned_a.version,
                                                       "present": [a.pk for a in planned_a.attendees.all()]}
                       ).status_code == 403
    assert client.get(url("sign_on_screen", planned_a)).status_code == 403
    assert state_of(planned_a) == SessionState.PLANNED


def test_the_engineer_plans_records_and_the_customer_signs_on_his_screen(client, frozen_clock, project_a, engineer):
    client.force_login(engineer)
    form = client.get(reverse("training:session_create") + f"?project={project_a.pk}")
    assert form.status_code == 200 and 'name="attendees"' in form.content.decode()
    now = clock.now().astimezone(clock.SHANGHAI)
    response = client.post(reverse("training:session_create"), {
        "project": project_a.pk, "title": "录像回放培训", "kind": "handover", "venue": "on_site", "place": "监控中心",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"), "ends_at": now.replace(hour=now.hour + 1).strftime("%Y-%m-%dT%H:%M"),
        "content": "回放\n导出", "trainers": [engineer.pk], "vendor_trainers": "",
        "attendees": "李强, 值班长, 13900000001\n王芳，值班员"})
    session = TrainingSession.objects.get()
    assert response.status_code == 302 and response["Location"] == session.get_absolute_url()
    assert list(session.attendees.order_by("pk").values_list("name", "role", "phone")) == [
        ("李强", "值班长", "13900000001"), ("王芳", "值班员", "")]
    page = client.get(session.get_absolute_url()).content.decode()
    assert 'data-action="record_held"' in page and 'data-action="sign_on_screen"' not in page
    li = session.attendees.get(name="李强")
    response = client.post(url("record_held", session), {"version": session.version, "present": [li.pk],
                                                          "walk_ins": "赵磊, 网管", "summary": "讲完"})
    assert response.status_code == 302 and state_of(session) == SessionState.HELD
    assert 'data-action="sign_on_screen"' in client.get(session.get_absolute_url()).content.decode()
    sign_page = client.get(url("sign_on_screen", session)).content.decode()
    assert "data-signature-form" in sign_page and "signature_pad" in sign_page
    refused = client.post(url("sign_on_screen", session), {**FEEDBACK, "version": current_version(session),
                                                            "signature": ""})
    assert refused.status_code == 200 and "signature-error invalid-feedback d-block" in refused.content.decode()
    assert not TrainingFeedback.objects.exists()
    signed = client.post(url("sign_on_screen", session), {**FEEDBACK, "version": current_version(session),
                                                           "signature": DATA_URL})
    assert signed.status_code == 302 and state_of(session) == SessionState.SIGNED
    feedback = TrainingFeedback.objects.get()
    assert (feedback.signed_via, feedback.recorded_by, feedback.signer_name) == ("screen", engineer, "马红梅")
    page = client.get(session.get_absolute_url()).content.decode()
    assert "feedback-card" in page and "data:image/png;base64," in page  # the signature inline, never a media URL


def test_the_customer_signs_in_the_portal(client, held_a, customer_user_a):
    client.force_login(customer_user_a)
    page = client.get(held_a.get_absolute_url()).content.decode()
    assert 'data-action="sign_in_portal"' in page and "awaiting-feedback" in page
    response = client.post(url("sign_in_portal", held_a), {**FEEDBACK, "version": current_version(held_a),
                                                            "signature": DATA_URL})
    assert response.status_code == 302
    feedback = TrainingFeedback.objects.get()
    assert (feedback.signed_via, feedback.signed_by) == ("portal", customer_user_a)


def test_feedback_on_a_planned_or_cancelled_session_is_a_conflict(client, planned_a, customer_user_a, engineer):
    client.force_login(customer_user_a)
    response = client.post(url("sign_in_portal", planned_a), {**FEEDBACK, "version": planned_a.version,
                                                               "signature": DATA_URL}, **HTMX)
    assert response.status_code == 409 and not TrainingFeedback.objects.exists()
    client.force_login(engineer)
    client.post(url("cancel", planned_a), {"version": planned_a.version, "reason": "业主改期"})
    assert state_of(planned_a) == SessionState.CANCELLED
    response = client.post(url("record_held", planned_a), {"version": current_version(planned_a),
                                                           "present": [a.pk for a in planned_a.attendees.all()]}, **HTMX)
    assert response.status_code == 409 and state_of(planned_a) == SessionState.CANCELLED
    assert "not-available" in client.get(url("record_held", planned_a)).content.decode()


def test_a_stale_form_is_a_conflict_and_writes_nothing(client, planned_a, engineer, dispatcher):
    seen = planned_a.version
    client.force_login(dispatcher)
    assert client.post(url("attendees", planned_a), {"version": seen, "name": "张三"}).status_code == 302
    client.force_login(engineer)
    response = client.post(url("cancel", planned_a), {"version": seen, "reason": "改期"}, **HTMX)
    assert response.status_code == 409 and state_of(planned_a) == SessionState.PLANNED
    response = client.post(url("cancel", planned_a), {"version": seen, "reason": "改期"})  # a plain form post
    body = response.content.decode()
    assert response.status_code == 200 and f'name="version" value="{current_version(planned_a)}"' in body
    assert state_of(planned_a) == SessionState.PLANNED


def test_an_attendee_is_invited_and_removed_while_planned(client, planned_a, engineer):
    client.force_login(engineer)
    client.post(url("attendees", planned_a), {"version": planned_a.version, "name": "张三", "role": "保安"})
    zhang = planned_a.attendees.get(name="张三")
    response = client.post(url("attendees", planned_a), {"version": current_version(planned_a), "attendee": zhang.pk})
    assert response.status_code == 302 and not planned_a.attendees.filter(name="张三").exists()


def test_materials_are_uploaded_and_bad_files_refused(client, planned_a, engineer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(engineer)
    ok = client.post(url("add_material", planned_a), {"file": SimpleUploadedFile("slides.pdf", b"%PDF-1.7 x")})
    assert ok.status_code == 302 and TrainingMaterial.objects.count() == 1
    bad = client.post(url("add_material", planned_a), {"file": SimpleUploadedFile("x.exe", b"\x00\x01\xfe\xff")})
    assert bad.status_code == 200 and "invalid-feedback" in bad.content.decode()
    assert TrainingMaterial.objects.count() == 1


@pytest.mark.parametrize("n", [3, 20])
def test_the_list_costs_the_same_for_3_or_20_sessions(client, frozen_clock, project_a, engineer, n,
                                                      django_assert_max_num_queries):
    for i in range(n):
        plan(project_a, engineer, title=f"培训{i}")
    client.force_login(engineer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("training:session_list"))
    assert response.status_code == 200 and response.content.decode().count("data-session=") == n


def test_the_customer_does_not_see_our_history_of_the_session(client, held_a, customer_user_a, engineer):
    client.force_login(customer_user_a)
    assert "training-log" not in client.get(held_a.get_absolute_url()).content.decode()
    client.force_login(engineer)
    assert "training-log" in client.get(held_a.get_absolute_url()).content.decode()
