"""Issue 20 point 1: validators on every form that sets a password; password change for every user; API tokens
die with a password change or a deactivation."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from aftersales.accounts.models import ApiToken
from aftersales.accounts.tokens import issue_token

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Quiet-Harbour-2026"


def contact_data(password):
    return {"username": "new_contact", "full_name": "王五", "title": "", "phone": "", "email": "",
            "password": password}


def test_a_contact_cannot_be_created_with_a_weak_password(client, admin_user, customer_a):
    client.force_login(admin_user)
    url = reverse("customers:contact_create", args=[customer_a.pk])
    for weak in ("12345678", "new_contact1"):
        response = client.post(url, contact_data(weak))
        assert response.status_code == 200
        assert response.context["form"].errors["password"]
    assert not get_user_model().objects.filter(username="new_contact").exists()
    assert client.post(url, contact_data(NEW_PASSWORD)).status_code == 302
    assert get_user_model().objects.get(username="new_contact").check_password(NEW_PASSWORD)


@pytest.mark.parametrize("who", ["customer_user_a", "engineer", "admin_user"])
def test_every_user_changes_their_password_and_their_tokens_die(client, request, who):
    user = request.getfixturevalue(who)
    token, secret = issue_token(user=user)
    api = client.__class__()
    assert api.get("/api/requests/", HTTP_AUTHORIZATION=f"Token {secret}").status_code == 200
    client.force_login(user)
    page = client.get(reverse("password_change"))
    assert page.status_code == 200
    assert reverse("password_change").encode() in client.get(reverse("home")).content  # the user menu links it
    response = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                        "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert client.get(reverse("home")).status_code == 200  # this session stays
    refused = api.get("/api/requests/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert (refused.status_code, refused.json()["code"]) == (401, "token_invalid")


def test_password_change_needs_the_old_password_and_a_strong_new_one(client, engineer):
    client.force_login(engineer)
    wrong_old = client.post(reverse("password_change"), {"old_password": "nope", "new_password1": NEW_PASSWORD,
                                                         "new_password2": NEW_PASSWORD})
    assert wrong_old.status_code == 200 and wrong_old.context["form"].errors["old_password"]
    weak = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": "12345678",
                                                    "new_password2": "12345678"})
    assert weak.status_code == 200 and weak.context["form"].errors["new_password2"]
    engineer.refresh_from_db()
    assert engineer.check_password(PASSWORD)


def test_password_change_needs_a_login(client):
    assert client.get(reverse("password_change"))["Location"].startswith("/login/")


def test_a_new_password_set_anywhere_kills_the_tokens(engineer):
    token, _secret = issue_token(user=engineer)
    engineer.full_name = "改名"
    engineer.save()
    assert ApiToken.objects.filter(pk=token.pk).exists()  # an ordinary save keeps them
    engineer.set_password(NEW_PASSWORD)
    engineer.save()
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    later, _secret = issue_token(user=engineer)
    engineer.save()
    assert ApiToken.objects.filter(pk=later.pk).exists()  # the new password was saved: a later save is ordinary


def test_an_unusable_password_kills_the_tokens_and_a_rehash_at_login_does_not(engineer):
    token, _secret = issue_token(user=engineer)
    assert engineer.check_password(PASSWORD)  # a check may rehash the same password (tests: test_login_lockout)
    engineer.save()
    assert ApiToken.objects.filter(pk=token.pk).exists()
    engineer.set_unusable_password()
    engineer.save(update_fields=["password"])
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_deactivation_kills_the_tokens(engineer, dispatcher):
    token, _secret = issue_token(user=engineer)
    other, _secret = issue_token(user=dispatcher)
    engineer.is_active = False
    engineer.save(update_fields=["is_active"])
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert ApiToken.objects.filter(pk=other.pk).exists()


def test_deactivation_in_the_admin_kills_the_tokens(client, admin_user, engineer):
    token, _secret = issue_token(user=engineer)
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[engineer.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"is_active": "", "date_joined_0": form.initial["date_joined"].strftime("%Y-%m-%d"),
                 "date_joined_1": form.initial["date_joined"].strftime("%H:%M:%S"), "groups": [],
                 "user_permissions": []})
    data.pop("date_joined")
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    engineer.refresh_from_db()
    assert not engineer.is_active
    assert not ApiToken.objects.filter(pk=token.pk).exists()
