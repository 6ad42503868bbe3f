"""Issue 20, point 1: API tokens that expire, are listed and revoked by their owner only, and are checked with one
indexed query per request."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.accounts import tokens
from aftersales.accounts.models import ApiToken
from aftersales.accounts.tokens import issue_token

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db
LIST = "/api/auth/tokens/"
REVOKE = "/api/auth/tokens/revoke/"


def by_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def password_login(client, username, password=PASSWORD, **extra):
    return client.post("/api/auth/token/", {"username": username, "password": password, **extra}, format="json")


# --- the password endpoint ------------------------------------------------------------------------------------------

def test_the_password_endpoint_issues_a_named_token_with_the_default_expiry(frozen_clock, settings, dispatcher):
    response = password_login(APIClient(), "dispatcher")
    assert response.status_code == 200
    body = response.json()
    token = ApiToken.objects.get(pk=body["id"])
    assert (token.user, token.name, body["name"]) == (dispatcher, ApiToken.DEFAULT_NAME, ApiToken.DEFAULT_NAME)
    assert token.expires_at - token.created_at == timedelta(days=settings.AFTERSALES_API_TOKEN_DAYS) == timedelta(days=90)
    assert len(body["token"]) == 40 and body["token"] not in (token.digest, str(token.pk))  # only a hash is kept
    assert response["Cache-Control"] == "no-store"  # the secret is kept nowhere
    assert by_token(body["token"]).get("/api/requests/").status_code == 200
    again = password_login(APIClient(), "dispatcher", name="nightly export", days=7).json()
    assert again["token"] != body["token"] and again["name"] == "nightly export"
    assert ApiToken.objects.get(pk=again["id"]).expires_at == token.created_at + timedelta(days=7)
    assert ApiToken.objects.filter(user=dispatcher).count() == 2  # several tokens per user


def test_the_password_endpoint_refuses_wrong_credentials_and_too_long_a_validity(dispatcher, settings):
    wrong = password_login(APIClient(), "dispatcher", "wrong-password")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_credentials")
    too_long = password_login(APIClient(), "dispatcher", days=settings.AFTERSALES_API_TOKEN_DAYS + 1)
    assert too_long.status_code == 400 and too_long.json()["code"] == "invalid"
    assert not ApiToken.objects.exists()


def test_the_password_endpoint_ignores_a_stale_authorization_header(dispatcher):
    response = APIClient().post("/api/auth/token/", {"username": "dispatcher", "password": PASSWORD},
                                format="json", HTTP_AUTHORIZATION="Token expired-or-garbage")
    assert response.status_code == 200


def test_a_user_has_at_most_fifty_valid_tokens(dispatcher):
    for _ in range(tokens.MAX_LIVE):
        issue_token(user=dispatcher)
    response = password_login(APIClient(), "dispatcher")
    assert (response.status_code, response.json()["code"]) == (400, "too_many_tokens")
    assert ApiToken.objects.filter(user=dispatcher).count() == tokens.MAX_LIVE


# --- expiry and revocation --------------------------------------------------------------------------------------------

def test_an_expired_token_is_a_401_token_expired(frozen_clock, dispatcher):
    _token, secret = issue_token(user=dispatcher, days=1)
    api = by_token(secret)
    frozen_clock.shift(timedelta(days=1) - timedelta(seconds=1))
    assert api.get("/api/requests/").status_code == 200
    frozen_clock.shift(timedelta(seconds=1))
    response = api.get("/api/requests/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired" and response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"


def test_an_unknown_or_revoked_token_is_a_401_token_invalid(dispatcher):
    token, secret = issue_token(user=dispatcher)
    for sent in ("0" * 40, secret):
        if sent == secret:
            tokens.revoke_token(user=dispatcher, token_id=token.pk)
        response = by_token(sent).get("/api/requests/")
        assert (response.status_code, response.json()["code"]) == (401, "token_invalid")


def test_an_inactive_users_token_is_refused(dispatcher):
    _token, secret = issue_token(user=dispatcher)
    type(dispatcher).objects.filter(pk=dispatcher.pk).update(is_active=False)  # another worker, no signal
    response = by_token(secret).get("/api/requests/")
    assert (response.status_code, response.json()["code"]) == (401, "user_inactive")


def test_last_use_is_written_at_most_once_an_hour(frozen_clock, dispatcher):
    token, secret = issue_token(user=dispatcher)
    api = by_token(secret)
    assert api.get("/api/requests/").status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    frozen_clock.shift(timedelta(minutes=59))
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/requests/").status_code == 200
    assert not [q for q in captured.captured_queries if q["sql"].startswith("UPDATE") and "apitoken" in q["sql"]]
    token.refresh_from_db()
    assert token.last_used_at == first
    frozen_clock.shift(timedelta(minutes=1))
    assert api.get("/api/requests/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first + timedelta(hours=1)


def test_a_token_costs_one_query_to_check(dispatcher):
    _token, secret = issue_token(user=dispatcher)
    api = by_token(secret)
    assert api.get("/api/auth/tokens/").status_code == 200  # last use written, permissions cached
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/auth/tokens/").status_code == 200
    sql = [query["sql"] for query in captured.captured_queries]
    assert len([q for q in sql if "accounts_apitoken" in q and "role_version" in q]) == 1, sql
    assert len(sql) <= 3, sql  # the identity; the page's count and rows


# --- listing, issuing and revoking through the API ------------------------------------------------------------------

def test_the_owner_lists_their_tokens_without_secrets_and_sees_no_one_elses(client, dispatcher, engineer):
    mine, secret = issue_token(user=dispatcher, name="监控脚本")
    issue_token(user=engineer, name="not yours")
    session = APIClient()
    session.force_login(dispatcher)
    for api in (by_token(secret), session):
        response = api.get(LIST)
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row["name"] for row in rows] == ["监控脚本"]
        assert set(rows[0]) == {"id", "name", "created_at", "expires_at", "last_used_at", "expired"}
        assert secret not in response.content.decode() and mine.digest not in response.content.decode()


def test_a_session_issues_a_token_and_a_token_cannot_issue_one(dispatcher, settings):
    api = APIClient()
    api.force_login(dispatcher)
    response = api.post(LIST, {"name": "备份脚本", "days": 30}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "备份脚本" and len(body["token"]) == 40
    assert by_token(body["token"]).get("/api/requests/").status_code == 200
    refused = by_token(body["token"]).post(LIST, {"name": "longer"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "password_required")
    bad = api.post(LIST, {"name": "", "days": settings.AFTERSALES_API_TOKEN_DAYS + 1}, format="json")
    assert bad.status_code == 400 and set(bad.json()["fields"]) >= {"name"}
    too_long = api.post(LIST, {"name": "x", "days": settings.AFTERSALES_API_TOKEN_DAYS + 1}, format="json")
    assert too_long.status_code == 400 and "days" in too_long.json()["fields"]
    assert ApiToken.objects.filter(user=dispatcher).count() == 1


def test_the_owner_revokes_any_of_their_tokens_and_no_one_elses(dispatcher, engineer):
    first, first_secret = issue_token(user=dispatcher)
    _second, second_secret = issue_token(user=dispatcher)
    theirs, _secret = issue_token(user=engineer)
    api = by_token(second_secret)
    response = api.post(REVOKE, {"id": theirs.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    for bad in ({"id": "abc"}, {"id": 2**70}, {}):
        assert api.post(REVOKE, bad, format="json").status_code == 400
    assert api.post(REVOKE, {"id": first.pk}, format="json").status_code == 204
    assert by_token(first_secret).get(LIST).status_code == 401
    assert api.post(REVOKE, {"id": _second.pk}, format="json").status_code == 204  # its own: a logout
    assert api.get(LIST).status_code == 401
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


def test_the_token_endpoints_need_a_login():
    assert APIClient().get(LIST).status_code in (401, 403)
    assert APIClient().post(REVOKE, {"id": 1}, format="json").status_code in (401, 403)


def test_the_schema_documents_the_lockout_and_the_401(client):
    schema = client.get("/api/schema/?format=json").json()
    responses = schema["paths"]["/api/auth/token/"]["post"]["responses"]
    assert {"200", "400", "401", "429"} <= set(responses)
    assert "locked_out" in str(responses["429"])
    assert "/api/auth/tokens/" in schema["paths"] and "/api/auth/tokens/revoke/" in schema["paths"]


# --- the page ---------------------------------------------------------------------------------------------------------

def test_the_page_lists_issues_once_and_revokes(client, customer_user_a, engineer, django_assert_max_num_queries):
    issue_token(user=engineer, name="someone else's")
    client.force_login(customer_user_a)
    url = reverse("accounts:api_tokens")
    page = client.get(url)
    assert page.status_code == 200 and "someone else" not in page.content.decode()
    issued = client.post(url, {"name": "门户集成", "days": 30})
    assert issued.status_code == 200
    secret = issued.context["secret"]
    assert secret in issued.content.decode() and "no-store" in issued["Cache-Control"]
    token = ApiToken.objects.get(user=customer_user_a)
    assert (token.name, token.expires_at - token.created_at) == ("门户集成", timedelta(days=30))
    assert by_token(secret).get("/api/requests/").status_code == 200
    again = client.get(url).content.decode()
    assert "门户集成" in again and secret not in again  # shown once
    with django_assert_max_num_queries(8):  # session, user, the messages; the tokens; no per-row query
        assert client.get(url).status_code == 200
    theirs = ApiToken.objects.get(user=engineer)
    assert client.post(url, {"revoke": str(theirs.pk)}).status_code == 302
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    for junk in ("x", "9" * 30):
        assert client.post(url, {"revoke": junk}).status_code == 302
    assert client.post(url, {"revoke": str(token.pk)}, follow=True).status_code == 200
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_the_page_refuses_a_bad_form(client, dispatcher, settings):
    client.force_login(dispatcher)
    url = reverse("accounts:api_tokens")
    response = client.post(url, {"name": "", "days": settings.AFTERSALES_API_TOKEN_DAYS + 1})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "days"}
    assert not ApiToken.objects.exists()


def test_the_page_needs_a_login(client):
    assert client.get(reverse("accounts:api_tokens"))["Location"].startswith("/login/")


# --- existing DRF tokens --------------------------------------------------------------------------------------------

def test_existing_drf_tokens_are_carried_over_with_the_default_expiry(dispatcher, frozen_clock, settings):
    """The data migration (accounts 0004), run again here over a DRF token: the same key keeps working."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from rest_framework.authtoken.models import Token

    from aftersales.core import clock

    migration = importlib.import_module("aftersales.accounts.migrations.0004_api_tokens")
    key = Token.objects.create(user=dispatcher).key
    migration.carry_over_drf_tokens(apps, SimpleNamespace(connection=connection))  # it needs only the connection
    assert not Token.objects.exists()  # no secret is left in clear
    token = ApiToken.objects.get(user=dispatcher)
    assert token.expires_at == clock.now() + timedelta(days=settings.AFTERSALES_API_TOKEN_DAYS)
    assert token.label and token.created_at <= token.expires_at
    assert by_token(key).get("/api/requests/").status_code == 200


# --- the second factor (accounts/otp.py) ------------------------------------------------------------------------------

def test_a_user_with_a_device_gives_its_code_for_a_token(settings, engineer):
    import time

    import time_machine
    from axes.models import AccessAttempt
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = TOTPDevice.objects.create(user=engineer, name="TOTP", confirmed=True)
    with time_machine.travel(time.time(), tick=False):
        code = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
        wrong = next(f"{n:06d}" for n in range(100000, 1000000, 7919)
                     if n not in {totp(device.bin_key, device.step, device.t0 + s * device.step, device.digits)
                                  for s in (-2, -1, 0, 1, 2)})
        missing = password_login(APIClient(), "engineer")
        assert (missing.status_code, missing.json()["code"]) == (400, "otp_required")
        refused = password_login(APIClient(), "engineer", otp=wrong)
        assert (refused.status_code, refused.json()["code"]) == (401, "otp_invalid")
        assert AccessAttempt.objects.filter(username="engineer").get().failures_since_start == 1  # a failed login
        assert not ApiToken.objects.exists()
        assert password_login(APIClient(), "engineer", otp=code).status_code == 200
    assert ApiToken.objects.filter(user=engineer).count() == 1
    assert not AccessAttempt.objects.filter(username="engineer").exists()  # forgotten after the full login


def test_an_administrator_who_must_have_a_device_gets_no_token_without_one(settings, admin_user):
    settings.AFTERSALES_REQUIRE_ADMIN_OTP = True
    response = password_login(APIClient(), admin_user.username)
    assert (response.status_code, response.json()["code"]) == (403, "otp_enrolment_required")
    settings.AFTERSALES_REQUIRE_ADMIN_OTP = False
    assert password_login(APIClient(), admin_user.username).status_code == 200
