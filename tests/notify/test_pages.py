"""NOT-1 pages: my notifications with mark-as-read, my channels, the administrators' delivery problems."""

import pytest
from django.urls import reverse

from aftersales.notify import services
from aftersales.notify.models import Channel, EndpointKind, NotificationPreference, OutboxMessage


def notify(users, key, subject="派单：3 号 NVR 录像丢失", url="/customers/"):
    services.enqueue(event="request_assigned", about=None, recipients=users, subject=subject, body="请今天到场。",
                     dedupe_key=key, url=url)


def failed_robot_message(make_endpoint, receiver):
    make_endpoint(kind=EndpointKind.DINGTALK, name="宁夏分公司群")
    receiver.script = [(200, {"errcode": 300001, "errmsg": "token is not exist"})]
    services.enqueue(event="escalation", about=None, subject="升级：出发超时", body="", dedupe_key="esc-1")
    message = OutboxMessage.objects.get(channel=Channel.WEBHOOK)
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=services.MAX_ATTEMPTS - 1)
    assert services.deliver(message.pk) == services.Outcome.FAILED
    return message


def test_a_user_sees_only_their_own_notifications_newest_first(client, engineer, dispatcher, frozen_clock):
    notify([engineer], "one", subject="第一条")
    frozen_clock.shift(60)
    notify([engineer, dispatcher], "two", subject="第二条")
    notify([dispatcher], "other", subject="调度员的通知")
    client.force_login(engineer)
    page = client.get(reverse("notify:notification_list")).content.decode()
    assert page.index("第二条") < page.index("第一条") and "调度员的通知" not in page


def test_marking_one_or_all_as_read_and_the_bell_counts_unread(client, engineer, dispatcher):
    notify([engineer], "one")
    notify([engineer], "two")
    notify([dispatcher], "theirs")
    client.force_login(engineer)
    assert 'data-unread="2"' in client.get(reverse("home")).content.decode()
    first = OutboxMessage.objects.filter(recipient_user=engineer).order_by("pk").first()
    theirs = OutboxMessage.objects.get(recipient_user=dispatcher)
    response = client.post(reverse("notify:notification_list"), {"read": [first.pk, theirs.pk]})
    assert response.status_code == 302
    assert 'data-unread="1"' in client.get(reverse("home")).content.decode()
    theirs.refresh_from_db()
    assert theirs.read_at is None  # someone else's id changes nothing
    client.post(reverse("notify:notification_list"), {"read_all": "1"})
    assert "data-unread" not in client.get(reverse("home")).content.decode()


def test_opening_a_notification_marks_it_read_and_follows_only_our_own_links(client, engineer):
    notify([engineer], "inside", url="/customers/")
    notify([engineer], "outside", url="https://evil.example/phish")
    inside, outside = (OutboxMessage.objects.get(dedupe_key=key) for key in ("inside", "outside"))
    client.force_login(engineer)
    assert client.post(reverse("notify:notification_list"), {"open": inside.pk})["Location"] == "/customers/"
    assert client.post(reverse("notify:notification_list"), {"open": outside.pk})["Location"] == reverse("notify:notification_list")
    assert OutboxMessage.objects.filter(read_at__isnull=False).count() == 2
    assert client.post(reverse("notify:notification_list"), {"open": "abc"}).status_code == 400


def test_the_bell_costs_one_query_whatever_the_number_of_notifications(client, engineer, django_assert_num_queries):
    for n in range(120):
        notify([engineer], f"n{n}")
    client.force_login(engineer)
    page = client.get(reverse("notify:preferences")).content.decode()
    assert 'data-unread="100"' in page and "99+" in page
    from django.template import Context, Template

    template = Template("{% load notifications %}{% notification_bell %}")
    with django_assert_num_queries(1):
        template.render(Context({"user": engineer}))


def test_a_user_chooses_their_channels(client, customer_user_a):
    client.force_login(customer_user_a)
    assert client.get(reverse("notify:preferences")).status_code == 200
    response = client.post(reverse("notify:preferences"), {"inapp": "on"})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=customer_user_a)
    assert (preference.email, preference.inapp) == (False, True)


def test_administrator_sees_a_given_up_message_with_its_error_and_retries_it(
        client, admin_user, make_endpoint, receiver, frozen_clock, django_capture_on_commit_callbacks):
    message = failed_robot_message(make_endpoint, receiver)
    client.force_login(admin_user)
    page = client.get(reverse("notify:outbox")).content.decode()
    assert "升级：出发超时" in page and "token is not exist" in page and "宁夏分公司群" in page
    assert "升级：出发超时" in client.get(reverse("notify:outbox") + "?state=failed").content.decode()
    assert "升级：出发超时" not in client.get(reverse("notify:outbox") + "?state=pending").content.decode()

    receiver.script = [(200, {"errcode": 0, "errmsg": "ok"})]
    with django_capture_on_commit_callbacks(execute=True):  # the nudge after the commit; huey runs inline
        response = client.post(reverse("notify:outbox"), {"retry": message.pk})
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.sent_at is not None and message.failed_at is None and len(receiver.requests) == 2
    assert "升级：出发超时" not in client.get(reverse("notify:outbox")).content.decode()
    client.post(reverse("notify:outbox"), {"retry": message.pk})  # a delivered message is not sent again
    assert len(receiver.requests) == 2


@pytest.mark.parametrize("role", ["engineer", "dispatcher", "general_manager", "customer_user_a"])
def test_others_may_neither_see_nor_retry_the_outbox(role, request, client, make_endpoint, receiver):
    message = failed_robot_message(make_endpoint, receiver)
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("notify:outbox")).status_code == 403
    assert client.post(reverse("notify:outbox"), {"retry": message.pk}).status_code == 403
    message.refresh_from_db()
    assert message.failed_at is not None and len(receiver.requests) == 1


def test_retry_needs_the_csrf_token(admin_user, make_endpoint, receiver):
    from django.test import Client

    message = failed_robot_message(make_endpoint, receiver)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(reverse("notify:outbox"), {"retry": message.pk}).status_code == 403
    message.refresh_from_db()
    assert message.failed_at is not None
