"""INS-5 (issue 23 §6): the report of a done round — results per device, evaluation and suggestions, findings and what
became of them, the approval or its override with the reason, the phone's and the server's times — confirmed by the
customer by the same paths as a work order: signed on our screen, in the portal, or through the signed link (expiring,
single use, refused when tampered with or opened as another customer's contact). Another customer's report is a 404."""

import base64
from datetime import date, timedelta

import pytest
from django.urls import reverse

from aftersales.core.errors import IllegalTransition
from aftersales.inspections import findings, reports, services
from aftersales.inspections.models import InspectionReport, ReportSignedVia, ReportState
from aftersales.notify.models import OutboxMessage

from ..conftest import api_as
from ..factories import current_version
from .conftest import PNG, answer, answer_all, items_of, make_plan, shanghai

SIGNATURE = "data:image/png;base64," + base64.b64encode(PNG).decode()


def complete(round_, engineer, photo, *, fail=True):
    """Every item answered (the lens failed, if `fail`), then completed with a summary."""
    answer_all(round_, engineer, photo, at=shanghai(2026, 11, 26, 9, 10))
    if fail:
        _check, items = items_of(round_)
        answer(round_, engineer, items[1], passed=False, photo=photo(), note="镜头有污渍",
               answered_at=shanghai(2026, 11, 26, 9, 20))
    return services.complete_round(round=round_, by=engineer, version=current_version(round_),
                                   completed_at=shanghai(2026, 11, 26, 9, 45), summary="总体正常")


@pytest.fixture
def done_a(started_a, engineer, photo):
    return complete(started_a, engineer, photo)


@pytest.fixture
def issued_a(done_a, engineer):
    return reports.issue_report(round=done_a, by=engineer, evaluation="设备运行良好,一处镜头污渍",
                                suggestions="建议每季度清洁镜头")


def test_the_report_shows_results_findings_evaluation_and_times(issued_a, done_a, engineer, client, customer_user_a):
    finding = done_a.findings.get()
    findings.raise_request(finding=finding, by=engineer, version=finding.version)
    client.force_login(customer_user_a)
    page = client.get(reverse("inspections:report", args=[done_a.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    for expected in ("设备运行良好,一处镜头污渍", "建议每季度清洁镜头", "镜头已清洁", "录像保存天数", "镜头有污渍",
                     done_a.findings.get().service_request.number, "2026-11-26 09:45", "2026-11-26 09:00",
                     "inspections/report.css", "data-print"):
        assert expected in text, expected
    assert "report-confirmation" in text and "report-awaiting" in text


def test_the_report_names_an_overridden_approval_and_its_reason(frozen_clock, project_a, device_a, camera_checklist,
                                                                engineer, manager, photo, client):
    plan = make_plan(project_a, camera_checklist, [engineer], manager, needs_approval=True)
    round_ = plan.rounds.get(period_start=date(2026, 11, 1))
    services.override_approval(round=round_, by=manager, version=round_.version, reason="客户口头同意,书面确认随后补签")
    round_ = services.start_round(round=round_, by=engineer, version=current_version(round_),
                                  started_at=shanghai(2026, 11, 26, 9, 0))
    complete(round_, engineer, photo, fail=False)
    client.force_login(manager)
    text = client.get(reverse("inspections:report", args=[round_.pk])).content.decode()
    assert "客户口头同意,书面确认随后补签" in text and "data-finding=" not in text


def test_issuing_tells_the_customer_with_a_link_and_only_a_done_round_has_a_report(started_a, engineer, photo,
                                                                                    customer_user_a):
    with pytest.raises(IllegalTransition):
        reports.issue_report(round=started_a, by=engineer, evaluation="x")
    report = reports.issue_report(round=complete(started_a, engineer, photo), by=engineer, evaluation="良好")
    mail = OutboxMessage.objects.filter(event="inspection_report", recipient_user=customer_user_a).first()
    assert mail is not None and reports.report_token(report) in mail.url


def test_the_customer_confirms_in_the_portal_with_a_signature(issued_a, done_a, client, customer_user_a):
    client.force_login(customer_user_a)
    url = reverse("inspections:report_confirm", args=[done_a.pk])
    assert client.get(url).status_code == 200
    unsigned = client.post(url, {"version": issued_a.version, "signer_name": "王科长", "signature": ""})
    assert unsigned.status_code == 200 and "signature-error invalid-feedback d-block" in unsigned.content.decode()
    assert InspectionReport.objects.get(pk=issued_a.pk).state == ReportState.AWAITING
    response = client.post(url, {"version": issued_a.version, "signer_name": "王科长", "comment": "同意",
                                 "signature": SIGNATURE})
    assert response.status_code == 302
    report = InspectionReport.objects.get(pk=issued_a.pk)
    assert (report.state, report.signed_via, report.signed_by, report.recorded_by) == (
        ReportState.CONFIRMED, ReportSignedVia.PORTAL, customer_user_a, None)
    page = client.get(reverse("inspections:report", args=[done_a.pk])).content.decode()
    assert "王科长" in page and 'class="report-signature' in page and "data:image/png;base64," in page


def test_the_customer_signs_on_the_engineers_screen(issued_a, done_a, client, engineer):
    client.force_login(engineer)
    response = client.post(reverse("inspections:report_confirm", args=[done_a.pk]),
                           {"version": issued_a.version, "signer_name": "李主任", "signature": SIGNATURE})
    assert response.status_code == 302
    report = InspectionReport.objects.get(pk=issued_a.pk)
    assert (report.signed_via, report.signed_by, report.recorded_by, report.signer_name) == (
        ReportSignedVia.SCREEN, None, engineer, "李主任")


def link(report) -> str:
    return reverse("inspections:report_by_link", args=[reports.report_token(report)])


def test_the_link_confirms_once_without_an_account(issued_a, client):
    url = link(issued_a)
    assert client.get(url).status_code == 200
    response = client.post(url, {"signer_name": "赵工", "signature": SIGNATURE})
    assert response.status_code == 200 and "report-signed" in response.content.decode()
    report = InspectionReport.objects.get(pk=issued_a.pk)
    assert (report.state, report.signed_via, report.signed_by) == (ReportState.CONFIRMED, ReportSignedVia.LINK, None)
    assert client.get(url).status_code == 410  # used
    assert client.post(url, {"signer_name": "赵工", "signature": SIGNATURE}).status_code == 410


def test_the_link_expires(issued_a, client, frozen_clock):
    url = link(issued_a)
    frozen_clock.shift(reports.VALID_FOR + timedelta(minutes=1))
    assert client.get(url).status_code == 410


def test_a_tampered_link_is_not_valid(issued_a, client):
    token = reports.report_token(issued_a)
    assert client.get(reverse("inspections:report_by_link", args=[token[:-2] + "xy"])).status_code == 404


def test_issuing_again_makes_the_earlier_link_stop_working(issued_a, done_a, engineer, client):
    url = link(issued_a)
    reports.issue_report(round=done_a, by=engineer, evaluation="补充:已清洁", version=issued_a.version)
    assert client.get(url).status_code == 410


def test_the_link_refuses_another_customers_contact(issued_a, client, customer_user_b, customer_user_a):
    client.force_login(customer_user_b)
    assert client.get(link(issued_a)).status_code == 403
    client.force_login(customer_user_a)
    assert client.get(link(issued_a)).status_code == 200


def test_another_customers_report_is_a_404(issued_a, done_a, client, customer_user_b):
    client.force_login(customer_user_b)
    for name in ("report", "report_confirm", "findings"):
        assert client.get(reverse(f"inspections:{name}", args=[done_a.pk])).status_code == 404
    assert api_as(customer_user_b).get(f"/api/inspection-rounds/{done_a.pk}/report/").status_code == 404


def test_the_api_confirms_in_the_portal(issued_a, done_a, customer_user_a, customer_user_b):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"/api/inspection-rounds/{done_a.pk}/confirm-report/"
    foreign = api_as(customer_user_b).post(url, {"version": issued_a.version, "signer_name": "x"}, format="multipart")
    assert foreign.status_code == 404
    unsigned = api_as(customer_user_a).post(url, {"version": issued_a.version, "signer_name": "王科长"},
                                            format="multipart")
    assert unsigned.status_code == 400 and "signature" in unsigned.json()["fields"]
    signed = api_as(customer_user_a).post(url, {"version": issued_a.version, "signer_name": "王科长",
                                                "signature": SimpleUploadedFile("s.png", PNG, "image/png")},
                                          format="multipart")
    assert signed.status_code == 200 and signed.json()["report"]["state"] == "confirmed"
    again = api_as(customer_user_a).post(url, {"version": issued_a.version, "signer_name": "王科长",
                                               "signature": SimpleUploadedFile("s.png", PNG, "image/png")},
                                         format="multipart")
    assert again.status_code == 409
