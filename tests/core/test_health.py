"""Issue 20 point 5: /health/ for monitors (core/health.py), the worker's heartbeat (core/heartbeat_tasks.py) and
the "System health" card of the administrators' overview."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from aftersales.core import clock, health
from aftersales.core.heartbeat_tasks import record, worker_heartbeat
from aftersales.core.models import Heartbeat
from aftersales.notify.models import Channel, OutboxMessage
from aftersales.service import verbs
from aftersales.service.models import Channel as RequestChannel
from aftersales.service.models import Priority, ServiceRequest

URL = "/health/"
KEYS = {"status", "failing", "checks"}
CHECK_KEYS = {"database": {"ok", "ms", "limit_seconds"}, "outbox": {"ok", "age_seconds", "limit_seconds"},
              "deadlines": {"ok", "age_seconds", "limit_seconds"}, "heartbeat": {"ok", "age_seconds", "limit_seconds"}}


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def beating(frozen_clock, db):
    record()
    return frozen_clock


@pytest.fixture
def request_a(frozen_clock, dispatcher, project_a, device_a):
    return verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel=RequestChannel.PHONE,
                              title="NVR 录像丢失", description="3 号 NVR 昨晚录像缺失", devices=[device_a])


def get(client):
    response = client.get(URL)
    body = response.json()
    assert set(body) == KEYS and {k: set(v) for k, v in body["checks"].items()} == CHECK_KEYS  # fixed shape
    return response, body


def test_url_is_named_health():
    assert reverse("health") == URL


def test_all_ok_with_a_fresh_heartbeat(client, beating, request_a):
    beating.shift(timedelta(seconds=30))
    response, body = get(client)
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert body["checks"]["heartbeat"] == {"ok": True, "age_seconds": 30, "limit_seconds": 180}
    assert body["checks"]["database"]["ok"] and body["checks"]["database"]["ms"] >= 0
    assert body["checks"]["deadlines"] == {"ok": True, "age_seconds": None, "limit_seconds": 300}


def test_failing_without_a_heartbeat(client, frozen_clock, db):
    response, body = get(client)
    assert response.status_code == 503
    assert body["status"] == "failing" and body["failing"] == ["heartbeat"]
    assert body["checks"]["heartbeat"] == {"ok": False, "age_seconds": None, "limit_seconds": 180}


def test_failing_when_the_heartbeat_is_old(client, beating):
    beating.shift(timedelta(minutes=3))
    assert get(client)[0].status_code == 200  # at the limit
    beating.shift(timedelta(seconds=1))
    response, body = get(client)
    assert response.status_code == 503 and body["failing"] == ["heartbeat"]
    assert body["checks"]["heartbeat"]["age_seconds"] == 181


def test_failing_when_an_outbox_message_is_due_for_20_minutes(client, beating, dispatcher):
    now = clock.now()
    OutboxMessage.objects.create(channel=Channel.EMAIL, recipient_user=dispatcher, recipient_address="d@example.com",
                                 event="escalation", subject="s", dedupe_key="k", created_at=now - timedelta(minutes=20),
                                 next_attempt_at=now - timedelta(minutes=20))
    # A message being sent (its lease in the future), one delivered and one given up do not count.
    for key, fields in {"lease": {"next_attempt_at": now + timedelta(minutes=5)}, "sent": {"sent_at": now},
                        "failed": {"failed_at": now - timedelta(hours=5)}}.items():
        OutboxMessage.objects.create(channel=Channel.EMAIL, recipient_user=dispatcher, recipient_address="d@example.com",
                                     event="escalation", subject="s", dedupe_key=key, created_at=now - timedelta(hours=6),
                                     **fields)
    response, body = get(client)
    assert response.status_code == 503 and body["failing"] == ["outbox"]
    assert body["checks"]["outbox"] == {"ok": False, "age_seconds": 1200, "limit_seconds": 900}


def test_a_message_due_for_a_short_while_is_fine(client, beating, dispatcher):
    now = clock.now()
    OutboxMessage.objects.create(channel=Channel.INAPP, recipient_user=dispatcher, event="escalation", subject="s",
                                 dedupe_key="k", created_at=now, next_attempt_at=now - timedelta(minutes=2))
    response, body = get(client)
    assert response.status_code == 200 and body["checks"]["outbox"]["age_seconds"] == 120


def test_failing_when_a_deadline_check_is_10_minutes_overdue(client, beating, request_a):
    now = clock.now()
    ServiceRequest.objects.filter(pk=request_a.pk).update(next_check_at=now - timedelta(minutes=10))
    response, body = get(client)
    assert response.status_code == 503 and body["failing"] == ["deadlines"]
    assert body["checks"]["deadlines"] == {"ok": False, "age_seconds": 600, "limit_seconds": 300}


def test_a_check_within_the_sweeps_grace_is_not_reported(client, beating, request_a):
    ServiceRequest.objects.filter(pk=request_a.pk).update(next_check_at=clock.now() - timedelta(seconds=90))
    response, body = get(client)
    assert response.status_code == 200 and body["checks"]["deadlines"]["age_seconds"] is None


def test_thresholds_come_from_settings(client, beating, settings):
    settings.AFTERSALES_HEALTH_HEARTBEAT_MAX_AGE = 10
    beating.shift(timedelta(seconds=11))
    response, body = get(client)
    assert response.status_code == 503 and body["checks"]["heartbeat"]["limit_seconds"] == 10
    settings.AFTERSALES_HEALTH_HEARTBEAT_MAX_AGE = "nonsense"
    assert health.limit("AFTERSALES_HEALTH_HEARTBEAT_MAX_AGE") == 180


def test_a_database_error_fails_every_check(client, beating, monkeypatch):
    from django.db import OperationalError

    def broken(now):
        raise OperationalError("database is locked")

    monkeypatch.setattr(health, "oldest_due_message", broken)
    checks = health.run_checks()
    assert [check.ok for check in checks] == [False, False, False, False]
    assert health.report(checks)["failing"] == ["database", "outbox", "deadlines", "heartbeat"]


def test_anonymous_answer_reveals_no_business_data(client, beating, request_a, customer_a, dispatcher):
    ServiceRequest.objects.filter(pk=request_a.pk).update(next_check_at=clock.now() - timedelta(minutes=10))
    response = client.get(URL)
    assert response.status_code == 503  # answered, not redirected to the login page
    text = response.content.decode()
    for secret in (customer_a.name, request_a.title, dispatcher.username, request_a.number, "NVR"):
        assert secret not in text
    numbers = [v for check in response.json()["checks"].values() for k, v in check.items() if k not in ("ok",)]
    assert all(v is None or isinstance(v, (int, float)) for v in numbers)  # ages, times and limits only


def test_only_get_and_head(client, beating):
    assert client.post(URL).status_code == 405
    assert client.head(URL).status_code == 200


def test_query_count_is_fixed(client, beating, request_a, dispatcher, django_assert_max_num_queries):
    now = clock.now()
    OutboxMessage.objects.bulk_create([
        OutboxMessage(channel=Channel.INAPP, recipient_user=dispatcher, event="e", subject="s", dedupe_key=f"k{i}",
                      created_at=now, next_attempt_at=now - timedelta(minutes=i)) for i in range(30)])
    with django_assert_max_num_queries(4):
        client.get(URL)


@pytest.mark.skipif("os.environ.get('TEST_DB', 'sqlite') != 'sqlite'")
def test_the_queries_use_the_outbox_and_deadline_indexes(db):
    now = clock.now()
    outbox = (OutboxMessage.objects.filter(sent_at=None, failed_at=None, next_attempt_at__lte=now)
              .order_by("next_attempt_at").values_list("next_attempt_at", flat=True)[:1])
    deadlines = (ServiceRequest.objects.filter(next_check_at__lte=now - health.DEADLINE_GRACE)
                 .order_by("next_check_at").values_list("next_check_at", flat=True)[:1])
    if connection.vendor != "sqlite":
        pytest.skip("the plan of a nearly empty PostgreSQL table is a sequential scan")
    assert "outbox_due" in outbox.explain()
    assert "srq_check" in deadlines.explain()


def test_the_heartbeat_task_writes_the_row(frozen_clock, db):
    worker_heartbeat.call_local()
    assert Heartbeat.objects.get(name=health.WORKER).at == clock.now()
    frozen_clock.shift(timedelta(minutes=1))
    worker_heartbeat()  # through the queue (inline in tests)
    assert Heartbeat.objects.get().at == clock.now()


def test_the_heartbeat_is_a_periodic_task_of_the_worker():
    from huey.contrib.djhuey import HUEY

    due = HUEY.read_periodic(clock.now().replace(tzinfo=None))  # the tasks the consumer enqueues this minute
    assert any(task.name.endswith("worker_heartbeat") for task in due)


def test_https_redirect_spares_health():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_") and k != "DJANGO_SETTINGS_MODULE"}
    env |= {"AFTERSALES_HTTPS": "true", "AFTERSALES_SECRET_KEY": "x" * 60, "AFTERSALES_DB": "sqlite",
            "DJANGO_SETTINGS_MODULE": "aftersales.settings"}
    script = ("import json, django; django.setup(); from django.conf import settings; "
              "print(json.dumps([settings.SECURE_SSL_REDIRECT, settings.SECURE_REDIRECT_EXEMPT]))")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    redirect, exempt = json.loads(out.strip().splitlines()[-1])
    assert redirect is True and exempt == [r"^health/$"]


def test_plain_http_reaches_health_when_https_redirects(client, beating, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    assert client.get("/login/").status_code == 301
    assert client.get(URL).status_code == 200


def test_the_admin_overview_shows_system_health(client, beating, admin_user):
    client.force_login(admin_user)
    text = client.get("/").content.decode()
    assert "System health" in text and 'id="system-health"' in text
    for label in ("Database", "Notification outbox", "Deadline checks", "Worker heartbeat"):
        assert label in text
    assert "last beat 0 seconds ago" in text


def test_the_admin_overview_says_when_a_check_fails(client, frozen_clock, admin_user):
    client.force_login(admin_user)
    text = client.get("/").content.decode()
    assert "Failing" in text and "no heartbeat yet" in text


def test_a_dispatchers_overview_has_no_system_health(client, beating, dispatcher):
    client.force_login(dispatcher)
    response = client.get("/")
    assert response.status_code == 200
    assert "System health" not in response.content.decode()
