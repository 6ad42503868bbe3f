"""SRQ-8: incident reports through the API; attachments added later."""

from django.core.files.uploadedfile import SimpleUploadedFile

from aftersales.service import verbs
from aftersales.service.models import Attachment, EventKind, TimelineEvent

from ..conftest import api_as

REPORT = {"cause": "核心交换机电源模块老化", "impact": "东区 40 路视频中断 3 小时", "timeline": "09:10 报修,09:40 到场,12:05 恢复",
          "fix": "更换电源模块", "prevention": "双电源冗余,季度巡检检查电源"}


def open_fault(by, project):
    return verbs.open_request(by=by, project=project, priority="serious", channel="phone", title="东区视频中断",
                              description="交换机掉电")


def test_report_is_written_submitted_and_confirmed_by_the_customer(frozen_clock, dispatcher, customer_user_a, project_a):
    request = open_fault(dispatcher, project_a)
    desk = api_as(dispatcher)
    draft = desk.post("/api/incident-reports/", {"request": request.pk, **REPORT}, format="json")
    assert draft.status_code == 201, draft.json()
    submitted = desk.post(f"/api/incident-reports/{draft.json()['id']}/submit/", {"version": draft.json()["version"]}, format="json")
    assert submitted.status_code == 200 and submitted.json()["state"] == "awaiting"
    answer = api_as(customer_user_a).post(f"/api/incident-reports/{draft.json()['id']}/answer/",
                                          {"accept": True, "version": submitted.json()["version"]}, format="json")
    assert answer.status_code == 200 and answer.json()["state"] == "confirmed"
    steps = [e.data["step"] for e in TimelineEvent.objects.filter(request=request, kind=EventKind.INCIDENT_REPORT)]
    assert steps == ["drafted", "submitted", "confirmed"]


def test_rejection_needs_a_reason_and_sends_the_report_back(frozen_clock, dispatcher, customer_user_a, project_a):
    request = open_fault(dispatcher, project_a)
    report = verbs.save_incident_report(request=request, by=dispatcher, version=None, **REPORT)
    report = verbs.submit_incident_report(report=report, by=dispatcher, version=report.version)
    customer = api_as(customer_user_a)
    bad = customer.post(f"/api/incident-reports/{report.pk}/answer/", {"accept": False, "version": report.version},
                        format="json")
    assert bad.status_code == 400 and "reason" in bad.json()["fields"]
    good = customer.post(f"/api/incident-reports/{report.pk}/answer/",
                         {"accept": False, "reason": "时间经过不准确", "version": report.version}, format="json")
    assert good.status_code == 200 and good.json()["state"] == "rejected"


def test_missing_part_is_a_400_and_another_customer_cannot_see_the_report(frozen_clock, dispatcher, customer_user_b, project_a):
    request = open_fault(dispatcher, project_a)
    response = api_as(dispatcher).post("/api/incident-reports/", {"request": request.pk, **REPORT, "prevention": ""}, format="json")
    assert response.status_code == 400 and "prevention" in response.json()["fields"]
    report = verbs.save_incident_report(request=request, by=dispatcher, version=None, **REPORT)
    assert api_as(customer_user_b).get(f"/api/incident-reports/{report.pk}/").status_code == 404


def test_attachments_are_sniffed_and_a_bad_file_writes_nothing(frozen_clock, dispatcher, customer_user_a, project_a):
    request = open_fault(dispatcher, project_a)
    customer = api_as(customer_user_a)
    png = SimpleUploadedFile("屏幕截图.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")
    exe = SimpleUploadedFile("report.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\xff\xfe\x00", content_type="image/png")
    bad = customer.post(f"/api/requests/{request.pk}/attachments/", {"files": [png, exe]}, format="multipart")
    assert bad.status_code == 400 and Attachment.objects.count() == 0
    png.seek(0)
    good = customer.post(f"/api/requests/{request.pk}/attachments/", {"files": [png]}, format="multipart")
    assert good.status_code == 201 and good.json()[0]["content_type"] == "image/png"
    assert TimelineEvent.objects.filter(request=request, kind=EventKind.ATTACHMENT).count() == 1
