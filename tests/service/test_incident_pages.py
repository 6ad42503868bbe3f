"""SRQ-8 pages: the incident report written and submitted on the request page, confirmed or rejected by the
customer in the portal or by the signed link; attachments added to a request later (all or nothing)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aftersales.core.errors import DomainError
from aftersales.service import verbs
from aftersales.service.confirmation import INCIDENT_SALT, confirmation_token, incident_confirmation_token
from aftersales.service.models import (
    Attachment, Channel, EventKind, IncidentReport, Priority, TimelineEvent, WorkOrderState,
)

from ..factories import current_version
from .test_pages import PNG, HTMX, dispatcher_b, media_files  # noqa: F401  (dispatcher_b is a fixture)

REPORT = {"cause": "核心交换机电源模块老化", "impact": "东区 40 路视频中断 3 小时",
          "timeline": "09:10 报修，09:40 到场，12:05 恢复", "fix": "更换电源模块", "prevention": "双电源冗余，季度巡检检查电源"}


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def as_user(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def fault(frozen_clock, dispatcher, project_a):
    return verbs.open_request(by=dispatcher, project=project_a, priority=Priority.SERIOUS, channel=Channel.PHONE,
                              title="东区视频中断", description="交换机掉电")


@pytest.fixture
def submitted(fault, dispatcher):
    report = verbs.save_incident_report(request=fault, by=dispatcher, version=None, **REPORT)
    return verbs.submit_incident_report(report=report, by=dispatcher, version=current_version(report))


def url(name, request_obj):
    return reverse(f"service:{name}", args=[request_obj.pk])


def steps(request_obj):
    return [e.data["step"] for e in TimelineEvent.objects.filter(request=request_obj, kind=EventKind.INCIDENT_REPORT)
            .order_by("at", "pk")]


# ------------------------------------------------------------------------------------------ staff write and submit

def test_staff_writes_revises_and_submits_the_report(client, dispatcher, customer_user_a, fault):
    as_user(client, dispatcher)
    page = client.get(fault.get_absolute_url()).content.decode()
    assert 'id="action-incident_report"' in page and 'id="action-submit_incident"' not in page
    assert 'id="incident-report"' not in page

    response = client.post(url("incident_report", fault), {**REPORT, "prevention": ""}, **HTMX)
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    assert not IncidentReport.objects.exists()

    response = client.post(url("incident_report", fault), REPORT)
    assert response.status_code == 302 and response["Location"] == fault.get_absolute_url()
    report = IncidentReport.objects.get(request=fault)
    assert report.state == WorkOrderState.DRAFT and report.author == dispatcher and report.cause == REPORT["cause"]

    # The customer does not see a draft.
    customer_page = as_user(client, customer_user_a).get(fault.get_absolute_url()).content.decode()
    assert REPORT["cause"] not in customer_page and 'id="action-answer_incident"' not in customer_page

    as_user(client, dispatcher)
    page = client.get(fault.get_absolute_url()).content.decode()
    assert 'id="incident-report"' in page and 'data-state="draft"' in page and REPORT["cause"] in page
    assert 'id="action-submit_incident"' in page and 'name="report_version"' in page

    response = client.post(url("incident_report", fault), {**REPORT, "fix": "更换电源模块并紧固端子",
                                                           "report_version": report.version}, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == fault.get_absolute_url()
    report.refresh_from_db()
    assert report.fix == "更换电源模块并紧固端子"

    response = client.post(url("submit_incident", fault), {"report_version": report.version})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == WorkOrderState.AWAITING_CONFIRMATION and report.submitted_at
    assert steps(fault) == ["drafted", "revised", "submitted"]
    page = client.get(fault.get_absolute_url()).content.decode()
    assert 'data-state="awaiting"' in page and "Submitted to the customer" in page
    assert 'id="action-incident_report"' not in page and 'id="action-submit_incident"' not in page

    # A submitted report is not edited: a clear 409, never a silent change.
    response = client.post(url("incident_report", fault), {**REPORT, "cause": "改", "report_version": report.version}, **HTMX)
    assert response.status_code == 409 and "cannot be edited" in response.content.decode()
    report.refresh_from_db()
    assert report.cause == REPORT["cause"]


def test_a_concurrent_save_is_a_conflict_and_the_first_is_kept(client, dispatcher, manager, fault):
    seen = verbs.save_incident_report(request=fault, by=dispatcher, version=None, **REPORT).version
    verbs.save_incident_report(request=fault, by=manager, version=seen, **{**REPORT, "cause": "第一位的原因"})
    response = as_user(client, dispatcher).post(url("incident_report", fault),
                                                {**REPORT, "cause": "第二位的原因", "report_version": seen})
    page = response.content.decode()
    assert response.status_code == 200 and "Someone else changed this record" in page
    assert "第一位的原因" in page and "第二位的原因" in page  # the report as saved now, and the text typed
    assert IncidentReport.objects.get().cause == "第一位的原因"


def test_a_second_first_draft_does_not_overwrite_the_first(client, dispatcher, manager, fault):
    as_user(client, dispatcher)
    client.get(url("incident_report", fault))  # the form, shown while no report exists
    verbs.save_incident_report(request=fault, by=manager, version=None, **{**REPORT, "cause": "经理写的"})
    response = client.post(url("incident_report", fault), {**REPORT, "cause": "调度写的"}, **HTMX)
    assert response.status_code == 409
    assert IncidentReport.objects.get().cause == "经理写的"


def test_submit_without_a_report_is_a_clear_message(client, dispatcher, fault):
    response = as_user(client, dispatcher).post(url("submit_incident", fault), {"report_version": 1}, **HTMX)
    assert response.status_code == 409 and "no incident report to submit" in response.content.decode()


def test_customer_and_engineer_permissions(client, customer_user_a, fault, submitted):
    as_user(client, customer_user_a)
    for name in ("incident_report", "submit_incident"):
        assert client.get(url(name, fault)).status_code == 403
        assert client.post(url(name, fault), {**REPORT, "report_version": submitted.version}).status_code == 403
    assert IncidentReport.objects.get().state == WorkOrderState.AWAITING_CONFIRMATION


# ------------------------------------------------------------------------------------------ the customer answers

def test_customer_confirms_in_the_portal(client, customer_user_a, dispatcher, fault, submitted):
    as_user(client, customer_user_a)
    page = client.get(fault.get_absolute_url()).content.decode()
    assert 'id="action-answer_incident"' in page and REPORT["cause"] in page and 'data-state="awaiting"' in page
    assert client.get(url("answer_incident", fault)).status_code == 200
    response = client.post(url("answer_incident", fault), {"decision": "confirm", "confirm-report_version": submitted.version})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.CONFIRMED and submitted.confirmed_by == customer_user_a
    assert steps(fault) == ["drafted", "submitted", "confirmed"]
    page = client.get(fault.get_absolute_url()).content.decode()
    assert 'data-state="confirmed"' in page and 'id="action-answer_incident"' not in page
    # A second answer (an old tab) is a clear conflict, not a second event.
    response = client.post(url("answer_incident", fault), {"decision": "confirm", "confirm-report_version": submitted.version - 1},
                           **HTMX)
    assert response.status_code == 409
    assert steps(fault) == ["drafted", "submitted", "confirmed"]


def test_reject_needs_a_reason_and_the_staff_see_it(client, customer_user_a, dispatcher, fault, submitted):
    as_user(client, customer_user_a)
    refs = {"decision": "reject", "reject-report_version": submitted.version}
    response = client.post(url("answer_incident", fault), {**refs, "reject-reason": "  "})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.AWAITING_CONFIRMATION and steps(fault) == ["drafted", "submitted"]

    response = client.post(url("answer_incident", fault), {**refs, "reject-reason": "时间经过不准确"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.REJECTED and submitted.rejection_reason == "时间经过不准确"
    assert steps(fault) == ["drafted", "submitted", "rejected"]

    page = as_user(client, dispatcher).get(fault.get_absolute_url()).content.decode()
    assert 'data-state="rejected"' in page and "Rejected by the customer" in page and "时间经过不准确" in page
    assert 'id="action-incident_report"' in page and 'id="action-submit_incident"' in page
    # Revised and submitted again: the customer answers the new version.
    client.post(url("incident_report", fault), {**REPORT, "timeline": "09:05 报修", "report_version": submitted.version})
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.DRAFT and "Last rejected by the customer" in client.get(
        fault.get_absolute_url()).content.decode()
    client.post(url("submit_incident", fault), {"report_version": submitted.version})
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.AWAITING_CONFIRMATION and submitted.rejection_reason == ""


def test_another_customer_gets_404_on_the_reports_actions(client, customer_user_b, dispatcher_b, fault, submitted):  # noqa: F811
    answer = url("answer_incident", fault)
    confirm = {"decision": "confirm", "confirm-report_version": submitted.version}
    reject = {"decision": "reject", "reject-report_version": submitted.version, "reject-reason": "不"}
    as_user(client, customer_user_b)  # may confirm reports, but not this one: it does not exist for them
    assert client.get(answer).status_code == 404
    assert client.post(answer, confirm).status_code == 404 and client.post(answer, reject).status_code == 404
    assert client.get(url("add_attachments", fault)).status_code == 404
    assert client.get(url("incident_report", fault)).status_code == 403  # not staff
    as_user(client, dispatcher_b)  # staff of another branch
    for name in ("incident_report", "submit_incident", "add_attachments"):
        assert client.get(url(name, fault)).status_code == 404, name
    assert client.post(url("submit_incident", fault), {"report_version": submitted.version}).status_code == 404
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.AWAITING_CONFIRMATION and steps(fault) == ["drafted", "submitted"]


# ------------------------------------------------------------------------------------------ the signed link

def test_the_link_works_once_then_says_used(client, fault, submitted):
    link = reverse("service:confirm_incident_by_link", args=[incident_confirmation_token(submitted)])
    page = client.get(link).content.decode()
    assert REPORT["cause"] in page and REPORT["prevention"] in page and fault.number in page
    assert 'class="card card-body mb-3 incident-confirm-form"' in page
    response = client.post(link, {"decision": "confirm"})
    assert response.status_code == 200 and "The incident report is confirmed" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.CONFIRMED
    assert TimelineEvent.objects.get(request=fault, kind=EventKind.INCIDENT_REPORT, data__step="confirmed").data["via"] == "link"
    for response in (client.get(link), client.post(link, {"decision": "confirm"}),
                     client.post(link, {"decision": "reject", "reject-signer_name": "张", "reject-reason": "不"})):
        page = response.content.decode()
        assert response.status_code == 410 and "already been used" in page and "incident-confirm-form" not in page
    assert steps(fault) == ["drafted", "submitted", "confirmed"]


def test_the_link_rejects_with_a_reason_and_the_name(client, fault, submitted):
    link = reverse("service:confirm_incident_by_link", args=[incident_confirmation_token(submitted)])
    response = client.post(link, {"decision": "reject", "reject-signer_name": "张科长", "reject-reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.AWAITING_CONFIRMATION
    response = client.post(link, {"decision": "reject", "reject-signer_name": "张科长", "reject-reason": "影响范围写少了"})
    assert response.status_code == 200 and "The incident report is rejected" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.REJECTED and "影响范围写少了" in submitted.rejection_reason
    assert "张科长" in submitted.rejection_reason
    assert "already been used" in client.get(link).content.decode()


def test_a_link_answered_by_the_customers_logged_in_user_records_them(client, customer_user_a, fault, submitted):
    link = reverse("service:confirm_incident_by_link", args=[incident_confirmation_token(submitted)])
    as_user(client, customer_user_a).post(link, {"decision": "confirm"})
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.CONFIRMED and submitted.confirmed_by == customer_user_a


@pytest.mark.parametrize("kind", ["forged", "work_order_token", "expired", "other_salt"])
def test_a_bad_link_shows_why_and_offers_nothing(client, frozen_clock, fault, submitted, dispatcher, engineer, kind):
    if kind == "forged":
        token, why, status = "not-a-token", "not valid", 404
    elif kind == "work_order_token":  # what the URL walk fills in: a valid token for another purpose
        verbs.reply(request=fault, by=dispatcher, version=current_version(fault), mode="remote", plan="远程")
        work_order = verbs.submit_work_order(request=fault, by=engineer, version=current_version(fault), actions="重启",
                                             minutes_spent=5, result="solved")
        token, why, status = confirmation_token(work_order), "not valid", 404
    elif kind == "other_salt":
        token, why = signing.dumps({"ir": submitted.pk, "v": submitted.version}, salt=INCIDENT_SALT + "x"), "not valid"
        status = 404
    else:
        token, why, status = incident_confirmation_token(submitted), "expired", 410
        frozen_clock.shift(timedelta(days=8))
    link = reverse("service:confirm_incident_by_link", args=[token])
    for response in (client.get(link), client.post(link, {"decision": "confirm"})):
        page = response.content.decode()
        assert response.status_code == status and why in page and "incident-confirm-form" not in page
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.AWAITING_CONFIRMATION


def test_a_link_opened_as_another_customers_contact_is_refused(client, customer_user_b, customer_user_a, fault,
                                                                submitted):
    link = reverse("service:confirm_incident_by_link", args=[incident_confirmation_token(submitted)])
    as_user(client, customer_user_b)
    for response in (client.get(link), client.post(link, {"decision": "confirm"})):
        page = response.content.decode()
        assert response.status_code == 403 and "another customer" in page and "incident-confirm-form" not in page
        assert REPORT["cause"] not in page
    submitted.refresh_from_db()
    assert submitted.state == WorkOrderState.AWAITING_CONFIRMATION
    assert as_user(client, customer_user_a).get(link).status_code == 200  # its own customer's contact opens it


def test_an_old_link_stops_working_when_the_report_is_revised_and_resubmitted(client, dispatcher, fault, submitted):
    old = reverse("service:confirm_incident_by_link", args=[incident_confirmation_token(submitted)])
    rejected = verbs.answer_incident_report(report=submitted, by=None, version=current_version(submitted),
                                            accept=False, reason="不对", via="link")
    revised = verbs.save_incident_report(request=fault, by=dispatcher, version=rejected.version, **REPORT)
    again = verbs.submit_incident_report(report=revised, by=dispatcher, version=revised.version)
    assert "already been used" in client.get(old).content.decode()
    new = reverse("service:confirm_incident_by_link", args=[incident_confirmation_token(again)])
    assert REPORT["cause"] in client.get(new).content.decode()


# ------------------------------------------------------------------------------------------ attachments

def png(name="screen.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.mark.parametrize("role", ["dispatcher", "customer_user_a"])
def test_staff_and_the_customer_add_attachments(client, request, fault, role):
    user = request.getfixturevalue(role)
    as_user(client, user)
    page = client.get(fault.get_absolute_url()).content.decode()
    assert 'id="action-add_attachments"' in page and 'enctype="multipart/form-data"' in page
    log = SimpleUploadedFile("nvr.log", "2026-11-26 09:10 掉电\n".encode(), content_type="text/plain")
    response = client.post(url("add_attachments", fault), {"attachments": [png("截图.png"), log]})
    assert response.status_code == 302
    files = Attachment.objects.filter(request=fault).order_by("original_name")
    assert [(a.original_name, a.content_type, a.uploaded_by) for a in files] == [
        ("nvr.log", "text/plain", user), ("截图.png", "image/png", user)]
    event = TimelineEvent.objects.get(request=fault, kind=EventKind.ATTACHMENT)
    assert sorted(event.data["files"]) == ["nvr.log", "截图.png"] and event.actor == user
    page = client.get(fault.get_absolute_url()).content.decode()
    assert "截图.png" in page and reverse("service:attachment", args=[files[1].pk]) in page


@pytest.mark.parametrize("uploads", [
    [SimpleUploadedFile("evil.png", b"MZ\x90\x00\x03\x00\x00\x00\xff\xfe\xfd", content_type="image/png")],
    [SimpleUploadedFile("ok.png", PNG), SimpleUploadedFile("bad.bin", b"\xff\xfe\x00\x81\x82" * 10)],
    [],
])
def test_a_bad_attachment_writes_nothing_and_the_form_says_why(client, customer_user_a, fault, uploads):
    events = TimelineEvent.objects.count()
    response = as_user(client, customer_user_a).post(url("add_attachments", fault), {"attachments": uploads}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 422
    assert ("is not an accepted file type" in page) if uploads else ("This field is required." in page)
    assert not Attachment.objects.exists() and TimelineEvent.objects.count() == events
    assert media_files() == []


def test_a_failure_while_storing_removes_what_was_stored(client, dispatcher, fault, monkeypatch):
    """The verb writes the files first; when the timeline write fails afterwards, the rows roll back and
    the stored files are deleted too."""
    from aftersales.service.verbs import desk

    real_record = desk.record

    def failing_record(request, kind, **kwargs):
        if kind == EventKind.ATTACHMENT:
            raise DomainError("disk full", field="attachments")
        return real_record(request, kind, **kwargs)

    monkeypatch.setattr(desk, "record", failing_record)
    response = as_user(client, dispatcher).post(url("add_attachments", fault), {"attachments": [png(), png("2.png")]})
    assert response.status_code == 200 and "disk full" in response.content.decode()
    assert not Attachment.objects.exists() and media_files() == []


def test_another_customer_cannot_add_attachments(client, customer_user_b, fault):
    response = as_user(client, customer_user_b).post(url("add_attachments", fault), {"attachments": [png()]})
    assert response.status_code == 404
    assert not Attachment.objects.exists() and media_files() == []
