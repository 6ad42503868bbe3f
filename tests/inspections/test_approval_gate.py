"""INS-2 (issue 23 §2): the approval gate. The customer's contacts get the window, scope, devices and downtime by a
signed, expiring, single-use link and in the portal; they approve, or propose another window that the desk accepts
or answers; reminders go out once a day until they answer; the round cannot start until approved, except by the
override with its reason, which stays in the timeline."""

from datetime import date, timedelta

import pytest
from django.core import signing
from django.urls import reverse

from aftersales.inspections import approvals, tasks
from aftersales.inspections.models import (
    ProposalSide,
    ProposalState,
    RoundEvent,
    RoundState,
    WindowProposal,
)
from aftersales.notify.models import OutboxMessage

from ..conftest import api_as
from ..factories import current_version
from .conftest import make_plan, shanghai

SCOPE = "清洁摄像机镜头,检查录像,更换故障电源"


@pytest.fixture
def gated_plan(frozen_clock, project_a, device_a, camera_checklist, engineer, manager):
    return make_plan(project_a, camera_checklist, [engineer], manager, needs_approval=True)


@pytest.fixture
def november(gated_plan):
    return gated_plan.rounds.get(period_start=date(2026, 11, 1))


@pytest.fixture
def december(gated_plan):
    return gated_plan.rounds.get(period_start=date(2026, 12, 1))


def send(round_, by, *, day=3, start=9, end=12, month=12, year=2026, **extra):
    values = {"scope": SCOPE, "downtime_minutes": 30, **extra}
    return approvals.send_window(round=round_, by=by, version=current_version(round_),
                                 starts_at=shanghai(year, month, day, start), ends_at=shanghai(year, month, day, end),
                                 **values)


@pytest.fixture
def sent(december, manager, customer_user_a):
    return send(december, manager)


def link(proposal):
    return reverse("inspections:approval_by_link", args=[approvals.approval_token(proposal)])


def test_sending_a_window_tells_the_customer_its_window_scope_devices_and_downtime(sent, december, device_a,
                                                                                   customer_user_a):
    message = OutboxMessage.objects.get(dedupe_key=f"ins-approval-{sent.pk}", recipient_user=customer_user_a,
                                        channel="inapp")
    assert message.event == "inspection_notice"
    assert "2026-12-03 09:00–12:00" in message.body and SCOPE in message.body and device_a.name in message.body
    assert "30" in message.body and "/inspections/invite/" in message.body
    assert message.url.endswith(link(sent))
    event = december.events.get(kind="approval_requested")
    assert event.data["proposal"] == 1 and event.note == SCOPE
    assert (sent.side, sent.state, sent.number) == (ProposalSide.PROVIDER, ProposalState.OPEN, 1)


def test_the_link_approves_without_an_account_and_works_once(client, sent, december):
    page = client.get(link(sent))
    assert page.status_code == 200 and SCOPE in page.content.decode()
    answered = client.post(link(sent), {"decision": "approve", "approve-name": "李主任"})
    assert answered.status_code == 200 and "decided" in answered.context
    december.refresh_from_db()
    assert december.state == RoundState.SCHEDULED and december.approved_at is not None
    approval = december.events.get(kind="approve")
    assert "李主任" in approval.note and "2026-12-03 09:00–12:00" in approval.note and approval.actor is None
    sent.refresh_from_db()
    assert (sent.state, sent.answered_by_name, sent.answered_via, sent.link_nonce) == ("accepted", "李主任", "link", "")
    assert client.get(link(sent)).status_code == 410  # single use
    assert client.post(link(sent), {"decision": "approve", "approve-name": "李主任"}).status_code == 410
    assert december.events.filter(kind="approve").count() == 1


def test_without_an_account_the_link_asks_for_a_name_and_writes_nothing(client, sent, december):
    answered = client.post(link(sent), {"decision": "approve", "approve-name": " "})
    assert answered.status_code == 200 and answered.context["approve_form"].errors
    december.refresh_from_db()
    assert december.state == RoundState.AWAITING_APPROVAL


def test_an_expired_link_is_410(client, frozen_clock, sent):
    token_path = link(sent)
    frozen_clock.shift(approvals.LINK_VALID_FOR + timedelta(minutes=1))
    assert client.get(token_path).status_code == 410


@pytest.mark.parametrize("tamper", [lambda t: t[:-3] + "abc", lambda t: "nonsense", lambda t: t + "x"])
def test_a_tampered_link_is_404(client, sent, tamper):
    token = approvals.approval_token(sent)
    assert client.get(reverse("inspections:approval_by_link", args=[tamper(token)])).status_code == 404


def test_a_link_signed_for_another_purpose_is_404(client, sent):
    forged = signing.dumps({"p": sent.pk, "n": sent.link_nonce}, salt="aftersales.service.confirm-work-order")
    assert client.get(reverse("inspections:approval_by_link", args=[forged])).status_code == 404


def test_another_customers_logged_in_contact_is_refused_403(client, sent, customer_user_b, december):
    client.force_login(customer_user_b)
    assert client.get(link(sent)).status_code == 403
    assert client.post(link(sent), {"decision": "approve", "approve-name": "x"}).status_code == 403
    december.refresh_from_db()
    assert december.state == RoundState.AWAITING_APPROVAL


def test_the_customers_own_contact_approves_through_the_link_as_themselves(client, sent, customer_user_a, december):
    client.force_login(customer_user_a)
    assert client.post(link(sent), {"decision": "approve"}).status_code == 200
    december.refresh_from_db()
    assert december.approved_by == customer_user_a


def test_the_portal_lists_the_rounds_waiting_for_the_customer_and_approves_there(client, sent, december,
                                                                                 customer_user_a):
    client.force_login(customer_user_a)
    page = client.get(reverse("inspections:approvals"))
    assert page.status_code == 200
    cards = page.context["cards"]
    assert [c["round"].pk for c in cards] == [december.pk] and cards[0]["turn"] == "customer"
    assert "approve_form" in cards[0]
    answered = client.post(reverse("inspections:round_approval", args=[december.pk]), {"action": "approve"})
    assert answered.status_code == 302
    december.refresh_from_db()
    assert december.state == RoundState.SCHEDULED and december.approved_by == customer_user_a
    assert december.events.get(kind="approve").actor == customer_user_a
    assert client.get(reverse("inspections:approvals")).context["cards"] == []


def test_the_portal_page_is_scoped(client, sent, december, customer_user_b, engineer2, round_b):
    client.force_login(customer_user_b)
    assert client.get(reverse("inspections:approvals")).context["cards"] == []
    assert client.get(reverse("inspections:round_approval", args=[december.pk])).status_code == 404
    assert client.post(reverse("inspections:round_approval", args=[december.pk]),
                       {"action": "approve"}).status_code == 404
    client.force_login(engineer2)  # an engineer sees the rounds assigned to them only
    assert client.get(reverse("inspections:round_approval", args=[december.pk])).status_code == 404
    december.refresh_from_db()
    assert december.state == RoundState.AWAITING_APPROVAL


def test_staff_cannot_approve_for_the_customer_in_the_portal(client, sent, december, manager):
    client.force_login(manager)
    response = client.post(reverse("inspections:round_approval", args=[december.pk]), {"action": "approve"})
    assert response.status_code == 403
    december.refresh_from_db()
    assert december.state == RoundState.AWAITING_APPROVAL


def test_the_customer_proposes_another_window_and_the_desk_accepts_it(client, sent, december, manager, engineer):
    proposed = client.post(link(sent), {"decision": "propose", "propose-name": "李主任", "propose-day": "2026-12-08",
                                        "propose-start": "14:00", "propose-end": "17:00",
                                        "propose-note": "上午门诊高峰"})
    assert proposed.status_code == 200 and proposed.context["decided"] == "propose"
    theirs = december.proposals.get(number=2)
    assert (theirs.side, theirs.state, theirs.proposed_by_name) == ("customer", "open", "李主任")
    assert (theirs.starts_at, theirs.ends_at) == (shanghai(2026, 12, 8, 14), shanghai(2026, 12, 8, 17))
    sent.refresh_from_db()
    assert sent.state == ProposalState.COUNTERED
    assert client.get(link(sent)).status_code == 410  # our window was answered
    # it goes back to the desk and the engineer
    told = set(OutboxMessage.objects.filter(dedupe_key=f"ins-proposed-{theirs.pk}", channel="inapp")
               .values_list("recipient_user__username", flat=True))
    assert {"manager", "engineer"} <= told
    client.force_login(manager)
    page = client.get(reverse("inspections:round_approval", args=[december.pk]))
    assert "accept" in page.context["forms"]
    december.refresh_from_db()
    accepted = client.post(reverse("inspections:round_approval", args=[december.pk]),
                           {"action": "accept", "accept-version": december.version})
    assert accepted.status_code == 302
    december.refresh_from_db()
    theirs.refresh_from_db()
    assert december.state == RoundState.SCHEDULED and theirs.state == ProposalState.ACCEPTED
    assert theirs.answered_by == manager
    kinds = list(december.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds[-4:] == ["approval_requested", "window_proposed", "window_accepted", "approve"]
    assert "李主任" in december.events.get(kind="approve").note
    assert OutboxMessage.objects.filter(dedupe_key=f"ins-agreed-{theirs.pk}").exists()


def test_the_desk_answers_the_customers_window_with_another(client, sent, december, manager, customer_user_a):
    client.force_login(customer_user_a)
    client.post(reverse("inspections:round_approval", args=[december.pk]),
                {"action": "propose", "propose-day": "2026-12-08", "propose-start": "14:00", "propose-end": "17:00"})
    theirs = december.proposals.get(number=2)
    assert theirs.proposed_by == customer_user_a
    december.refresh_from_db()
    ours = send(december, manager, day=9, start=14, end=16)
    theirs.refresh_from_db()
    assert theirs.state == ProposalState.COUNTERED and ours.number == 3 and ours.state == ProposalState.OPEN
    assert client.get(link(ours)).status_code == 200  # the new link (logged in as the customer's contact)
    assert list(december.proposals.values_list("number", "side", "state")) == [
        (1, "provider", "countered"), (2, "customer", "countered"), (3, "provider", "open")]


def test_a_stale_accept_is_409_and_writes_nothing(sent, december, customer_user_a, manager):
    approvals.propose_window(proposal=sent, by=customer_user_a, starts_at=shanghai(2026, 12, 8, 14),
                             ends_at=shanghai(2026, 12, 8, 17))
    december.refresh_from_db()
    response = api_as(manager).post(f"/api/inspection-approvals/{december.pk}/accept/",
                                    {"version": december.version - 1}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "stale")
    assert december.proposals.get(number=2).state == ProposalState.OPEN


def test_a_window_outside_the_rounds_period_is_a_400_naming_the_field(december, manager, customer_user_a):
    response = api_as(manager).post(f"/api/inspection-approvals/{december.pk}/send-window/", {
        "version": current_version(december), "starts_at": "2027-01-04T09:00:00+08:00",
        "ends_at": "2027-01-04T12:00:00+08:00", "scope": SCOPE}, format="json")
    assert response.status_code == 400 and set(response.json()["fields"]) == {"ends_at"}
    response = api_as(manager).post(f"/api/inspection-approvals/{december.pk}/send-window/", {
        "version": current_version(december), "starts_at": "2026-12-04T12:00:00+08:00",
        "ends_at": "2026-12-04T09:00:00+08:00", "scope": SCOPE}, format="json")
    assert response.status_code == 400 and set(response.json()["fields"]) == {"ends_at"}
    response = api_as(manager).post(f"/api/inspection-approvals/{december.pk}/send-window/", {
        "version": current_version(december), "starts_at": "2026-11-26T09:00:00+08:00",
        "ends_at": "2026-11-26T12:00:00+08:00", "scope": SCOPE}, format="json")
    assert response.status_code == 400 and set(response.json()["fields"]) == {"starts_at"}
    assert not WindowProposal.objects.exists()


def test_the_api_approves_and_proposes_as_the_customer_only(sent, december, customer_user_a, customer_user_b,
                                                            engineer):
    assert api_as(customer_user_b).post(f"/api/inspection-approvals/{december.pk}/approve/").status_code == 404
    assert api_as(engineer).post(f"/api/inspection-approvals/{december.pk}/approve/").status_code == 403
    shown = api_as(customer_user_a).get(f"/api/inspection-approvals/{december.pk}/").json()
    assert shown["turn"] == "customer" and shown["proposals"][0]["scope"] == SCOPE
    response = api_as(customer_user_a).post(f"/api/inspection-approvals/{december.pk}/approve/")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "scheduled" and body["agreed_window"]["starts_at"].startswith("2026-12-03T09:00")
    assert [e["kind"] for e in body["events"]] == ["approval_requested", "approve"]


def run_reminders():
    return tasks.inspection_approval_reminders.call_local()


def reminders(round_):
    return list(OutboxMessage.objects.filter(dedupe_key__startswith=f"ins-approval-remind-{round_.pk}-",
                                             channel="inapp").order_by("pk").values_list("dedupe_key", flat=True))


def test_reminders_go_out_once_a_day_until_the_customer_answers(frozen_clock, client, sent, december):
    assert run_reminders() == 0  # the day it was sent
    frozen_clock.move_to(shanghai(2026, 11, 27, 9, 30))
    assert run_reminders() == 1
    assert run_reminders() == 0  # a second worker, or a second run the same day
    assert approvals.send_reminders() == 0
    frozen_clock.move_to(shanghai(2026, 11, 27, 18, 0))
    assert run_reminders() == 0
    frozen_clock.move_to(shanghai(2026, 11, 28, 9, 5))
    assert run_reminders() == 1
    assert reminders(december) == [f"ins-approval-remind-{december.pk}-1-20261127",
                                   f"ins-approval-remind-{december.pk}-1-20261128"]
    sent.refresh_from_db()
    assert sent.reminders_sent == 2
    client.post(link(sent), {"decision": "approve", "approve-name": "李主任"})
    frozen_clock.move_to(shanghai(2026, 11, 29, 9, 5))
    assert run_reminders() == 0
    frozen_clock.move_to(shanghai(2026, 11, 30, 9, 5))
    assert run_reminders() == 0
    assert len(reminders(december)) == 2


def test_a_new_window_is_reminded_under_its_own_request_version(frozen_clock, sent, december, manager):
    frozen_clock.move_to(shanghai(2026, 11, 27, 9, 30))
    run_reminders()
    december.refresh_from_db()
    second = send(december, manager, day=10)
    frozen_clock.move_to(shanghai(2026, 11, 28, 9, 30))
    assert run_reminders() == 1
    assert reminders(december)[-1] == f"ins-approval-remind-{december.pk}-{second.number}-20261128"


def test_reminders_stop_once_the_approval_is_overridden(frozen_clock, sent, december, manager):
    from aftersales.inspections import services

    services.override_approval(round=december, by=manager, version=current_version(december), reason="客户电话同意")
    frozen_clock.move_to(shanghai(2026, 11, 27, 9, 30))
    assert run_reminders() == 0
    sent.refresh_from_db()
    assert sent.next_reminder_at is None


def test_the_round_cannot_start_until_approved_then_after_the_override_its_reason_is_in_the_timeline(
        november, engineer, manager):
    start_url = f"/api/inspection-rounds/{november.pk}/start/"
    refused = api_as(engineer).post(start_url, {"version": current_version(november)}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "illegal_transition")
    assert not november.checks.exists()
    override = api_as(manager).post(f"/api/inspection-rounds/{november.pk}/override-approval/",
                                    {"version": current_version(november), "reason": "客户口头同意,书面确认随后补签"},
                                    format="json")
    assert override.status_code == 200
    gate = api_as(manager).get(f"/api/inspection-approvals/{november.pk}/").json()
    assert gate["override_reason"] == "客户口头同意,书面确认随后补签"
    assert [(e["kind"], e["note"], e["actor"]) for e in gate["events"]] == [
        ("override_approval", "客户口头同意,书面确认随后补签", manager.display_name)]
    started = api_as(engineer).post(start_url, {"version": current_version(november)}, format="json")
    assert started.status_code == 200 and started.json()["state"] == "in_progress"
    assert RoundEvent.objects.filter(round=november, kind="override_approval", note__contains="口头同意").exists()


def test_the_round_starts_once_the_customer_approved_it(client, november, engineer, manager):
    ours = send(november, manager, month=11, day=27)
    client.post(link(ours), {"decision": "approve", "approve-name": "李主任"})
    started = api_as(engineer).post(f"/api/inspection-rounds/{november.pk}/start/",
                                    {"version": current_version(november)}, format="json")
    assert started.status_code == 200


def test_the_round_page_links_the_approval_and_the_calendar_invitation(client, sent, december, manager):
    client.force_login(manager)
    page = client.get(reverse("inspections:round_detail", args=[december.pk])).content.decode()
    assert reverse("inspections:round_approval", args=[december.pk]) in page
    assert reverse("inspections:round_invite", args=[december.pk]) in page


@pytest.mark.parametrize("n", [1, 4])
def test_the_portal_list_costs_the_same_for_1_or_4_rounds(n, client, gated_plan, manager, customer_user_a,
                                                           django_assert_max_num_queries):
    for round_ in list(gated_plan.rounds.order_by("due_on"))[1:1 + n]:
        send(round_, manager, year=round_.period_start.year, month=round_.period_start.month, day=3)
    client.force_login(customer_user_a)
    # session, user, perms ×2, count, page, proposals, plan checklists, plan devices (+ messages/nav)
    with django_assert_max_num_queries(14):
        assert len(client.get(reverse("inspections:approvals")).context["cards"]) == min(n, 3)
