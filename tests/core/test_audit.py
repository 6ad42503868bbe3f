"""core.audit writes the entry django-auditlog writes itself, actor, address and correlation id included."""

import pytest
from auditlog.context import disable_auditlog, set_actor
from auditlog.models import LogEntry
from django.forms.models import model_to_dict

from aftersales.core import audit
from aftersales.customers.models import Customer
from tests.factories import CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db

COMPARED = [f.name for f in LogEntry._meta.concrete_fields if f.name not in ("id", "timestamp")]


def entry_of(instance) -> dict:
    return model_to_dict(LogEntry.objects.get_for_object(instance).get(), fields=COMPARED)


def test_a_created_entry_is_auditlogs_own(settings):
    settings.AUDITLOG_CID_HEADER = "x-correlation-id"
    staff = StaffFactory(email="desk@example.com")
    theirs = CustomerFactory.build(name="银川市公安局", branch=staff.branch)
    with set_actor(staff, remote_addr="10.0.0.7", remote_port=4431):
        theirs.save()  # auditlog's signal writes its entry
        with disable_auditlog():
            ours = Customer.objects.create(**{**{f.attname: getattr(theirs, f.attname) for f in
                                                 Customer._meta.concrete_fields if not f.primary_key}, "name": "第二"})
        written = audit.log_created([ours])
    assert len(written) == 1 and written[0].pk
    expected = entry_of(theirs)
    assert expected["actor"] == staff.pk and expected["remote_addr"] == "10.0.0.7" and expected["remote_port"] == 4431
    mine = entry_of(ours)
    assert (mine.pop("object_pk"), mine.pop("object_id")) == (str(ours.pk), ours.pk)
    expected.pop("object_pk"), expected.pop("object_id")
    assert mine["changes"].pop("id") == ["None", str(ours.pk)]
    assert (mine["changes"].pop("name"), mine.pop("object_repr")) == (["None", "第二"], "第二")
    expected["changes"].pop("id"), expected["changes"].pop("name"), expected.pop("object_repr")
    for stamp in ("created_at", "updated_at"):  # auto_now: the two rows were saved a moment apart
        assert mine["changes"].pop(stamp) == ["None", str(getattr(ours, stamp).replace(tzinfo=None))]
        expected["changes"].pop(stamp)
    assert mine["changes"] == expected["changes"]
    assert mine == expected


def test_an_explicit_actor_wins_and_entries_without_changes_are_skipped():
    staff = StaffFactory(email="import@example.com")
    with disable_auditlog():
        customer = CustomerFactory()
    assert audit.write(LogEntry.Action.UPDATE, [(customer, {})], actor=staff) == []
    audit.write(LogEntry.Action.UPDATE, [(customer, {"name": ["a", "b"]})], actor=staff)
    entry = LogEntry.objects.get_for_object(customer).get()
    assert (entry.actor, entry.actor_email, entry.remote_addr, entry.changes) == (staff, "import@example.com", None,
                                                                                 {"name": ["a", "b"]})


def test_outside_a_request_there_is_no_actor():
    with disable_auditlog():
        customer = CustomerFactory()
    audit.log_created([customer])
    entry = LogEntry.objects.get_for_object(customer).get()
    assert entry.actor is None and entry.action == LogEntry.Action.CREATE


def test_the_context_of_a_finished_request_is_not_used():
    staff = StaffFactory()
    with set_actor(staff, remote_addr="10.0.0.8"):
        pass  # the context variable keeps its value; auditlog's receiver is gone
    with disable_auditlog():
        customer = CustomerFactory()
    audit.log_created([customer])
    entry = LogEntry.objects.get_for_object(customer).get()
    assert (entry.actor, entry.remote_addr) == (None, None)


def test_the_creation_diff_is_auditlogs_for_every_kind_of_field():
    from auditlog.diff import model_instance_diff

    from aftersales.notify.models import WebhookEndpoint
    from aftersales.service import services
    from aftersales.service.models import Priority
    from tests.factories import DeviceFactory, ProjectFactory

    staff = StaffFactory()
    project = ProjectFactory()
    with disable_auditlog():
        instances = [
            project, project.customer, DeviceFactory(project=project),  # foreign keys, dates, reverse relations
            WebhookEndpoint.objects.create(name="监控平台", url="https://example.com/hook?token=abc"),  # a masked field
            services.open_request(by=staff, project=project, priority=Priority.SERIOUS, channel="phone",
                                  title="NVR 离线", description="x"),  # excluded fields, JSON, nulls
        ]
    for instance in instances:
        expected = {name: tuple(change) for name, change in model_instance_diff(None, instance).items()}
        assert audit.creation_diff(instance) == expected, type(instance).__name__
    assert "abc" not in audit.creation_diff(instances[3])["url"][1]  # masked as auditlog masks it


def test_the_middleware_context_ends_with_the_request_and_its_receiver_stays_one(client):
    from auditlog.context import auditlog_value
    from django.db.models.signals import pre_save

    staff = StaffFactory(is_superuser=True, is_staff=True)
    client.force_login(staff)
    receivers, before = len(pre_save.receivers), auditlog_value.get(None)
    assert client.post("/admin/customers/customer/add/", {"name": "后台新增客户", "branch": staff.branch_id,
                                                          "contacts": []}).status_code in (200, 302)
    created = Customer.objects.get(name="后台新增客户")  # written through the admin: auditlog's signal, our context
    entry = LogEntry.objects.get_for_object(created).get()
    assert (entry.actor, entry.remote_addr) == (staff, "127.0.0.1")
    assert len(pre_save.receivers) == receivers
    assert auditlog_value.get(None) is before  # the request's context ends with it
    with disable_auditlog():
        customer = CustomerFactory()
    audit.log_created([customer])
    assert LogEntry.objects.get_for_object(customer).get().actor is None


def test_forwarded_address_port_and_correlation_id_are_recorded_as_auditlog_records_them(client, settings):
    settings.AUDITLOG_CID_HEADER = "x-correlation-id"
    staff = StaffFactory(is_superuser=True, is_staff=True)
    client.force_login(staff)
    for forwarded, recorded in (("203.0.113.9, 10.0.0.1", "203.0.113.9"), ("198.51.100.7:5555", "198.51.100.7"),
                                ("[2001:db8::1]:443", "2001:db8::1")):
        name = f"客户 {recorded}"
        client.post("/admin/customers/customer/add/", {"name": name, "branch": staff.branch_id, "contacts": []},
                    HTTP_X_FORWARDED_FOR=forwarded, HTTP_X_FORWARDED_PORT="8443", HTTP_X_CORRELATION_ID=f"cid-{recorded}")
        entry = LogEntry.objects.get_for_object(Customer.objects.get(name=name)).get()
        assert (entry.remote_addr, entry.remote_port, entry.cid, entry.actor) == (recorded, 8443, f"cid-{recorded}", staff)
