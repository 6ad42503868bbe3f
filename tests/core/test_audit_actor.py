"""django-auditlog, stock: its middleware names the session's user; an API write by token names the token's user
(core.api_base.AuditActorMixin), and nothing of one request is left for the next or for work outside requests."""

import pytest
from auditlog.models import LogEntry
from django.db.models.signals import pre_save
from rest_framework.test import APIClient

from aftersales.accounts.tokens import issue_token
from aftersales.customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def by_token(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=user)[1]}")
    return client


def last_entry(instance) -> LogEntry:
    return LogEntry.objects.get_for_object(instance).order_by("-pk").first()


def test_an_api_write_by_token_names_its_user_and_the_next_request_does_not_inherit_it(
        settings, dispatcher, manager, customer_a):
    settings.AUDITLOG_CID_HEADER = "x-correlation-id"
    receivers = len(pre_save.receivers)
    response = by_token(dispatcher).patch(
        f"/api/customers/{customer_a.pk}/", {"name": "银川市公安局一"}, format="json",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1", HTTP_X_FORWARDED_PORT="8443", HTTP_X_CORRELATION_ID="cid-1")
    assert response.status_code == 200, response.content
    entry = last_entry(customer_a)
    assert (entry.actor, entry.remote_addr, entry.remote_port, entry.cid, entry.changes["name"]) == (
        dispatcher, "203.0.113.9", 8443, "cid-1", ["银川市公安局", "银川市公安局一"])

    assert by_token(manager).patch(f"/api/customers/{customer_a.pk}/", {"name": "银川市公安局二"},
                                   format="json").status_code == 200
    entry = last_entry(customer_a)
    assert (entry.actor, entry.remote_addr, entry.cid) == (manager, "127.0.0.1", None)

    Customer.objects.filter(pk=customer_a.pk).get().save()  # no change: no entry
    customer = CustomerFactory(branch=customer_a.branch)  # outside any request
    assert (last_entry(customer).actor, last_entry(customer).remote_addr) == (None, None)
    assert len(pre_save.receivers) == receivers  # every request disconnected what it connected


def test_a_refused_or_failing_api_write_leaves_no_receiver_behind(dispatcher, customer_user_a, customer_b):
    receivers = len(pre_save.receivers)
    foreign = f"/api/customers/{customer_b.pk}/"
    assert by_token(dispatcher).patch(foreign, {"name": "x"}, format="json").status_code == 404
    assert by_token(customer_user_a).post("/api/customers/", {"name": "x"}, format="json").status_code == 403
    assert by_token(dispatcher).post("/api/customers/", {"name": ""}, format="json").status_code == 400
    assert len(pre_save.receivers) == receivers


def test_a_read_names_no_actor_and_connects_nothing(dispatcher):
    receivers = len(pre_save.receivers)
    assert by_token(dispatcher).get("/api/customers/").status_code == 200
    assert len(pre_save.receivers) == receivers


def test_the_session_user_is_named_by_auditlogs_own_middleware(client, admin_user, branch_a):
    client.force_login(admin_user)
    receivers = len(pre_save.receivers)
    form = {"name": "后台新增客户", "branch": branch_a.pk, "contacts": []}
    response = client.post("/admin/customers/customer/add/", form, HTTP_X_FORWARDED_FOR="[2001:db8::1]:443")
    assert response.status_code == 302
    entry = last_entry(Customer.objects.get(name="后台新增客户"))
    assert (entry.actor, entry.remote_addr) == (admin_user, "2001:db8::1")
    assert len(pre_save.receivers) == receivers
