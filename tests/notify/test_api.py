"""NOT-1 API: /api/notifications/ (the caller's own), /api/outbox/ (administrators)."""

import pytest
from django.urls import reverse

from aftersales.notify import services
from aftersales.notify.models import EndpointKind, OutboxMessage

from ..conftest import api_as


def notify(users, key):
    services.enqueue(event="confirmation_needed", about=None, recipients=users, subject="请确认工单", body="",
                     dedupe_key=key)


def test_notifications_api_lists_only_the_callers_own_and_marks_them_read(customer_user_a, customer_user_b):
    notify([customer_user_a], "a1")
    notify([customer_user_a], "a2")
    notify([customer_user_b], "b1")
    api = api_as(customer_user_a)
    body = api.get(reverse("notification-list")).json()
    assert body["count"] == 2 and {n["subject"] for n in body["results"]} == {"请确认工单"}
    mine = [n["id"] for n in body["results"]]
    theirs = OutboxMessage.objects.get(recipient_user=customer_user_b).pk
    assert api.post(reverse("notification-read"), {"ids": [mine[0], theirs]}, format="json").json() == {"marked": 1}
    assert api.get(reverse("notification-list"), {"unread": "true"}).json()["count"] == 1
    assert api.get(reverse("notification-unread-count")).json() == {"unread": 1, "capped": False}
    assert api.post(reverse("notification-read"), {"all": True}, format="json").json() == {"marked": 1}
    assert OutboxMessage.objects.get(pk=theirs).read_at is None


@pytest.mark.parametrize(("query", "data"), [({"unread": "yes"}, None), (None, {}), (None, {"ids": ["x"]})])
def test_bad_input_is_a_400_with_a_field_message(engineer, query, data):
    api = api_as(engineer)
    if data is None:
        response = api.get(reverse("notification-list"), query)
    else:
        response = api.post(reverse("notification-read"), data, format="json")
    assert response.status_code == 400 and response.json()


def test_outbox_api_is_for_administrators(engineer, admin_user, make_endpoint, receiver):
    make_endpoint(kind=EndpointKind.WECOM)
    receiver.script = [(500, {})]
    services.enqueue(event="escalation", about=None, subject="升级", body="", dedupe_key="esc")
    message = OutboxMessage.objects.get()
    services.deliver(message.pk)
    assert api_as(engineer).get(reverse("outbox-list")).status_code == 403
    assert api_as(engineer).post(reverse("outbox-retry"), {"id": message.pk}, format="json").status_code == 403
    rows = api_as(admin_user).get(reverse("outbox-list"), {"state": "pending"}).json()["results"]
    assert [(r["id"], r["state"], r["attempts"], r["last_error"]) for r in rows] == [(message.pk, "pending", 1, "HTTP 500: {}")]
    response = api_as(admin_user).post(reverse("outbox-retry"), {"id": message.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "illegal_transition")  # only given-up ones
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=None, failed_at=message.created_at)
    response = api_as(admin_user).post(reverse("outbox-retry"), {"id": message.pk}, format="json")
    assert response.status_code == 200 and response.json()["state"] in ("pending", "sent")
    assert api_as(admin_user).post(reverse("outbox-retry"), {"id": 999999}, format="json").status_code == 404
