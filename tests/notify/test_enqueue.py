"""NOT-1: enqueue writes rows in the caller's transaction, once per recipient and channel, and sends nothing."""

import pytest
from django.core import mail
from django.db import transaction

from aftersales.notify import services
from aftersales.notify.models import Channel, EndpointKind, NotificationPreference, OutboxMessage


def request_created(about, recipients, key="srq-1-created", **extra):
    services.enqueue(event="request_created", about=about, recipients=recipients, subject="新报修：NVR 录像丢失",
                     body="银川天网工程 3 号 NVR 昨晚录像缺失", dedupe_key=key, **extra)


def test_enqueuing_the_same_event_twice_is_one_row_per_channel_and_recipient(with_email, project_a, make_endpoint):
    dispatcher, engineer = with_email
    robot = make_endpoint()
    make_endpoint(active=False)
    for _ in range(2):
        request_created(project_a, [dispatcher, engineer, dispatcher])
    rows = OutboxMessage.objects.values_list("channel", "recipient_user", "endpoint")
    assert sorted(rows, key=str) == sorted([
        (Channel.EMAIL, dispatcher.pk, None), (Channel.EMAIL, engineer.pk, None),
        (Channel.INAPP, dispatcher.pk, None), (Channel.INAPP, engineer.pk, None),
        (Channel.WEBHOOK, None, robot.pk),
    ], key=str)


def test_enqueue_sends_nothing_before_the_commit_and_nudges_delivery_after_it(
        with_email, project_a, django_capture_on_commit_callbacks):
    dispatcher, _engineer = with_email
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request_created(project_a, [dispatcher])
    assert mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()  # the commit: huey runs inline in tests
    email = OutboxMessage.objects.get(channel=Channel.EMAIL)
    assert email.sent_at is not None and email.attempts == 1
    assert [m.to for m in mail.outbox] == [["dispatcher@integrator.example"]]


def test_enqueue_in_a_rolled_back_transaction_leaves_nothing(with_email, project_a, make_endpoint,
                                                             django_capture_on_commit_callbacks):
    dispatcher, engineer = with_email
    make_endpoint()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError, match="the business action failed"):
            with transaction.atomic():
                request_created(project_a, [dispatcher, engineer])
                raise RuntimeError("the business action failed after enqueueing")
    assert OutboxMessage.objects.count() == 0
    assert callbacks == [] and mail.outbox == []


def test_each_user_chooses_their_channels(with_email, project_a):
    dispatcher, engineer = with_email
    services.set_preference(user=dispatcher, email=False, inapp=True)
    services.set_preference(user=engineer, email=True, inapp=False)
    request_created(project_a, [dispatcher, engineer])
    assert set(OutboxMessage.objects.values_list("channel", "recipient_user")) == {
        (Channel.INAPP, dispatcher.pk), (Channel.EMAIL, engineer.pk)}
    assert NotificationPreference.objects.count() == 2


def test_a_user_without_an_address_or_inactive_gets_no_email(dispatcher, engineer, project_a):
    engineer.email, engineer.is_active = "engineer@integrator.example", False
    engineer.save()
    request_created(project_a, [dispatcher, engineer])
    assert list(OutboxMessage.objects.values_list("channel", "recipient_user")) == [(Channel.INAPP, dispatcher.pk)]


def test_in_app_notification_is_delivered_when_written_and_links_to_the_object(dispatcher, project_a):
    request_created(project_a, [dispatcher])
    notification = OutboxMessage.objects.get()
    assert notification.sent_at is not None and notification.next_attempt_at is None and notification.read_at is None
    assert notification.url == project_a.get_absolute_url()
    assert (notification.about_type.model, notification.about_id, notification.about_label) == (
        "project", str(project_a.pk), str(project_a))


def test_an_endpoint_hears_only_its_events_and_its_branch_or_customer(project_a, project_b, make_endpoint):
    everything = make_endpoint(name="all")
    escalations_only = make_endpoint(name="escalations", events="escalation, sla_warning")
    branch_a_robot = make_endpoint(name="branch a", branch=project_a.branch)
    customer_b_robot = make_endpoint(name="customer b", customer=project_b.customer, kind=EndpointKind.WECOM)
    request_created(project_a, [], key="a")
    request_created(project_b, [], key="b")
    request_created(None, [], key="no object")
    heard = sorted(OutboxMessage.objects.values_list("dedupe_key", "endpoint__name"))
    assert heard == sorted([("a", everything.name), ("a", branch_a_robot.name),
                            ("b", everything.name), ("b", customer_b_robot.name),
                            ("no object", everything.name)])
    assert escalations_only.messages.count() == 0


def test_a_long_subject_is_shortened_to_one_line(dispatcher):
    services.enqueue(event="sla_warning", about=None, recipients=[dispatcher], subject="超时\n预警" + "长" * 300,
                     body="", dedupe_key="long")
    subject = OutboxMessage.objects.get().subject
    assert len(subject) == 200 and "\n" not in subject and subject.startswith("超时 预警") and subject.endswith("…")


@pytest.mark.parametrize("event", ["", "Request Created", "x" * 51])
def test_a_malformed_event_name_is_a_programming_error(dispatcher, event):
    with pytest.raises(ValueError, match="event must be a lower-case name"):
        services.enqueue(event=event, about=None, recipients=[dispatcher], subject="s", body="b", dedupe_key="k")
    assert OutboxMessage.objects.count() == 0
