"""VIS-2: the survey's no-account link is signed, expires, and works once: a second use is refused with a clear 410,
a tampered token is a 404, another customer's contact a 403."""

from datetime import timedelta

from django.core import signing
from django.utils import translation
from django.utils.translation import gettext

from aftersales.notify.models import OutboxMessage
from aftersales.visits import links, services
from aftersales.visits.models import FollowUp, Survey, SurveyState

from ..factories import current_version
from .conftest import answer, form_data, link_of


def test_the_link_is_mailed_privately_to_the_customers_contact(survey_a, contact_a):
    mail = OutboxMessage.objects.get(event="survey_invitation", channel="email")
    assert (mail.recipient_user, mail.recipient_address) == (contact_a, "ma@customer-a.example")
    assert links.survey_url(survey_a) in mail.body
    # Nobody else gets the key: no in-app copy, no robot message carries the link.
    assert not OutboxMessage.objects.filter(event="survey_invitation").exclude(pk=mail.pk).filter(
        body__contains="/visits/survey/").exists()
    assert (survey_a.sent_to, survey_a.state) == (contact_a, SurveyState.PENDING)


def test_the_link_works_without_an_account_once_and_a_second_use_is_a_clear_410(client, survey_a):
    url = link_of(survey_a)
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="satisfaction"' in page.content.decode()
    answered = client.post(url, form_data(satisfaction=4))
    assert answered.status_code == 200 and "survey-thanks" in answered.content.decode()
    survey_a.refresh_from_db()
    assert (survey_a.state, survey_a.satisfaction, survey_a.answered_via, survey_a.answered_by) == (
        SurveyState.ANSWERED, 4, "link", None)

    again = client.post(url, form_data(satisfaction=1))
    assert again.status_code == 410
    with translation.override("zh-hans"):  # the page speaks Chinese first
        assert str(again.context["link_error"]) == gettext(
            "This survey has already been answered: a link works once. Thank you.")
    assert 'class="alert alert-warning link-error"' in again.content.decode()
    assert client.get(url).status_code == 410
    survey_a.refresh_from_db()
    assert survey_a.satisfaction == 4 and not FollowUp.objects.exists()  # the second answer wrote nothing


def test_a_tampered_token_is_a_404(client, survey_a):
    token = links.survey_token(survey_a)
    assert client.get(f"/visits/survey/{token[:-2]}xy/").status_code == 404
    forged = signing.dumps({"s": survey_a.pk, "n": survey_a.link_nonce}, salt="another-salt", compress=True)
    assert client.get(f"/visits/survey/{forged}/").status_code == 404
    assert client.post(f"/visits/survey/{forged}/", form_data()).status_code == 404
    assert Survey.objects.get(pk=survey_a.pk).state == SurveyState.PENDING


def test_an_expired_link_is_a_410_and_answers_nothing(client, survey_a, frozen_clock):
    url = link_of(survey_a)
    frozen_clock.shift(links.VALID_FOR - timedelta(minutes=1))
    assert client.get(url).status_code == 200
    frozen_clock.shift(timedelta(minutes=2))
    response = client.post(url, form_data())
    assert response.status_code == 410
    assert "link-error" in response.content.decode()
    assert Survey.objects.get(pk=survey_a.pk).state == SurveyState.PENDING


def test_a_new_link_replaces_the_old_one(client, survey_a, dispatcher):
    old = link_of(survey_a)
    services.resend_survey_link(survey=survey_a, by=dispatcher, version=current_version(survey_a))
    new = link_of(survey_a)
    assert old != new
    assert client.get(old).status_code == 410
    assert client.post(new, form_data()).status_code == 200
    assert OutboxMessage.objects.filter(event="survey_invitation", channel="email").count() == 2


def test_a_survey_answered_in_the_portal_kills_the_mailed_link(client, survey_a, contact_a):
    url = link_of(survey_a)
    answer(survey_a, contact_a, via="portal")
    assert client.get(url).status_code == 410


def test_another_customers_contact_is_refused_with_a_403(client, survey_a, customer_user_b):
    client.force_login(customer_user_b)
    url = link_of(survey_a)
    assert client.get(url).status_code == 403
    assert client.post(url, form_data()).status_code == 403
    assert Survey.objects.get(pk=survey_a.pk).state == SurveyState.PENDING


def test_the_customers_own_contact_logged_in_answers_as_themselves(client, survey_a, contact_a):
    client.force_login(contact_a)
    assert client.post(link_of(survey_a), form_data()).status_code == 200
    assert Survey.objects.get(pk=survey_a.pk).answered_by == contact_a


def test_a_bad_answer_through_the_link_is_a_form_error_and_the_link_still_works(client, survey_a):
    url = link_of(survey_a)
    response = client.post(url, form_data(abnormal=True, abnormal_description=""))
    assert response.status_code == 200
    assert response.context["form"].errors["abnormal_description"]
    assert Survey.objects.get(pk=survey_a.pk).state == SurveyState.PENDING
    assert client.get(url).status_code == 200
