"""core.inserts.Insert writes exactly the rows bulk_create writes, returns their keys, and refuses what it cannot do."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Value
from django.forms.models import model_to_dict

from aftersales.core import clock
from aftersales.core.inserts import Insert
from aftersales.notify.models import Channel, OutboxMessage
from aftersales.service.models import Channel as RequestChannel
from aftersales.service.models import Priority, ServiceRequest, Target, TargetKind
from aftersales.service.services import policy_for
from tests.factories import ProjectFactory, StaffFactory

pytestmark = pytest.mark.django_db


def stored(model, objs) -> list[dict]:
    """Every column of the objects' rows as read back from the database, without the primary key."""
    rows = {row["id"]: row for row in model.objects.filter(pk__in=[obj.pk for obj in objs]).values()}
    return [{name: value for name, value in rows[obj.pk].items() if name != "id"} for obj in objs]


NOW = clock.now().replace(microsecond=123456)


def messages(user, key, count=3, now=NOW):
    return [OutboxMessage(event="request_created", channel=Channel.EMAIL, recipient_user=user, recipient_address=f"a{i}@example.com",
                          subject=f"新请求 {i}", body="正文\nline", url="/service/requests/1/", payload={"n": i, "at": now},
                          dedupe_key=f"{key}-{i}", created_at=now, next_attempt_at=now + timedelta(minutes=i))
            for i in range(count)]


def test_rows_are_the_rows_bulk_create_writes():
    user = StaffFactory()
    ours = Insert(OutboxMessage)(messages(user, "ours"))
    theirs = OutboxMessage.objects.bulk_create(messages(user, "theirs"))
    assert all(message.pk and not message._state.adding for message in ours)
    for mine, other in zip(stored(OutboxMessage, ours), stored(OutboxMessage, theirs), strict=True):
        assert mine.pop("dedupe_key").replace("ours", "") == other.pop("dedupe_key").replace("theirs", "")
        assert mine == other
    # Called again with another number of rows: compiled for that number, same columns.
    again = Insert(OutboxMessage)(messages(user, "again", count=1))
    assert stored(OutboxMessage, again)[0]["subject"] == "新请求 0"


def test_auto_now_fields_keep_the_instant_on_the_object():
    project = ProjectFactory()
    request = ServiceRequest(project=project, customer_id=project.customer_id, branch_id=project.branch_id,
                             policy=policy_for(project), number="T-insert", channel=RequestChannel.PHONE, priority=Priority.GENERAL, title="NVR", description="x")
    Insert(ServiceRequest)([request])
    row = ServiceRequest.objects.get(pk=request.pk)
    assert request.created_at is not None
    assert (row.created_at, row.updated_at) == (request.created_at, request.updated_at)
    assert model_to_dict(row) == model_to_dict(request)


def test_foreign_keys_of_saved_objects_and_keys_in_order():
    project = ProjectFactory()
    request = ServiceRequest.objects.create(project=project, customer_id=project.customer_id, branch_id=project.branch_id,
                                            policy=policy_for(project), number="T-fk", channel=RequestChannel.PHONE, priority=Priority.GENERAL, title="NVR", description="x")
    now = clock.now()
    targets = [Target(request=request, kind=kind, minutes=minutes, started_at=now, due_at=now + timedelta(minutes=minutes))
               for kind, minutes in ((TargetKind.REPLY, 120), (TargetKind.RESOLUTION, 480))]
    Insert(Target)(targets)
    assert [(t.pk, t.kind, t.minutes) for t in targets] == list(
        Target.objects.filter(request=request).order_by("pk").values_list("pk", "kind", "minutes"))


def test_conflicting_rows_are_skipped_when_asked():
    user = StaffFactory()
    insert = Insert(OutboxMessage, ignore_conflicts=True)
    insert(messages(user, "same", count=2))
    insert(messages(user, "same", count=3))  # the first two are already there
    assert OutboxMessage.objects.filter(dedupe_key__startswith="same-").count() == 3


def test_more_rows_than_one_statement_takes_are_written_in_batches(monkeypatch):
    user = StaffFactory()
    monkeypatch.setattr(type(connection.ops), "bulk_batch_size", lambda self, fields, objs: 2)
    written = Insert(OutboxMessage)(messages(user, "batched", count=5))
    assert len({message.pk for message in written}) == 5
    assert stored(OutboxMessage, written)[4]["subject"] == "新请求 4"


def test_refuses_what_it_cannot_write_as_bulk_create_would():
    user = StaffFactory()
    with_key = messages(user, "keyed", count=1)
    with_key[0].pk = 10**9
    with pytest.raises(ValueError):
        Insert(OutboxMessage)(with_key)
    expression = messages(user, "expr", count=1)
    expression[0].subject = Value("x")
    with pytest.raises(TypeError):
        Insert(OutboxMessage)(expression)
    assert not OutboxMessage.objects.filter(dedupe_key__in=["keyed-0", "expr-0"]).exists()


def test_lazy_text_and_values_of_other_types_go_through_their_fields():
    from django.utils.translation import gettext_lazy

    user = StaffFactory()
    message = messages(user, "lazy", count=1)[0]
    message.subject, message.about_id = gettext_lazy("Notifications"), 42  # a lazy string, an int for a text column
    Insert(OutboxMessage)([message])
    row = stored(OutboxMessage, [message])[0]
    assert (row["subject"], row["about_id"]) == (str(gettext_lazy("Notifications")), "42")  # 通知 by default


def test_an_update_writes_what_save_with_update_fields_writes():
    from aftersales.core.inserts import Update

    user = StaffFactory()
    ours, theirs = Insert(OutboxMessage)(messages(user, "upd", count=2))
    later = NOW + timedelta(hours=1)
    for message in (ours, theirs):
        message.sent_at, message.next_attempt_at, message.attempts = later, None, 3
        message.payload, message.subject = {"at": later}, "not written"
    Update(OutboxMessage, ("sent_at", "next_attempt_at", "attempts", "payload"))(ours)
    theirs.save(update_fields=["sent_at", "next_attempt_at", "attempts", "payload"])
    mine, other = stored(OutboxMessage, [ours, theirs])
    assert mine.pop("dedupe_key") != other.pop("dedupe_key")
    assert mine.pop("recipient_address") != other.pop("recipient_address")
    assert (mine.pop("subject"), other.pop("subject")) == ("新请求 0", "新请求 1")  # not among the fields
    assert mine == other and mine["attempts"] == 3
    gone = OutboxMessage(pk=10**9)
    with pytest.raises(OutboxMessage.DoesNotExist):
        Update(OutboxMessage, ("attempts",))(gone)
    with pytest.raises(ValueError):
        Update(OutboxMessage, ("id",))(ours)
