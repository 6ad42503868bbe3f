"""LOG-3: a hidden-danger report is written as a draft, sent to the customer's contacts (with a signed link), and
confirmed in writing (final) or rejected with a reason, revised and sent again. Every other move is a 409 with
nothing written; a stale version is refused the same way."""

import pytest

from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.notify.models import OutboxMessage
from aftersales.proposals import services
from aftersales.proposals.models import HazardReport, HazardState

from ..factories import DeviceFactory, current_version
from .conftest import HAZARD, draft_report


def written():
    return sorted(HazardReport.objects.values_list("pk", "state", "version", "title")), OutboxMessage.objects.count()


def test_a_draft_carries_the_project_s_customer_and_branch_and_is_numbered(frozen_clock, project_a, engineer, device_a):
    report = draft_report(project_a, engineer, devices=[device_a])
    assert (report.state, report.customer_id, report.branch_id) == (HazardState.DRAFT, project_a.customer_id,
                                                                    project_a.branch_id)
    assert report.number == f"YH{report.pk:05d}" and list(report.devices.all()) == [device_a]
    assert not OutboxMessage.objects.exists()  # a draft tells nobody


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": " "}, "title"), ({"risk": "extreme"}, "risk"), ({"description": ""}, "description"),
])
def test_bad_input_is_refused_on_its_field(frozen_clock, project_a, engineer, overrides, field):
    with pytest.raises(DomainError) as error:
        draft_report(project_a, engineer, **overrides)
    assert error.value.field == field and not HazardReport.objects.exists()


def test_devices_and_links_must_belong_to_the_report_s_project(frozen_clock, project_a, project_b, engineer):
    with pytest.raises(DomainError) as error:
        draft_report(project_a, engineer, devices=[DeviceFactory(project=project_b)])
    assert error.value.field == "devices" and not HazardReport.objects.exists()


def test_sending_mails_the_customer_s_contacts_the_signed_link(report_a, customer_user_a, customer_user_b):
    messages = OutboxMessage.objects.filter(event="hazard_report_sent")
    assert {m.recipient_user_id for m in messages} == {customer_user_a.pk}
    assert all("/proposals/hazards/confirm/" in m.url for m in messages)
    assert report_a.state == HazardState.AWAITING and report_a.times_sent == 1


def test_confirming_in_the_portal_records_who_when_how_and_the_typed_name(report_a, customer_user_a, engineer):
    report = services.confirm_hazard_report(report=report_a, version=current_version(report_a), via="portal",
                                            name="马红梅", by=customer_user_a)
    report.refresh_from_db()
    assert (report.state, report.answered_by, report.answered_via, report.answered_name) == (
        HazardState.CONFIRMED, customer_user_a, "portal", "马红梅")
    assert report.answered_at is not None
    staff = OutboxMessage.objects.filter(event="hazard_report_answered")
    assert {m.recipient_user_id for m in staff} == {engineer.pk}


def test_a_confirmed_report_cannot_change(report_a, customer_user_a, engineer):
    services.confirm_hazard_report(report=report_a, version=current_version(report_a), via="portal", name="马红梅",
                                   by=customer_user_a)
    before = written()
    for verb in (lambda v: services.edit_hazard_report(report=report_a, by=engineer, version=v, **HAZARD),
                 lambda v: services.send_hazard_report(report=report_a, by=engineer, version=v),
                 lambda v: services.reject_hazard_report(report=report_a, version=v, via="portal", name="x",
                                                         reason="y", by=customer_user_a)):
        with pytest.raises(IllegalTransition):
            verb(current_version(report_a))
    assert written() == before


def test_reject_revise_resubmit_then_confirm(report_a, customer_user_a, engineer):
    services.reject_hazard_report(report=report_a, version=current_version(report_a), via="portal", name="马红梅",
                                  reason="设备清单有误", by=customer_user_a)
    report_a.refresh_from_db()
    assert (report_a.state, report_a.reject_reason) == (HazardState.REJECTED, "设备清单有误")
    services.edit_hazard_report(report=report_a, by=engineer, version=current_version(report_a),
                                **{**HAZARD, "title": "机房UPS电池老化(已核实)"})
    services.send_hazard_report(report=report_a, by=engineer, version=current_version(report_a))
    report_a.refresh_from_db()
    assert (report_a.state, report_a.times_sent, report_a.answered_name) == (HazardState.AWAITING, 2, "")
    assert OutboxMessage.objects.filter(event="hazard_report_sent").values("dedupe_key").distinct().count() == 2
    services.confirm_hazard_report(report=report_a, version=current_version(report_a), via="portal", name="马红梅",
                                   by=customer_user_a)
    assert HazardReport.objects.get(pk=report_a.pk).state == HazardState.CONFIRMED


def test_a_rejection_needs_a_reason(report_a, customer_user_a):
    before = written()
    with pytest.raises(DomainError) as error:
        services.reject_hazard_report(report=report_a, version=current_version(report_a), via="portal",
                                      name="马红梅", reason=" ", by=customer_user_a)
    assert error.value.field == "reason" and written() == before


def test_a_stale_version_is_refused_and_writes_nothing(report_a, customer_user_a):
    before = written()
    with pytest.raises(StaleObject):
        services.confirm_hazard_report(report=report_a, version=current_version(report_a) - 1, via="portal",
                                       name="马红梅", by=customer_user_a)
    assert written() == before


def test_another_customer_s_contact_cannot_answer(report_a, customer_user_b):
    before = written()
    with pytest.raises(DomainError):
        services.confirm_hazard_report(report=report_a, version=current_version(report_a), via="portal",
                                       name="别人", by=customer_user_b)
    assert written() == before


def test_the_typed_name_is_required(report_a, customer_user_a):
    with pytest.raises(DomainError) as error:
        services.confirm_hazard_report(report=report_a, version=current_version(report_a), via="portal", name="  ",
                                       by=customer_user_a)
    assert error.value.field == "name"
