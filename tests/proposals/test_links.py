"""Written confirmation through the signed link mailed to the customer's contacts: no login needed (the token is the
key); the typed name is recorded. It works once (410 afterwards), expires (410), a tampered one is not valid (404),
and someone logged in as another customer's contact is refused (403); each refusal shows why and offers no form."""

from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse

from aftersales.proposals.links import HAZARD_SALT, hazard_token, proposal_token
from aftersales.proposals.models import (
    HazardReport,
    HazardState,
    Proposal,
    ProposalState,
)

CONFIRM_FORM = 'class="card card-body mb-3 confirm-form"'
CHOOSE_FORM = 'class="card card-body mb-3 choose-form"'


def hazard_link(report_or_token):
    token = report_or_token if isinstance(report_or_token, str) else hazard_token(report_or_token)
    return reverse("proposals:hazard_by_link", args=[token])


def proposal_link(proposal):
    return reverse("proposals:proposal_by_link", args=[proposal_token(proposal)])


def confirm(client, url, name="马红梅"):
    return client.post(url, {"answer": "confirm", "confirm-version": "1", "confirm-name": name})


def state_of(row):
    return type(row).objects.values_list("state", flat=True).get(pk=row.pk)


def test_a_report_is_confirmed_once_through_its_link_then_the_link_is_used(client, report_a):
    url = hazard_link(report_a)
    page = client.get(url)
    assert page.status_code == 200 and CONFIRM_FORM in page.content.decode() and report_a.title in page.content.decode()
    done = confirm(client, url)
    assert done.status_code == 200 and "link-answered" in done.content.decode()
    report = HazardReport.objects.get(pk=report_a.pk)
    assert (report.state, report.answered_via, report.answered_name, report.answered_by) == (
        HazardState.CONFIRMED, "link", "马红梅", None)
    for again in (client.get(url), confirm(client, url, name="别人")):
        assert again.status_code == 410 and CONFIRM_FORM not in again.content.decode()
    assert HazardReport.objects.get(pk=report_a.pk).answered_name == "马红梅"


def test_a_logged_in_contact_of_the_customer_is_recorded_as_the_signer(client, report_a, customer_user_a):
    client.force_login(customer_user_a)
    confirm(client, hazard_link(report_a), name="马红梅")
    assert HazardReport.objects.get(pk=report_a.pk).answered_by == customer_user_a


def test_a_report_is_rejected_through_its_link_with_the_reason(client, report_a):
    url = hazard_link(report_a)
    missing = client.post(url, {"answer": "reject", "reject-version": "1", "reject-name": "马红梅", "reject-reason": ""})
    assert missing.status_code == 200 and state_of(report_a) == HazardState.AWAITING
    client.post(url, {"answer": "reject", "reject-version": "1", "reject-name": "马红梅", "reject-reason": "清单有误"})
    report = HazardReport.objects.get(pk=report_a.pk)
    assert (report.state, report.reject_reason, report.answered_via) == (HazardState.REJECTED, "清单有误", "link")


def test_the_link_expires(client, frozen_clock, report_a):
    url = hazard_link(report_a)
    frozen_clock.shift(timedelta(days=15))
    for response in (client.get(url), confirm(client, url)):
        assert response.status_code == 410 and CONFIRM_FORM not in response.content.decode()
    assert state_of(report_a) == HazardState.AWAITING


@pytest.mark.parametrize("kind", ["garbage", "tampered", "other_salt", "unknown_report"])
def test_a_bad_link_is_not_found(client, report_a, kind):
    good = hazard_token(report_a)
    token = {"garbage": "abc", "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
             "other_salt": proposal_token_like(report_a),
             "unknown_report": signing.dumps({"hr": report_a.pk + 1000, "v": 1}, salt=HAZARD_SALT, compress=True),
             }[kind]
    for response in (client.get(hazard_link(token)), confirm(client, hazard_link(token))):
        assert response.status_code == 404 and CONFIRM_FORM not in response.content.decode()
    assert state_of(report_a) == HazardState.AWAITING


def proposal_token_like(report):
    return signing.dumps({"hr": report.pk, "v": report.version}, salt="another.salt", compress=True)


def test_another_customer_s_contact_is_refused(client, report_a, customer_user_b):
    client.force_login(customer_user_b)
    url = hazard_link(report_a)
    for response in (client.get(url), confirm(client, url)):
        assert response.status_code == 403 and CONFIRM_FORM not in response.content.decode()
    assert state_of(report_a) == HazardState.AWAITING


def test_a_link_of_an_earlier_sending_is_used_once_the_report_is_revised(client, report_a, customer_user_a, engineer):
    from aftersales.proposals import services

    from ..factories import current_version

    old = hazard_link(report_a)
    services.reject_hazard_report(report=report_a, version=current_version(report_a), via="portal", name="马红梅",
                                  reason="清单有误", by=customer_user_a)
    services.send_hazard_report(report=report_a, by=engineer, version=current_version(report_a))
    assert client.get(old).status_code == 410
    assert client.get(hazard_link(HazardReport.objects.get(pk=report_a.pk))).status_code == 200


def test_a_proposal_option_is_chosen_through_the_link_once(client, proposal_a):
    url = proposal_link(proposal_a)
    page = client.get(url)
    assert page.status_code == 200 and CHOOSE_FORM in page.content.decode()
    option = proposal_a.options.get(label="A")
    answer = {"answer": "choose", "choose-version": "1", "choose-name": "马红梅", "choose-option": str(option.pk)}
    assert "link-answered" in client.post(url, answer).content.decode()
    proposal = Proposal.objects.get(pk=proposal_a.pk)
    assert (proposal.state, proposal.chosen_option, proposal.answered_via) == (ProposalState.CHOSEN, option, "link")
    assert client.post(url, {**answer, "choose-option": str(proposal_a.options.get(label="B").pk)}).status_code == 410
    assert Proposal.objects.get(pk=proposal_a.pk).chosen_option == option


def test_a_proposal_link_refuses_another_customer_s_contact_and_a_missing_option(client, proposal_a, customer_user_b):
    url = proposal_link(proposal_a)
    no_option = client.post(url, {"answer": "choose", "choose-version": "1", "choose-name": "马红梅"})
    assert no_option.status_code == 200 and state_of(proposal_a) == ProposalState.SENT
    client.force_login(customer_user_b)
    assert client.get(url).status_code == 403
