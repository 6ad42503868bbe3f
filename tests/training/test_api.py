"""Trainings and handover checklists over the API: scoped lists and details, one POST per verb, 400/403/404/409 in
the one error body, nothing written by a refused call."""

from django.core.files.uploadedfile import SimpleUploadedFile

from aftersales.core import clock
from aftersales.training import services
from aftersales.training.models import (
    HandoverItem,
    SessionState,
    TrainingFeedback,
    TrainingSession,
)

from ..conftest import api_as
from ..factories import current_version
from .conftest import FEEDBACK, PNG


def url(session, verb=""):
    return f"/api/training-sessions/{session.pk}/" + (f"{verb}/" if verb else "")


def png():
    return SimpleUploadedFile("signature.png", PNG, content_type="image/png")


def test_a_session_is_planned_held_and_signed_over_the_api(frozen_clock, project_a, engineer, customer_user_a):
    staff = api_as(engineer)
    start = clock.now().replace(microsecond=0)
    created = staff.post("/api/training-sessions/", {
        "project": project_a.pk, "title": "平台操作培训", "kind": "handover", "venue": "company",
        "starts_at": start.isoformat(), "ends_at": (start.replace(hour=start.hour + 2)).isoformat(),
        "content": "回放", "trainers": [engineer.pk],
        "attendees": [{"name": "李强", "role": "值班长"}, {"name": "王芳"}]}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["state"], body["number"], len(body["attendees"])) == ("planned", f"PX{body['id']:05d}", 2)
    session = TrainingSession.objects.get(pk=body["id"])
    held = staff.post(url(session, "held"), {"version": body["version"],
                                             "present": [a["id"] for a in body["attendees"]],
                                             "walk_ins": [{"name": "赵磊"}]}, format="json")
    assert held.status_code == 200, held.json()
    assert held.json()["state"] == "held" and [a["attended"] for a in held.json()["attendees"]] == [True] * 3
    customer = api_as(customer_user_a)
    no_signature = customer.post(url(session, "feedback"), {**FEEDBACK, "version": held.json()["version"]},
                                 format="multipart")
    assert no_signature.status_code == 400
    assert no_signature.json()["code"] == "invalid" and "signature" in no_signature.json()["fields"]
    assert not TrainingFeedback.objects.exists()
    signed = customer.post(url(session, "feedback"), {**FEEDBACK, "version": held.json()["version"],
                                                      "signature": png()}, format="multipart")
    assert signed.status_code == 200, signed.json()
    assert signed.json()["state"] == "signed" and signed.json()["feedback"]["signed_via"] == "portal"
    assert TrainingFeedback.objects.get().signed_by == customer_user_a


def test_bad_input_is_a_400_on_its_field(frozen_clock, project_a, project_b, engineer):
    staff = api_as(engineer)
    start = clock.now().replace(microsecond=0)
    response = staff.post("/api/training-sessions/", {
        "project": project_a.pk, "title": "x", "kind": "handover", "venue": "company", "starts_at": start.isoformat(),
        "ends_at": start.isoformat(), "content": "回放", "trainers": [engineer.pk]}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert "ends_at" in response.json()["fields"]
    foreign = staff.post("/api/training-sessions/", {
        "project": project_b.pk, "title": "x", "kind": "handover", "venue": "company", "starts_at": start.isoformat(),
        "ends_at": start.replace(hour=start.hour + 1).isoformat(), "content": "回放", "trainers": [engineer.pk]},
        format="json")
    assert foreign.status_code == 400 and "project" in foreign.json()["fields"]  # another branch's: no leak
    assert not TrainingSession.objects.exists()


def test_another_customers_session_is_a_404_on_read_and_write(held_a, held_b, customer_user_a, engineer):
    customer = api_as(customer_user_a)
    assert customer.get(url(held_a)).status_code == 200
    assert customer.get(url(held_b)).status_code == 404
    response = customer.post(url(held_b, "feedback"), {**FEEDBACK, "version": held_b.version, "signature": png()},
                             format="multipart")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    listed = customer.get("/api/training-sessions/").json()["results"]
    assert [row["id"] for row in listed] == [held_a.pk]
    assert api_as(engineer).post(url(held_b, "cancel"), {"version": held_b.version, "reason": "x"},
                                 format="json").status_code == 404
    assert TrainingSession.objects.get(pk=held_b.pk).state == SessionState.HELD


def test_a_customer_may_not_plan_record_or_cancel(planned_a, customer_user_a):
    customer = api_as(customer_user_a)
    assert customer.post(url(planned_a, "cancel"), {"version": planned_a.version, "reason": "x"},
                         format="json").status_code == 403
    assert customer.post(url(planned_a, "held"), {"version": planned_a.version}, format="json").status_code == 403
    assert TrainingSession.objects.get(pk=planned_a.pk).state == SessionState.PLANNED


def test_feedback_for_a_session_not_held_or_a_stale_version_is_a_409(planned_a, engineer, customer_user_a):
    customer = api_as(customer_user_a)
    response = customer.post(url(planned_a, "feedback"), {**FEEDBACK, "version": planned_a.version,
                                                          "signature": png()}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (409, "illegal_transition")
    staff = api_as(engineer)
    seen = planned_a.version
    assert staff.post(url(planned_a, "attendees"), {"version": seen, "name": "张三"}, format="json").status_code == 200
    stale = staff.post(url(planned_a, "cancel"), {"version": seen, "reason": "改期"}, format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    assert TrainingSession.objects.get(pk=planned_a.pk).state == SessionState.PLANNED
    cancelled = staff.post(url(planned_a, "cancel"), {"version": current_version(planned_a), "reason": "改期"},
                           format="json")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    again = staff.post(url(planned_a, "held"), {"version": current_version(planned_a),
                                                "present": [a.pk for a in planned_a.attendees.all()]}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")
    assert not TrainingFeedback.objects.exists()


def test_staff_record_a_signature_drawn_on_their_screen(held_a, engineer):
    response = api_as(engineer).post(url(held_a, "feedback"), {**FEEDBACK, "version": held_a.version,
                                                               "signature": png()}, format="multipart")
    assert response.status_code == 200 and response.json()["feedback"]["signed_via"] == "screen"
    bad = api_as(engineer).post(url(held_a, "feedback"), {**FEEDBACK, "version": current_version(held_a),
                                                          "signature": png()}, format="multipart")
    assert bad.status_code == 409


def test_a_material_is_uploaded_over_the_api(planned_a, engineer):
    response = api_as(engineer).post(url(planned_a, "materials"),
                                     {"file": SimpleUploadedFile("手册.pdf", b"%PDF-1.7 x")}, format="multipart")
    assert response.status_code == 201 and response.json()["url"] == f"/training/materials/{response.json()['id']}/"
    bad = api_as(engineer).post(url(planned_a, "materials"), {"file": SimpleUploadedFile("x.bin", b"\x00\xff\xfe")},
                                format="multipart")
    assert bad.status_code == 400 and "file" in bad.json()["fields"]


def test_the_checklist_over_the_api(frozen_clock, project_a, project_b, engineer, customer_user_a, held_a):
    staff = api_as(engineer)
    added = staff.post("/api/handover-items/standard/", {"project": project_a.pk}, format="json")
    assert added.status_code == 201 and len(added.json()) == 7
    assert staff.post("/api/handover-items/standard/", {"project": project_b.pk},
                      format="json").status_code == 400  # another branch's project
    items = HandoverItem.objects.filter(project=project_a).order_by("position")
    for item in items:
        done = staff.post(f"/api/handover-items/{item.pk}/demonstrated/", {
            "version": item.version, "demonstrated_by": "李强", "session": held_a.pk}, format="json")
        assert done.status_code == 200, done.json()
    stale = staff.post(f"/api/handover-items/{items[0].pk}/reopen/", {"version": items[0].version, "reason": "x"},
                       format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    customer = api_as(customer_user_a)
    status = customer.get(f"/api/handover-projects/{project_a.pk}/").json()
    assert (status["items_total"], status["items_done"], status["independent"]) == (7, 7, True)
    assert customer.get(f"/api/handover-projects/{project_b.pk}/").status_code == 404
    assert customer.post("/api/handover-items/", {"project": project_a.pk, "capability": "x"},
                         format="json").status_code == 403
    services.add_checklist_item(project=project_a, by=engineer, capability="导出过车记录")
    assert customer.get(f"/api/handover-projects/{project_a.pk}/").json()["independent"] is False
