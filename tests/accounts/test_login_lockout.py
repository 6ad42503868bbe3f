"""Issue 20 point 1: lockout per account and per address on every way in, answered with 429 before any hashing."""

from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import get_hasher
from django.urls import reverse

from aftersales.accounts.lockout import client_ip
from aftersales.accounts.models import ApiToken
from aftersales.accounts.tokens import issue_token

from ..conftest import PASSWORD
from ..factories import UserFactory

pytestmark = pytest.mark.django_db
LIMIT = 5


def page_login(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def api_login(client, username, password, address="10.0.0.1"):
    return client.post("/api/auth/token/", {"username": username, "password": password},
                       content_type="application/json", REMOTE_ADDR=address)


def admin_login(client, username, password, address="10.0.0.1"):
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return client.get(reverse("home")).status_code == 200


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def test_page_locks_after_five_failures_and_refuses_the_right_password(client, alice):
    answers = [page_login(client, "alice", "wrong").status_code for _ in range(LIMIT)]
    assert answers[:-1] == [200] * (LIMIT - 1) and answers[-1] == 429
    response = page_login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 15 * 60
    assert "accounts/locked_out.html" in [t.name for t in response.templates]
    assert not logged_in(client)


def test_api_locks_after_five_failures_with_json(client, alice):
    for _ in range(LIMIT - 1):
        assert api_login(client, "alice", "wrong").status_code == 400
    assert api_login(client, "alice", "wrong").status_code == 429
    response = api_login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "locked_out" and response.json()["detail"]
    assert response["Retry-After"] == str(15 * 60)
    assert not ApiToken.objects.filter(user=alice).exists()


def test_admin_login_locks(client, admin_user):
    for _ in range(LIMIT):
        admin_login(client, "admin", "wrong")
    assert admin_login(client, "admin", PASSWORD).status_code == 429
    assert client.get("/admin/").status_code == 302


def test_the_ways_in_share_one_count(client, alice):
    for login in (page_login, api_login, admin_login, page_login, api_login):
        login(client, "alice", "wrong")
    assert api_login(client, "alice", PASSWORD).status_code == 429
    assert page_login(client, "alice", PASSWORD).status_code == 429


@pytest.mark.parametrize("login", [page_login, api_login])
def test_a_locked_attempt_hashes_nothing(client, alice, login):
    for _ in range(LIMIT):
        login(client, "alice", "wrong")
    hasher = type(get_hasher())
    with (mock.patch.object(hasher, "verify", autospec=True, side_effect=hasher.verify) as verify,
          mock.patch.object(hasher, "encode", autospec=True, side_effect=hasher.encode) as encode):
        assert login(client, "alice", PASSWORD).status_code == 429
        assert login(client, "nobody", "x").status_code == 429  # another account from the locked address
        assert verify.call_count == 0 and encode.call_count == 0
        login(client, "bob", "x", address="10.9.9.9")  # a fresh address and account: hashed once
        assert verify.call_count + encode.call_count == 1


@pytest.mark.parametrize("login", [page_login, api_login])
def test_a_success_resets_the_count(client, alice, login):
    for _round in range(3):
        for _ in range(LIMIT - 1):
            assert login(client, "alice", "wrong").status_code in (200, 400)
        assert login(client, "alice", PASSWORD).status_code in (200, 302)
        client.logout()
    assert not AccessAttempt.objects.filter(username="alice").exists()


def test_per_address_lockout_spans_accounts(client, alice):
    UserFactory(username="bob")
    for n in range(LIMIT):
        page_login(client, f"guess{n}", "wrong", address="10.0.0.66")
    # Alice's right password from that address is refused; from her own address she gets in.
    assert page_login(client, "alice", PASSWORD, address="10.0.0.66").status_code == 429
    assert api_login(client, "bob", PASSWORD, address="10.0.0.66").status_code == 429
    assert page_login(client, "alice", PASSWORD, address="10.0.0.7").status_code == 302


def test_per_account_lockout_spans_addresses(client, alice):
    for n in range(LIMIT):
        api_login(client, "alice", "wrong", address=f"10.1.0.{n}")
    assert api_login(client, "alice", PASSWORD, address="10.2.0.1").status_code == 429
    UserFactory(username="bob")
    assert api_login(client, "bob", PASSWORD, address="10.2.0.1").status_code == 200


def test_the_address_behind_the_proxy_is_the_proxys_entry(rf, settings):
    request = rf.post("/login/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.AFTERSALES_BEHIND_PROXY = False
    assert client_ip(request) == "127.0.0.1"
    settings.AFTERSALES_BEHIND_PROXY = True
    assert client_ip(request) == "203.0.113.9"  # not the left-most entry, which the client wrote itself
    assert client_ip(rf.post("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9:5123")) == "203.0.113.9"


def test_argon2_is_first_and_old_pbkdf2_hashes_upgrade_at_login(client, settings, alice):
    from django.contrib.auth.hashers import make_password

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    alice.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    alice.save()
    token, _secret = issue_token(user=alice)
    assert page_login(client, "alice", PASSWORD).status_code == 302
    alice.refresh_from_db()
    assert alice.password.startswith("argon2$argon2id$")
    assert ApiToken.objects.filter(pk=token.pk).exists()  # the same password rehashed: the token lives


def test_argon2_is_the_configured_default():
    from aftersales import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert project_settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
