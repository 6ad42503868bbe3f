"""Identity is not cached per worker (issue 19, point 5). Another worker's change is simulated by writing the database
without the ORM's signals (QuerySet.update, raw SQL), so nothing in this process hears of it; this process keeps
whatever it had cached. Each change must apply on the very next request, by session and by API token."""

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.accounts import backends
from aftersales.accounts.tokens import issue_token
from aftersales.accounts.models import User

pytestmark = pytest.mark.django_db

REFUSED = (401, 403)  # DRF answers 403 when the first authenticator (the session's) sends no challenge


@pytest.fixture
def session_page(client, dispatcher):
    client.force_login(dispatcher)
    url = reverse("customers:customer_list")
    assert client.get(url).status_code == 200  # this worker has read everything it could cache
    return lambda: client.get(url).status_code


@pytest.fixture
def token(dispatcher):
    return issue_token(user=dispatcher)  # (token, secret)


@pytest.fixture
def api(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token[1]}")
    assert client.get("/api/customers/").status_code == 200
    return lambda: client.get("/api/customers/").status_code


def another_worker_removes_the_roles_of(user) -> None:
    """What the ORM of another worker writes when it takes a user's roles: the memberships and a new role version."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_user_groups WHERE user_id = %s", [user.pk])
        cursor.execute("UPDATE accounts_roleversion SET value = value + 1")


def test_a_deactivation_ends_the_session_at_the_next_request(session_page, dispatcher):
    User.objects.filter(pk=dispatcher.pk).update(is_active=False)
    assert session_page() == 302


def test_a_new_password_ends_the_session_at_the_next_request(session_page, dispatcher):
    User.objects.filter(pk=dispatcher.pk).update(password=make_password("a-new-password-2026"))
    assert session_page() == 302


def test_a_deactivation_refuses_the_token_at_the_next_request(api, dispatcher):
    User.objects.filter(pk=dispatcher.pk).update(is_active=False)
    assert api() in REFUSED
    User.objects.filter(pk=dispatcher.pk).update(is_active=True)
    assert api() == 200


def test_a_deleted_token_is_refused_at_the_next_request(api, token):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_apitoken WHERE id = %s", [token[0].pk])
    assert api() in REFUSED


def test_a_role_change_applies_at_the_next_request_by_session_and_by_token(session_page, api, dispatcher):
    cached = dict(backends.permission_sets._entries)
    assert cached  # the permission set this worker keeps
    another_worker_removes_the_roles_of(dispatcher)
    assert backends.permission_sets._entries == cached  # nothing here heard of it
    assert session_page() == 403
    assert api() == 403


def test_a_role_change_through_the_orm_clears_nothing_and_applies_at_the_next_request(session_page, api, dispatcher):
    cached = dict(backends.permission_sets._entries)
    dispatcher.groups.clear()
    assert backends.permission_sets._entries == cached  # a new role version in the database, no cache cleared
    assert session_page() == 403
    assert api() == 403


def test_a_user_save_leaves_the_fragment_cache_alone(session_page, dispatcher):
    from django.core.cache import cache

    cache.set("unrelated-fragment", "kept")
    dispatcher.full_name = "新名字"
    dispatcher.save()
    assert cache.get("unrelated-fragment") == "kept"


def test_a_request_reads_the_user_with_its_role_version_once_and_no_permissions_when_warm(session_page, api):
    for request in (session_page, api):
        with CaptureQueriesContext(connection) as captured:
            assert request() == 200
        sql = [query["sql"] for query in captured.captured_queries]
        assert len([q for q in sql if 'FROM "accounts_user" u' in q and "role_version" in q]) == 1, sql
        assert not [q for q in sql if "auth_permission" in q], sql
        assert not [q for q in sql if "accounts_roleversion" in q and "accounts_user" not in q], sql
