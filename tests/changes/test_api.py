"""LOG-3 over the API: a customer's system creates and reads its own notices; staff list, read, record tests and
answer; 400 names the field, 403 for a customer recording or answering, 404 for another customer's notice, 409 for a
stale version, each in the one error body and with nothing written."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aftersales.changes.models import (
    ChangeNotice,
    CompatibilityTest,
    NoticeChannel,
    NoticeState,
)
from aftersales.core import clock
from aftersales.notify.models import OutboxMessage

from ..conftest import api_as
from ..factories import current_version
from .conftest import submit, test

URL = "/api/change-notices/"


def body(project, starts_in=timedelta(days=2), **overrides):
    starts = clock.now().replace(microsecond=0) + starts_in
    return {"project": project.pk, "kind": "server", "title": "存储服务器扩容", "description": "增加 4 块硬盘",
            "window_starts_at": starts.isoformat(), "window_ends_at": (starts + timedelta(hours=4)).isoformat(),
            **overrides}


def test_a_customer_creates_lists_and_reads_its_own_notice(frozen_clock, project_a, device_a, customer_user_a,
                                                           dispatcher, notice_b):
    client = api_as(customer_user_a)
    created = client.post(URL, body(project_a, devices=[device_a.pk]), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    notice = ChangeNotice.objects.get(pk=data["id"])
    assert (data["state"], data["channel"], data["number"], data["devices"]) == (
        "submitted", NoticeChannel.API, f"BG{notice.pk:05d}", [device_a.pk])
    assert data["answer_due_at"] and data["tests"] == []
    listed = client.get(URL).json()
    assert [row["id"] for row in listed["results"]] == [notice.pk]  # not customer B's
    assert client.get(f"{URL}{notice_b.pk}/").status_code == 404
    assert OutboxMessage.objects.filter(event="change_notice_submitted", about_id=str(notice.pk)).exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"window_starts_at": "2026-11-26T09:00:00+08:00"}, "window_starts_at"),  # in the past (the clock: 10:00)
    ({"kind": "reboot"}, "kind"),
    ({"title": ""}, "title"),
])
def test_a_bad_notice_is_a_400_naming_the_field(frozen_clock, project_a, customer_user_a, change, field):
    response = api_as(customer_user_a).post(URL, body(project_a, **change), format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()
    assert response.json()["code"] == "invalid" and not ChangeNotice.objects.exists()


def test_another_customers_project_or_device_is_a_400(frozen_clock, project_a, project_b, device_b, customer_user_a):
    client = api_as(customer_user_a)
    assert "project" in client.post(URL, body(project_b), format="json").json()["fields"]
    assert "devices" in client.post(URL, body(project_a, devices=[device_b.pk]), format="json").json()["fields"]
    assert not ChangeNotice.objects.exists()


def test_staff_record_a_test_and_answer_over_the_api(notice_a, engineer, customer_user_a):
    staff = api_as(engineer)
    recorded = staff.post(f"{URL}{notice_a.pk}/tests/", {
        "version": current_version(notice_a), "subject": "实验室测试", "result": "passed", "evidence": "正常",
        "evidence_file": SimpleUploadedFile("log.txt", "全部通过\n".encode())}, format="multipart")
    assert recorded.status_code == 201, recorded.json()
    assert recorded.json()["evidence_type"] == "text/plain" and recorded.json()["evidence_url"]
    assert [t["subject"] for t in api_as(customer_user_a).get(f"{URL}{notice_a.pk}/tests/").json()] == ["实验室测试"]
    stale = staff.post(f"{URL}{notice_a.pk}/answer/", {"version": 1, "verdict": "compatible", "answer": "兼容"},
                       format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    answered = staff.post(f"{URL}{notice_a.pk}/answer/", {"version": current_version(notice_a),
                                                            "verdict": "incompatible", "answer": "不兼容"}, format="json")
    assert answered.status_code == 200 and answered.json()["state"] == "answered"
    again = staff.post(f"{URL}{notice_a.pk}/answer/", {"version": current_version(notice_a),
                                                        "verdict": "compatible", "answer": "兼容"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")


def test_a_customer_cannot_record_a_test_or_answer(notice_a, customer_user_a):
    client = api_as(customer_user_a)
    tested = client.post(f"{URL}{notice_a.pk}/tests/", {"version": 1, "subject": "x", "result": "passed",
                                                        "evidence": "x"}, format="json")
    answered = client.post(f"{URL}{notice_a.pk}/answer/", {"version": 1, "verdict": "compatible", "answer": "x"},
                           format="json")
    assert (tested.status_code, answered.status_code) == (403, 403)
    assert tested.json()["code"] == "permission_denied"
    assert not CompatibilityTest.objects.exists() and ChangeNotice.objects.get().state == NoticeState.SUBMITTED


def test_answering_without_a_test_is_a_400_on_the_verdict(notice_a, engineer):
    response = api_as(engineer).post(f"{URL}{notice_a.pk}/answer/", {
        "version": current_version(notice_a), "verdict": "compatible", "answer": "兼容"}, format="json")
    assert response.status_code == 400 and "verdict" in response.json()["fields"]


def test_other_branch_staff_get_a_404(notice_a, general_manager, engineer, project_b, customer_user_b):
    other = submit(project_b, customer_user_b)
    assert api_as(engineer).post(f"{URL}{other.pk}/tests/", {"version": 1, "subject": "x", "result": "passed",
                                                              "evidence": "x"}, format="json").status_code == 404
    assert api_as(engineer).get(f"{URL}{other.pk}/").status_code == 404
    assert api_as(general_manager).get(f"{URL}{notice_a.pk}/").status_code == 200  # sees every branch


def test_the_customer_withdraws_over_the_api(notice_a, customer_user_a):
    response = api_as(customer_user_a).post(f"{URL}{notice_a.pk}/withdraw/", {
        "version": current_version(notice_a), "reason": "推迟"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "withdrawn"


@pytest.mark.parametrize("n", [3, 30])
def test_the_api_list_costs_the_same_for_3_or_30_notices(n, frozen_clock, project_a, customer_user_a, engineer,
                                                         dispatcher, django_assert_max_num_queries):
    for _ in range(n):
        notice = submit(project_a, customer_user_a)
        test(notice, engineer)
    client = api_as(dispatcher)
    client.get(URL)
    with django_assert_max_num_queries(5):  # user's perms (x2), COUNT, the page
        assert len(client.get(URL, {"page_size": 50}).json()["results"]) == n
