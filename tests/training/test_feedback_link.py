"""TRN-1: the customer signs the written feedback through the link mailed when the session is recorded as held. No
login: the token is the key. It expires (410), works once (410 afterwards), a tampered one is not valid (404), and
someone logged in as another customer's contact is refused (403); each refusal shows why and offers no form."""

from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse

from aftersales.service.confirmation import confirmation_token
from aftersales.training import services
from aftersales.training.links import SALT, feedback_token
from aftersales.training.models import SessionState, TrainingFeedback, TrainingSession

from ..factories import current_version
from .conftest import DATA_URL, FEEDBACK

FORM = 'class="signature-form feedback-form"'


def link(session_or_token):
    token = session_or_token if isinstance(session_or_token, str) else feedback_token(session_or_token)
    return reverse("training:feedback_by_link", args=[token])


def post_feedback(client, url, **overrides):
    return client.post(url, {**FEEDBACK, "signature": DATA_URL, **overrides})


def state_of(session):
    return TrainingSession.objects.values_list("state", flat=True).get(pk=session.pk)


def test_the_link_shows_the_session_and_signs_once_then_says_used(client, held_a):
    url = link(held_a)
    page = client.get(url)
    assert page.status_code == 200 and FORM in page.content.decode() and held_a.title in page.content.decode()
    assert 'data-signature-form' in page.content.decode()  # the work order's signature pad, reused
    signed = post_feedback(client, url)
    assert signed.status_code == 200 and "feedback-signed" in signed.content.decode()
    feedback = TrainingFeedback.objects.get(session=held_a)
    assert (feedback.signed_via, feedback.signer_name, feedback.signed_by) == ("link", "马红梅", None)
    assert feedback.signature.read()[:8] == b"\x89PNG\r\n\x1a\n"
    assert state_of(held_a) == SessionState.SIGNED
    for again in (client.get(url), post_feedback(client, url, signer_name="别人")):
        body = again.content.decode()
        assert again.status_code == 410 and "link-error" in body and FORM not in body
    assert TrainingFeedback.objects.count() == 1


def test_the_link_expires(client, frozen_clock, held_a):
    url = link(held_a)
    frozen_clock.shift(timedelta(days=15))
    for response in (client.get(url), post_feedback(client, url)):
        assert response.status_code == 410 and FORM not in response.content.decode()
    assert state_of(held_a) == SessionState.HELD


@pytest.mark.parametrize("kind", ["garbage", "tampered", "other_salt", "work_order_token", "unknown_session"])
def test_a_tampered_or_foreign_token_is_not_found(client, held_a, dispatcher, engineer, request, kind):
    token = feedback_token(held_a)
    if kind == "garbage":
        token = "not-a-token"
    elif kind == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif kind == "other_salt":
        token = signing.dumps({"ts": held_a.pk, "v": held_a.version}, salt=SALT + ".x", compress=True)
    elif kind == "unknown_session":
        token = signing.dumps({"ts": held_a.pk + 1000, "v": 1}, salt=SALT, compress=True)
    else:  # a valid token of the work order's link: another salt, another purpose
        from aftersales.service import verbs

        project = held_a.project
        customer_user = request.getfixturevalue("customer_user_a")
        service_request = verbs.open_request(by=customer_user, project=project, priority="general", channel="portal",
                                             title="录像丢失", description="NVR")
        verbs.reply(request=service_request, by=dispatcher, version=current_version(service_request), mode="remote",
                    plan="远程")
        work_order = verbs.submit_work_order(request=service_request, by=engineer, version=current_version(service_request),
                                             actions="重启", minutes_spent=5, result="solved")
        token = confirmation_token(work_order)
    url = link(token)
    for response in (client.get(url), post_feedback(client, url)):
        assert response.status_code == 404 and FORM not in response.content.decode()
    assert state_of(held_a) == SessionState.HELD


def test_another_customers_logged_in_contact_is_refused(client, held_a, customer_user_a, customer_user_b):
    url = link(held_a)
    client.force_login(customer_user_b)
    for response in (client.get(url), post_feedback(client, url)):
        body = response.content.decode()
        assert response.status_code == 403 and FORM not in body and held_a.title not in body
    assert state_of(held_a) == SessionState.HELD and not TrainingFeedback.objects.exists()
    client.force_login(customer_user_a)  # its own customer's contact signs as themselves
    assert post_feedback(client, url).status_code == 200
    assert TrainingFeedback.objects.get(session=held_a).signed_by == customer_user_a


def test_a_link_post_without_a_signature_is_sent_back_and_writes_nothing(client, held_a):
    url = link(held_a)
    response = post_feedback(client, url, signature="")
    body = response.content.decode()
    assert response.status_code == 200 and FORM in body and "signature-error invalid-feedback d-block" in body
    response = post_feedback(client, url, signature="data:image/png;base64,@@@")
    assert response.status_code == 200 and "signature-error invalid-feedback d-block" in response.content.decode()
    assert state_of(held_a) == SessionState.HELD and not TrainingFeedback.objects.exists()
    assert post_feedback(client, url).status_code == 200  # the link still works after a refused attempt


def test_a_link_of_a_session_not_held_is_used_up(client, planned_a):
    """A token can only be made for any state, but only a held session takes feedback (a planned one: 410)."""
    assert client.get(link(planned_a)).status_code == 410


def test_a_new_link_replaces_the_old_one(client, held_a, engineer):
    old = link(held_a)
    renewed = services.resend_feedback_link(session=held_a, by=engineer, version=held_a.version)
    assert client.get(old).status_code == 410
    assert client.get(link(renewed)).status_code == 200
