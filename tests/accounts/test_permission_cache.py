"""Permission sets are kept per worker under the role version: no queries once warm, and a role change made
anywhere applies to the next user read (accounts/backends.py)."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from aftersales.accounts import backends
from aftersales.accounts.models import User

pytestmark = pytest.mark.django_db


def request_user(user):
    """The user as a request reads it (session: the backend's get_user), role version included."""
    return backends.CachedPermissionsBackend().get_user(user.pk)


def test_warm_cache_answers_without_queries(dispatcher):
    assert request_user(dispatcher).has_perm("service.handle_request")
    user = request_user(dispatcher)
    with CaptureQueriesContext(connection) as captured:
        assert user.has_perm("service.handle_request")
        assert not user.has_perm("auth.delete_group")
        assert user.has_module_perms("service")
    assert len(captured) == 0


def test_the_user_and_the_role_version_are_one_query(dispatcher):
    with CaptureQueriesContext(connection) as captured:
        user = request_user(dispatcher)
    assert len(captured) == 1 and user.role_version == backends.current_role_version()


def test_a_user_read_elsewhere_reads_the_role_version_once(dispatcher):
    assert request_user(dispatcher).has_perm("service.handle_request")
    user = User.objects.get(pk=dispatcher.pk)
    with CaptureQueriesContext(connection) as captured:
        assert user.has_perm("service.handle_request")
        assert user.has_perm("service.view_servicerequest")
    assert len(captured) == 1


def test_losing_a_role_applies_to_the_next_request(dispatcher):
    assert request_user(dispatcher).has_perm("service.handle_request")
    dispatcher.groups.clear()
    assert not request_user(dispatcher).has_perm("service.handle_request")


def test_a_role_losing_a_permission_applies_to_the_next_request(dispatcher):
    assert request_user(dispatcher).has_perm("service.handle_request")
    for group in Group.objects.filter(user=dispatcher):
        group.permissions.clear()
    assert not request_user(dispatcher).has_perm("service.handle_request")


def test_deleting_a_role_applies_to_the_next_request(dispatcher):
    assert request_user(dispatcher).has_perm("service.handle_request")
    Group.objects.filter(user=dispatcher).delete()  # the memberships go with it, without m2m signals
    assert not request_user(dispatcher).has_perm("service.handle_request")


def test_gaining_a_permission_of_ones_own_applies_to_the_next_request(engineer):
    from django.contrib.auth.models import Permission

    assert not request_user(engineer).has_perm("service.handle_request")
    engineer.user_permissions.add(Permission.objects.get(codename="handle_request"))
    assert request_user(engineer).has_perm("service.handle_request")


def test_a_role_version_is_never_used_twice_so_a_rolled_back_change_is_never_served(dispatcher):
    before = backends.current_role_version()
    with pytest.raises(RuntimeError, match="rolled back"), transaction.atomic():
        dispatcher.groups.clear()
        inside = request_user(dispatcher)
        assert not inside.has_perm("service.handle_request")  # cached under the version of the rolled-back change
        raise RuntimeError("rolled back")
    assert backends.current_role_version() == before
    dispatcher.groups.add(Group.objects.get(name="engineer"))  # a committed change: a version not seen before
    user = request_user(dispatcher)
    assert user.role_version not in (before, inside.role_version)
    assert user.has_perm("service.handle_request") and user.has_perm("service.work_on_request")


def test_a_change_written_with_raw_sql_is_seen_within_the_ttl(dispatcher):
    assert request_user(dispatcher).has_perm("service.handle_request")
    with connection.cursor() as cursor:  # no ORM, no new role version
        cursor.execute("DELETE FROM accounts_user_groups WHERE user_id = %s", [dispatcher.pk])
    assert request_user(dispatcher).has_perm("service.handle_request")  # still kept here
    for key, (expires, perms) in list(backends.permission_sets._entries.items()):
        backends.permission_sets._entries[key] = (expires - backends.permission_sets.ttl - 1, perms)  # TTL over
    assert not request_user(dispatcher).has_perm("service.handle_request")


def test_inactive_users_have_no_permissions(dispatcher):
    user = request_user(dispatcher)
    assert user.has_perm("service.handle_request")
    User.objects.filter(pk=dispatcher.pk).update(is_active=False)
    assert request_user(dispatcher) is None  # no session user any more
    user.is_active = False
    assert not user.has_perm("service.handle_request")


def test_the_menu_follows_a_role_change_at_once(client, dispatcher):
    from django.urls import reverse

    client.force_login(dispatcher)
    desk = reverse("service:desk")
    assert f'href="{desk}"' in client.get(reverse("home")).content.decode()
    dispatcher.groups.clear()
    assert f'href="{desk}"' not in client.get(reverse("home")).content.decode()
