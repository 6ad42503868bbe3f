"""The per-worker permission cache: no queries once warm, and a role change in this process applies at once."""

import pytest
from django.contrib.auth.models import Group
from django.test.utils import CaptureQueriesContext
from django.db import connection

from aftersales.accounts import backends
from aftersales.accounts.models import User

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)  # a new request loads a new user object


def test_warm_cache_answers_without_queries(dispatcher):
    assert fresh(dispatcher).has_perm("service.handle_request")
    user = fresh(dispatcher)
    with CaptureQueriesContext(connection) as captured:
        assert user.has_perm("service.handle_request")
        assert not user.has_perm("auth.delete_group")
    assert len(captured) == 0


def test_losing_a_role_applies_at_once_in_this_worker(dispatcher):
    assert fresh(dispatcher).has_perm("service.handle_request")
    dispatcher.groups.clear()
    assert not fresh(dispatcher).has_perm("service.handle_request")


def test_a_role_losing_a_permission_applies_at_once(dispatcher):
    assert fresh(dispatcher).has_perm("service.handle_request")
    for group in Group.objects.filter(user=dispatcher):
        group.permissions.clear()
    assert not fresh(dispatcher).has_perm("service.handle_request")


def test_other_workers_see_a_change_within_the_ttl(dispatcher, monkeypatch):
    assert fresh(dispatcher).has_perm("service.handle_request")
    assert dispatcher.pk in backends._permissions._entries
    with connection.cursor() as cursor:  # another worker's change: no signal reaches this process
        cursor.execute("DELETE FROM accounts_user_groups WHERE user_id = %s", [dispatcher.pk])
    assert fresh(dispatcher).has_perm("service.handle_request")  # still cached here
    expires, perms = backends._permissions._entries[dispatcher.pk]
    backends._permissions._entries[dispatcher.pk] = (expires - backends._permissions.ttl - 1, perms)  # the TTL has run out
    assert not fresh(dispatcher).has_perm("service.handle_request")


def test_inactive_users_have_no_permissions(dispatcher):
    assert fresh(dispatcher).has_perm("service.handle_request")
    User.objects.filter(pk=dispatcher.pk).update(is_active=False)
    assert not fresh(dispatcher).has_perm("service.handle_request")


def test_the_menu_follows_a_role_change_at_once(client, dispatcher):
    from django.urls import reverse

    client.force_login(dispatcher)
    desk = reverse("service:desk")
    assert f'href="{desk}"' in client.get(reverse("home")).content.decode()
    dispatcher.groups.clear()
    assert f'href="{desk}"' not in client.get(reverse("home")).content.decode()


def test_api_tokens_are_remembered_until_the_user_or_the_token_changes(dispatcher):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=dispatcher)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/requests/queue/").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/requests/queue/").status_code == 200
    assert not [q for q in captured.captured_queries if "authtoken_token" in q["sql"]]
    dispatcher.is_active = False
    dispatcher.save()
    assert api.get("/api/requests/queue/").status_code == 403  # DRF: 403 when the first authenticator is the session
    dispatcher.is_active = True
    dispatcher.save()
    assert api.get("/api/requests/queue/").status_code == 200
    token.delete()
    assert api.get("/api/requests/queue/").status_code == 403  # DRF: 403 when the first authenticator is the session


def test_the_session_user_is_read_once_and_a_deactivation_or_new_password_ends_the_session_at_once(client, dispatcher):
    from django.urls import reverse

    client.force_login(dispatcher)
    assert client.get(reverse("service:desk")).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("service:desk")).status_code == 200
    assert not [q for q in captured.captured_queries if 'FROM "accounts_user" WHERE' in q["sql"]]
    dispatcher.set_password("a-new-password-2026")
    dispatcher.save()  # sessions carry a hash of the password: this one ends
    assert client.get(reverse("service:desk")).status_code == 302
    client.force_login(dispatcher)
    assert client.get(reverse("service:desk")).status_code == 200
    dispatcher.is_active = False
    dispatcher.save()
    assert client.get(reverse("service:desk")).status_code == 302
