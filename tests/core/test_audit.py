"""SEC-2: who changed what, from where. What is edited through forms and the admin (customers, projects, devices,
configuration) is audited by django-auditlog with its stock middleware; requests, work orders and incident reports
by their timeline, whose lines carry the actor, the address and the correlation id as an audit entry does."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from aftersales.customers.models import Customer
from aftersales.service import verbs
from aftersales.service.models import EventKind, Priority, TimelineEvent
from tests.factories import CustomerFactory, StaffFactory, current_version

pytestmark = pytest.mark.django_db


def add_customer_in_the_admin(client, staff, name, **headers) -> Customer:
    response = client.post("/admin/customers/customer/add/", {"name": name, "branch": staff.branch_id, "contacts": []},
                           **headers)
    assert response.status_code == 302, response.content.decode()
    return Customer.objects.get(name=name)


def test_an_admin_edit_names_its_actor_and_address_and_nothing_after_the_request_is_attributed(client):
    from django.db.models.signals import pre_save

    staff = StaffFactory(is_superuser=True, is_staff=True)
    client.force_login(staff)
    receivers = len(pre_save.receivers)
    created = add_customer_in_the_admin(client, staff, "后台新增客户")
    entry = LogEntry.objects.get_for_object(created).get()
    assert (entry.action, entry.actor, entry.remote_addr) == (LogEntry.Action.CREATE, staff, "127.0.0.1")
    assert len(pre_save.receivers) == receivers  # the request left no receiver behind
    customer = CustomerFactory()  # saved after the request ended: nobody's
    assert LogEntry.objects.get_for_object(customer).get().actor is None


def test_forwarded_address_port_and_correlation_id_are_recorded_as_auditlog_records_them(client, settings):
    settings.AUDITLOG_CID_HEADER = "x-correlation-id"
    staff = StaffFactory(is_superuser=True, is_staff=True)
    client.force_login(staff)
    for forwarded, recorded in (("203.0.113.9, 10.0.0.1", "203.0.113.9"), ("198.51.100.7:5555", "198.51.100.7"),
                                ("[2001:db8::1]:443", "2001:db8::1")):
        created = add_customer_in_the_admin(client, staff, f"客户 {recorded}", HTTP_X_FORWARDED_FOR=forwarded,
                                            HTTP_X_FORWARDED_PORT="8443", HTTP_X_CORRELATION_ID=f"cid-{recorded}")
        entry = LogEntry.objects.get_for_object(created).get()
        assert (entry.remote_addr, entry.remote_port, entry.cid, entry.actor) == (recorded, 8443, f"cid-{recorded}", staff)


def test_a_request_changed_on_its_page_is_audited_on_its_timeline_not_twice(client, settings, dispatcher, project_a):
    settings.AUDITLOG_CID_HEADER = "x-correlation-id"
    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel="phone",
                                 title="NVR 离线", description="3 号 NVR")
    created = TimelineEvent.objects.get(request=request)
    assert (created.actor, created.address, created.correlation_id) == (dispatcher, None, None)  # not from a request
    client.force_login(dispatcher)
    response = client.post(reverse("service:reply", args=[request.pk]),
                           {"version": current_version(request), "mode": "phone", "plan": "电话指导重启"},
                           HTTP_X_FORWARDED_FOR="203.0.113.9:5555, 10.0.0.1", HTTP_X_CORRELATION_ID="cid-reply")
    assert response.status_code == 302
    line = TimelineEvent.objects.get(request=request, kind=EventKind.REPLIED)
    assert (line.actor, line.address, line.correlation_id) == (dispatcher, "203.0.113.9", "cid-reply")
    assert line.changes["state"] == ["new", "replied"] and line.changes["plan"] == ["", "电话指导重启"]
    assert not LogEntry.objects.get_for_object(request).exists()
    # A verb called outside a request afterwards (a task, the shell) is attributed to no address.
    verbs.comment(request=request, by=dispatcher, text="电话回访")
    comment = TimelineEvent.objects.get(request=request, kind=EventKind.COMMENT)
    assert (comment.address, comment.correlation_id, comment.changes) == (None, None, None)
