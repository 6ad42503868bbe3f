"""Issue 20 point 1: password reset by mail for every user — single-use, expiring links, Django's validators on the new
password, the same answer for a known and an unknown address, and a bound on the mails per address."""

import re
import time

import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from aftersales.accounts.forms import RESETS_PER_ADDRESS

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Quiet-Harbour-2026"
LINK = re.compile(r"https?://\S+/org/password-reset/[^/\s]+/[^/\s]+/")


def ask(client, email, address="10.0.0.1"):
    """Ask for a link; the mail goes through the outbox, delivered after the commit (here: when the post ends)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=address)


def link_in(message) -> str:
    return LINK.search(message.body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_the_login_page_links_the_reset_page(client):
    page = client.get(reverse("login"))
    assert reverse("accounts:password_reset").encode() in page.content
    assert client.get(reverse("accounts:password_reset")).status_code == 200


@pytest.mark.parametrize("who", ["customer_user_a", "engineer"])
def test_every_user_resets_their_password_by_mail(client, request, settings, who):
    settings.SITE_URL = "https://service.example.cn"
    user = request.getfixturevalue(who)
    user.email = "li.lei@example.cn"
    user.save()
    logged_in = client.__class__()
    logged_in.force_login(user)

    response = ask(client, "LI.LEI@example.cn")  # the address is matched without regard to case
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["li.lei@example.cn"]
    link = link_in(message)
    assert link.startswith("https://service.example.cn/org/password-reset/")  # the site's address, not the Host
    assert user.username in message.body and "60" in message.body

    form_page = client.get(path_of(link), follow=True)  # Django moves the token into the session first
    assert form_page.status_code == 200 and form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    weak = client.post(set_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200 and weak.context["form"].errors["new_password2"]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert logged_in.get(reverse("password_change")).status_code == 302  # sessions die with the old password (API tokens too:
    # the form sets it with User.set_password, accounts/tokens.py)

    again = client.get(path_of(link), follow=True)  # the link works once
    assert again.status_code == 200 and not again.context["validlink"]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, engineer):
    engineer.email = "known@example.cn"
    engineer.save()
    known, unknown = ask(client, "known@example.cn"), ask(client, "nobody@example.cn")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    page = client.get(known["Location"])
    assert page.status_code == 200 and b"nobody" not in page.content


def test_inactive_users_and_bad_input_get_no_mail_and_no_error(client, engineer):
    engineer.email = "gone@example.cn"
    engineer.is_active = False
    engineer.save()
    assert ask(client, "gone@example.cn").status_code == 302
    bad = ask(client, "not an address")
    assert bad.status_code == 200 and bad.context["form"].errors["email"]
    assert client.post(reverse("accounts:password_reset"), {}).status_code == 200
    assert mail.outbox == []


def test_the_link_expires_after_an_hour(client, engineer):
    engineer.email = "e@example.cn"
    engineer.save()
    ask(client, "e@example.cn")
    link = link_in(mail.outbox[0])
    with time_machine.travel(time.time() + 61 * 60):
        page = client.get(path_of(link), follow=True)
    assert page.status_code == 200 and not page.context["validlink"]
    bogus = client.get(reverse("accounts:password_reset_confirm", args=["MQ", "nonsense-token"]), follow=True)
    assert bogus.status_code == 200 and not bogus.context["validlink"]


def test_mails_per_address_are_bounded_with_the_same_answer(client, engineer):
    engineer.email = "e@example.cn"
    engineer.save()
    answers = {ask(client, "e@example.cn", address=f"10.0.0.{n}")["Location"] for n in range(RESETS_PER_ADDRESS + 2)}
    assert answers == {reverse("accounts:password_reset_done")}
    assert len(mail.outbox) == RESETS_PER_ADDRESS


def test_requests_per_client_are_bounded(client, engineer):
    engineer.email = "e@example.cn"
    engineer.save()
    for n in range(20):
        ask(client, f"probe{n}@example.cn", address="10.0.0.9")
    assert ask(client, "e@example.cn", address="10.0.0.9").status_code == 302
    assert mail.outbox == []  # the 21st request from that address sends nothing
    assert ask(client, "e@example.cn", address="10.0.0.10").status_code == 302
    assert len(mail.outbox) == 1


def test_a_logged_in_user_can_use_the_pages_too(client, engineer):
    client.force_login(engineer)
    assert client.get(reverse("accounts:password_reset")).status_code == 200
    assert client.get(reverse("accounts:password_reset_done")).status_code == 200
    assert client.get(reverse("accounts:password_reset_complete")).status_code == 200


def test_the_link_goes_through_the_outbox_privately_and_is_blanked_once_sent(client, engineer, admin_user):
    from aftersales.notify.models import Channel, OutboxMessage

    engineer.email = "e@example.cn"
    engineer.save()
    ask(client, "e@example.cn")
    row = OutboxMessage.objects.get(event="password_reset")
    assert row.channel == Channel.EMAIL and row.recipient_address == "e@example.cn" and row.sent_at is not None
    assert row.body == ""  # delivered: no usable link stays in the outbox
    assert OutboxMessage.objects.filter(event="password_reset").count() == 1  # no in-app copy, no robot
    # One that could not be delivered (given up) keeps its text for a retry: the admin's outbox does not show it.
    OutboxMessage.objects.filter(pk=row.pk).update(body="https://x/org/password-reset/MQ/secret-token/", sent_at=None,
                                                  failed_at=row.sent_at)
    client.force_login(admin_user)
    page = client.get(reverse("admin:notify_outboxmessage_change", args=[row.pk]))
    assert page.status_code == 200 and "secret-token" not in page.content.decode()
