"""NOT-1: delivery may run twice (two workers, a nudge and the periodic sweep): a message is sent once."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail

from aftersales.notify import channels, services, tasks
from aftersales.notify.models import Channel, OutboxMessage


def enqueue_email(user, key="srq-3-assigned"):
    user.email = f"{user.username}@integrator.example"
    user.save(update_fields=["email"])
    services.enqueue(event="request_assigned", about=None, recipients=[user], subject="派单：3 号 NVR 录像丢失",
                     body="请今天 14:00 前到场。", dedupe_key=key)
    return OutboxMessage.objects.get(channel=Channel.EMAIL, dedupe_key=key)


def test_two_workers_delivering_the_same_message_send_it_once(engineer):
    message = enqueue_email(engineer)
    second_worker = []
    real_send = channels.send

    def send_while_another_worker_tries(outgoing):
        second_worker.append(services.deliver(outgoing.pk))  # the other worker, in the middle of our send
        real_send(outgoing)

    with mock.patch.object(channels, "send", side_effect=send_while_another_worker_tries):
        assert services.deliver(message.pk) == services.Outcome.SENT
    assert second_worker == [services.Outcome.SKIPPED]
    assert services.deliver(message.pk) == services.Outcome.SKIPPED  # and afterwards
    tasks.deliver_due_messages.call_local()
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.attempts == 1 and message.sent_at is not None


def test_a_worker_that_died_while_sending_gives_the_message_back_after_its_lease(engineer, frozen_clock):
    message = enqueue_email(engineer)
    with mock.patch.object(channels, "send", side_effect=SystemExit("worker killed")):
        try:
            services.deliver(message.pk)
        except SystemExit:
            pass
    message.refresh_from_db()
    assert message.attempts == 1 and message.sent_at is None
    assert services.due_message_ids(now=frozen_clock_now()) == []
    frozen_clock.shift(services.LEASE + timedelta(seconds=1))
    tasks.deliver_due_messages.call_local()
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 2 and len(mail.outbox) == 1


def test_the_periodic_task_delivers_everything_due_and_nothing_else(dispatcher, engineer, frozen_clock):
    first, second = enqueue_email(dispatcher, key="a"), enqueue_email(engineer, key="b")
    OutboxMessage.objects.filter(pk=second.pk).update(next_attempt_at=frozen_clock_now() + timedelta(minutes=5))
    tasks.deliver_due_messages.call_local()
    assert [m.to for m in mail.outbox] == [[dispatcher.email]]
    frozen_clock.shift(timedelta(minutes=5))
    tasks.deliver_due_messages.call_local()
    assert [m.to for m in mail.outbox] == [[dispatcher.email], [engineer.email]]
    assert OutboxMessage.objects.filter(pk__in=[first.pk, second.pk], sent_at__isnull=False).count() == 2


def frozen_clock_now():
    from aftersales.core import clock

    return clock.now()


def test_a_deactivated_recipient_gets_no_more_email(engineer):
    message = enqueue_email(engineer)
    engineer.is_active = False
    engineer.save(update_fields=["is_active"])
    assert services.deliver(message.pk) == services.Outcome.FAILED
    message.refresh_from_db()
    assert mail.outbox == [] and message.last_error == "the recipient's account is deactivated"


# --- at least once: a short lease, and the "sent" mark tried again (issue 20, point 4) ---------------------------

def test_the_lease_outlasts_one_send_and_ends_within_two_minutes():
    longest_send = max(channels.SMTP_TIMEOUT, channels.HTTP_TIMEOUT)
    assert timedelta(seconds=longest_send + sum(services.MARK_RETRY_DELAYS)) < services.LEASE <= timedelta(minutes=2)


def locked_for(updates: int):
    """An execute wrapper: the first `updates` UPDATEs that mark an outbox row sent fail as SQLite's "database is
    locked" does (the server accepted the mail; the database is held by someone else)."""
    from django.db import OperationalError

    failed = []

    def wrapper(execute, sql, params, many, context):
        marks_sent = sql.startswith("UPDATE") and '"sent_at"' in sql.partition(" WHERE ")[0]  # SET sent_at = …
        if marks_sent and "notify_outboxmessage" in sql and len(failed) < updates:
            failed.append(sql)
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    return wrapper, failed


@pytest.mark.django_db(transaction=True)
def test_a_sent_mark_that_fails_is_tried_again_instead_of_sending_twice(engineer, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(services.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(tasks.deliver_messages, "call_local", lambda ids: None)  # no nudge: delivered below
    message = enqueue_email(engineer)
    wrapper, failed = locked_for(3)
    with connection.execute_wrapper(wrapper):
        assert services.deliver(message.pk) == services.Outcome.SENT
    assert len(failed) == 3 and len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.next_attempt_at is None and message.attempts == 1
    tasks.deliver_due_messages.call_local()
    assert len(mail.outbox) == 1  # not sent again


@pytest.mark.django_db(transaction=True)
def test_a_sent_mark_that_keeps_failing_leaves_the_message_to_the_lease(engineer, monkeypatch, caplog):
    from django.db import connection

    monkeypatch.setattr(services.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(tasks.deliver_messages, "call_local", lambda ids: None)  # no nudge: delivered below
    message = enqueue_email(engineer)
    wrapper, failed = locked_for(10**6)
    with connection.execute_wrapper(wrapper):
        services.deliver(message.pk)
    assert len(failed) == len(services.MARK_RETRY_DELAYS) + 1 and len(mail.outbox) == 1
    assert "could not be marked sent" in caplog.text
    message.refresh_from_db()
    assert message.sent_at is None and message.next_attempt_at is not None  # claimed: sent again after the lease
