"""The pages: a plan made on its form generates its rounds; the round page records an answer with the form drawn for
it (sent twice, stored once); a missing photo is shown under the form, nothing written; the API's plan and checklist
writes."""

import uuid
from datetime import date

from django.urls import reverse

from aftersales.inspections.models import Answer, ChecklistTemplate, InspectionPlan

from ..conftest import api_as
from ..factories import current_version
from .conftest import items_of


def test_a_plan_made_on_its_page_generates_its_rounds(frozen_clock, client, dispatcher, project_a, camera_checklist,
                                                      engineer):
    client.force_login(dispatcher)
    assert client.get(reverse("inspections:plan_create")).status_code == 200
    response = client.post(reverse("inspections:plan_create"), {
        "project": project_a.pk, "name": "季度巡检", "cadence": "quarterly", "starts_on": "2026-12-31",
        "checklists": [camera_checklist.pk], "selection": "categories", "engineers": [engineer.pk],
        "horizon_days": 200})
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = InspectionPlan.objects.get()
    assert (plan.anchor_day, plan.anchor_month) == (31, 2)
    assert list(plan.rounds.values_list("due_on", flat=True)) == [date(2026, 12, 31), date(2027, 3, 31)]
    assert client.get(plan.get_absolute_url()).status_code == 200
    page = client.post(reverse("inspections:plan_edit", args=[plan.pk]), {
        "version": plan.version - 1, "name": "x", "cadence": "monthly", "starts_on": "2026-12-31",
        "checklists": [camera_checklist.pk], "selection": "categories", "engineers": [engineer.pk],
        "horizon_days": 90, "is_active": "on"})
    assert page.status_code == 200 and InspectionPlan.objects.get().name == "季度巡检"  # stale: refused, shown


def test_the_engineer_records_an_answer_on_the_round_page(frozen_clock, client, started_a, engineer):
    client.force_login(engineer)
    page = client.get(started_a.get_absolute_url())
    assert page.status_code == 200 and 'name="a' in page.content.decode()
    check, items = items_of(started_a)
    prefix = f"a{check.pk}-{items[0].pk}"
    body = {f"{prefix}-client_id": str(uuid.uuid4()), f"{prefix}-device": check.device_id,
            f"{prefix}-item": items[0].pk, f"{prefix}-passed": "true", f"{prefix}-answered_at": "2026-11-26T01:50:00Z"}
    url = reverse("inspections:answer", args=[started_a.pk])
    assert client.post(url, body).status_code == 302
    assert client.post(url, body).status_code == 302  # a double tap
    assert Answer.objects.count() == 1
    evidence = f"a{check.pk}-{items[1].pk}"
    refused = client.post(url, {f"{evidence}-client_id": str(uuid.uuid4()), f"{evidence}-device": check.device_id,
                                f"{evidence}-item": items[1].pk, f"{evidence}-passed": "true"})
    assert refused.status_code == 200 and "invalid-feedback" in refused.content.decode()
    assert Answer.objects.count() == 1


def test_the_round_list_plans_checklists_and_completion_pages_answer(frozen_clock, client, manager, round_a,
                                                                     camera_checklist):
    client.force_login(manager)
    for name in ("round_list", "plan_list", "checklist_list", "completion", "checklist_create"):
        assert client.get(reverse(f"inspections:{name}")).status_code == 200, name
    assert client.get(reverse("inspections:round_list"), {"month": "2026-11", "state": "scheduled"}).status_code == 200
    assert client.get(reverse("inspections:round_list"), {"month": "11/2026"}).status_code == 200
    assert client.get(camera_checklist.get_absolute_url()).status_code == 200


def test_checklists_and_plans_through_the_api(frozen_clock, manager, device_a, engineer, project_a):
    api = api_as(manager)
    created = api.post(reverse("checklist-list"), {"category": device_a.category_id, "name": "枪机", "items": [
        {"kind": "pass_fail", "label": "图像清晰"}, {"kind": "reading", "label": "温度", "unit": "℃",
                                                     "min_value": "0", "max_value": "60"}]}, format="json")
    assert created.status_code == 201, created.json()
    bad = api.post(reverse("checklist-list"), {"category": device_a.category_id, "name": "坏", "items": [
        {"kind": "pass_fail", "label": "x", "min_value": "1"}]}, format="json")
    assert bad.status_code == 400 and "items" in bad.json()["fields"]
    checklist = ChecklistTemplate.objects.get(name="枪机")
    revised = api.post(reverse("checklist-revise", args=[checklist.pk]), {
        "version": checklist.version, "items": [{"kind": "photo", "label": "整体照片"}]}, format="json")
    assert revised.status_code == 200 and revised.json()["current_version"] == 2
    stale = api.post(reverse("checklist-revise", args=[checklist.pk]), {
        "version": checklist.version, "items": [{"kind": "photo", "label": "整体照片"}]}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    plan = api.post(reverse("inspectionplan-list"), {
        "project": project_a.pk, "name": "月检", "cadence": "monthly", "starts_on": "2026-11-30",
        "checklists": [checklist.pk], "engineers": [engineer.pk]}, format="json")
    assert plan.status_code == 201, plan.json()
    pk = plan.json()["id"]
    patched = api.patch(reverse("inspectionplan-detail", args=[pk]), {"version": 1, "anchor_day": 15}, format="json")
    assert patched.status_code == 200 and patched.json()["anchor_day"] == 15
    assert api.patch(reverse("inspectionplan-detail", args=[pk]), {"version": 1, "anchor_day": 3},
                     format="json").status_code == 409
    wrong = api.patch(reverse("inspectionplan-detail", args=[pk]), {"version": 2, "engineers": [manager.pk]},
                      format="json")
    assert wrong.status_code == 400 and "engineers" in wrong.json()["fields"]
    rounds = api.get(reverse("inspectionround-list"), {"plan": pk, "month": "2026-12"}).json()["results"]
    assert [r["due_on"] for r in rounds] == ["2026-12-15"]
    assert api.get(reverse("inspectionround-list"), {"month": "2026-13"}).status_code == 400
    started = api_as(engineer).post(reverse("inspectionround-start", args=[rounds[0]["id"]]),
                                    {"version": rounds[0]["version"]}, format="json")
    assert started.status_code == 400 and "started_at" in started.json()["fields"]  # December's window is not open
    assert current_version(InspectionPlan.objects.get(pk=pk)) == 2
