"""INS-4 (issue 23 §5): a failed item or a reading out of range is a finding; its customer is told at once, once; one
action makes it a service request of the device (or adds it to the device's open request) or a repair case, or
dismisses it with a reason; an item marked "open a request automatically" does so when the answer arrives; the plan's
next round checks the flagged devices first and marks their items "re-check"."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.inspections import findings, services
from aftersales.inspections.models import Finding, FindingState, RoundEvent
from aftersales.notify.models import OutboxMessage
from aftersales.repairs.models import OpenedFrom, RepairCase
from aftersales.service import verbs
from aftersales.service.models import Attachment, EventKind, ServiceRequest, TimelineEvent

from ..conftest import api_as
from ..factories import current_version
from .conftest import CAMERA_ITEMS, answer, items_of, make_plan, more_cameras, shanghai


def fail_lens(round_, engineer, photo, **values):
    """The evidence item (镜头已清洁) failed, with its photo, at 09:30 on the phone."""
    _check, items = items_of(round_)
    values.setdefault("answered_at", shanghai(2026, 11, 26, 9, 30))
    return answer(round_, engineer, items[1], passed=False, photo=photo(), note="镜头有污渍", **values)[0]


def finding_of(round_) -> Finding:
    return Finding.objects.select_related("service_request", "repair_case").get(round=round_)


def test_a_failed_item_is_a_finding_and_its_customer_is_told_at_once(started_a, engineer, photo, customer_user_a,
                                                                     customer_user_b):
    fail_lens(started_a, engineer, photo)
    finding = finding_of(started_a)
    assert (finding.state, finding.found_at) == (FindingState.OPEN, shanghai(2026, 11, 26, 9, 30))
    told = OutboxMessage.objects.filter(event="inspection_finding")
    assert told.filter(recipient_user=customer_user_a).exists()
    assert not told.filter(recipient_user=customer_user_b).exists()
    assert "镜头已清洁" in told.filter(recipient_user=customer_user_a).first().subject


def test_a_reading_out_of_range_is_a_finding(started_a, engineer):
    _check, items = items_of(started_a)
    answer(started_a, engineer, items[2], reading=Decimal(12))
    assert finding_of(started_a).item == items[2]


def test_the_customer_is_told_once_however_often_the_item_fails(started_a, engineer, photo, customer_user_a):
    first = fail_lens(started_a, engineer, photo)
    services.record_answer(round=started_a, by=engineer, device=first.device_check.device, item=first.item,
                           client_id=first.client_id, passed=False, photo=photo())  # the phone sends it again
    fail_lens(started_a, engineer, photo, answered_at=shanghai(2026, 11, 26, 9, 40))  # answered again, failed again
    assert Finding.objects.filter(round=started_a).count() == 1
    told = OutboxMessage.objects.filter(event="inspection_finding", recipient_user=customer_user_a)
    assert told.values("dedupe_key").distinct().count() == 1
    assert told.count() == told.values("channel").distinct().count()  # one row per channel, no repeats


def test_a_failed_item_becomes_a_request_of_the_device_with_its_photo(started_a, engineer, photo, frozen_clock,
                                                                      device_a):
    fail_lens(started_a, engineer, photo)
    finding = finding_of(started_a)
    frozen_clock.shift(timedelta(minutes=20))
    findings.raise_request(finding=finding, by=engineer, version=finding.version)
    finding = finding_of(started_a)
    request = finding.service_request
    assert finding.state == FindingState.REQUEST_OPENED and not finding.automatic
    assert list(request.devices.all()) == [device_a]
    assert started_a.number in request.description and "镜头已清洁" in request.title
    assert "2026-11-26 09:30" in request.description  # the finding's own time (the phone's)
    assert Attachment.objects.filter(request=request, content_type="image/png").count() == 1
    # opened by hand 20 minutes later, its clocks start at the finding (the phone's time), not at the click
    assert {t.started_at for t in request.targets.all() if t.started_at} == {shanghai(2026, 11, 26, 9, 30)}
    assert request.created_at == shanghai(2026, 11, 26, 10, 20)
    assert RoundEvent.objects.filter(round=started_a, kind="finding_request").exists()


def test_a_finding_on_a_device_with_an_open_request_joins_it(started_a, engineer, photo, dispatcher, project_a,
                                                             device_a):
    existing = verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone",
                                  title="画面模糊", description="客户来电", devices=[device_a])
    fail_lens(started_a, engineer, photo)
    finding = finding_of(started_a)
    findings.raise_request(finding=finding, by=engineer, version=finding.version)
    finding = finding_of(started_a)
    assert (finding.state, finding.service_request) == (FindingState.JOINED_REQUEST, existing)
    assert ServiceRequest.objects.count() == 1
    comment = TimelineEvent.objects.get(request=existing, kind=EventKind.COMMENT)
    assert "镜头已清洁" in comment.text and started_a.number in comment.text
    assert Attachment.objects.filter(request=existing).count() == 1


def test_a_finding_becomes_a_repair_case(started_a, engineer, photo, device_a):
    fail_lens(started_a, engineer, photo)
    finding = finding_of(started_a)
    findings.open_repair(finding=finding, by=engineer, version=finding.version)
    case = finding_of(started_a).repair_case
    assert (case.device, case.opened_from) == (device_a, OpenedFrom.INSPECTION)
    assert case.finding_ref.startswith(started_a.number)
    assert finding_of(started_a).state == FindingState.REPAIR_OPENED


def test_an_item_marked_so_opens_a_request_automatically_its_clock_starting_at_the_finding(
        frozen_clock, project_a, device_a, camera_checklist, engineer, manager, photo):
    items = [dict(item) for item in CAMERA_ITEMS]
    items[1]["opens_request"] = True
    services.revise_checklist(checklist=camera_checklist, by=manager, version=current_version(camera_checklist),
                              items=items, note="镜头不洁自动报修")
    plan = make_plan(project_a, camera_checklist, [engineer], manager)
    round_ = plan.rounds.get(period_start=date(2026, 11, 1))
    round_ = services.start_round(round=round_, by=engineer, version=round_.version)
    fail_lens(round_, engineer, photo)
    finding = finding_of(round_)
    assert (finding.state, finding.automatic) == (FindingState.REQUEST_OPENED, True)
    request = finding.service_request
    assert {t.started_at for t in request.targets.all() if t.started_at} == {finding.found_at}
    assert Attachment.objects.filter(request=request).count() == 1
    camera_checklist.refresh_from_db()
    assert camera_checklist.current.items.get(position=2).opens_request


def test_a_later_passing_answer_dismisses_an_open_finding(started_a, engineer, photo):
    first = fail_lens(started_a, engineer, photo)
    answer(started_a, engineer, first.item, passed=True, photo=photo(), answered_at=shanghai(2026, 11, 26, 9, 50))
    finding = finding_of(started_a)
    assert finding.state == FindingState.DISMISSED and finding.automatic and finding.dismissed_reason


def test_dismissing_needs_a_reason_and_a_handled_finding_stays_handled(started_a, engineer, photo):
    fail_lens(started_a, engineer, photo)
    finding = finding_of(started_a)
    with pytest.raises(DomainError) as refused:
        findings.dismiss(finding=finding, by=engineer, version=finding.version, reason=" ")
    assert refused.value.field == "reason"
    findings.dismiss(finding=finding, by=engineer, version=finding.version, reason="现场已清洁")
    with pytest.raises(StaleObject):
        findings.raise_request(finding=finding, by=engineer, version=finding.version)
    with pytest.raises(IllegalTransition):
        findings.raise_request(finding=finding, by=engineer, version=current_version(finding))
    assert not ServiceRequest.objects.exists()


def test_the_next_round_checks_the_flagged_devices_first_and_marks_their_items(
        frozen_clock, project_a, device_a, camera_checklist, engineer, manager, photo, client):
    more_cameras(project_a, 2)
    plan = make_plan(project_a, camera_checklist, [engineer], manager)
    november = plan.rounds.get(period_start=date(2026, 11, 1))
    november = services.start_round(round=november, by=engineer, version=november.version)
    usual = [check.device for check in november.checks.order_by("position")]
    flagged = usual[-1]  # last in the usual order
    lens = november.checks.get(device=flagged).checklist.items.get(position=2)
    answer(november, engineer, lens, device=flagged, passed=False, photo=photo())
    frozen_clock.move_to(shanghai(2026, 12, 2, 10, 0))
    december = plan.rounds.get(period_start=date(2026, 12, 1))
    december = services.start_round(round=december, by=engineer, version=december.version)
    assert december.checks.order_by("position").first().device == flagged
    client.force_login(engineer)
    page = client.get(december.get_absolute_url()).content.decode()
    assert page.count('class="badge text-bg-warning recheck"') == 1
    assert page.index(flagged.serial_number) < page.index(usual[0].serial_number)


# ------------------------------------------------------------------------------------------------ pages and API

def test_one_action_on_the_findings_page_opens_the_request(started_a, engineer, photo, client):
    fail_lens(started_a, engineer, photo)
    finding = finding_of(started_a)
    client.force_login(engineer)
    url = reverse("inspections:findings", args=[started_a.pk])
    assert "镜头已清洁" in client.get(url).content.decode()
    response = client.post(url, {"finding": finding.pk, "version": finding.version, "action": "request"})
    assert response.status_code == 302
    assert finding_of(started_a).state == FindingState.REQUEST_OPENED
    again = client.post(url, {"finding": finding.pk, "version": finding.version, "action": "request"})
    assert again.status_code == 200 and ServiceRequest.objects.count() == 1  # the page, with why


def test_the_customer_sees_the_findings_without_actions_and_cannot_act(started_a, engineer, photo, client,
                                                                       customer_user_a, customer_user_b):
    fail_lens(started_a, engineer, photo)
    finding = finding_of(started_a)
    url = reverse("inspections:findings", args=[started_a.pk])
    client.force_login(customer_user_a)
    page = client.get(url)
    assert page.status_code == 200 and "镜头已清洁" in page.content.decode()
    assert 'name="action"' not in page.content.decode()
    assert client.post(url, {"finding": finding.pk, "version": finding.version, "action": "dismiss",
                             "reason": "x"}).status_code == 403
    client.force_login(customer_user_b)
    assert client.get(url).status_code == 404


def test_the_api_handles_a_finding_with_its_version(started_a, engineer, photo, customer_user_a, customer_user_b):
    fail_lens(started_a, engineer, photo)
    finding = finding_of(started_a)
    url = f"/api/inspection-rounds/{started_a.pk}/handle-finding/"
    refused = api_as(engineer).post(url, {"finding": finding.pk, "action": "dismiss", "version": finding.version},
                                    format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid") and "reason" in refused.json()["fields"]
    assert api_as(customer_user_a).post(url, {"finding": finding.pk, "action": "dismiss", "version": 1,
                                              "reason": "x"}, format="json").status_code == 403
    done = api_as(engineer).post(url, {"finding": finding.pk, "action": "repair", "version": finding.version},
                                 format="json")
    assert done.status_code == 200 and done.json()["state"] == "repair_opened"
    stale = api_as(engineer).post(url, {"finding": finding.pk, "action": "request", "version": finding.version},
                                  format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    assert RepairCase.objects.count() == 1
    report = api_as(customer_user_a).get(f"/api/inspection-rounds/{started_a.pk}/report/")
    assert report.json()["findings"][0]["repair_case_number"] == RepairCase.objects.get().number
    assert api_as(customer_user_b).get(f"/api/inspection-rounds/{started_a.pk}/report/").status_code == 404
