"""Issue 11 §3: monitoring alarms → requests. One open request per device and alarm type (also under
concurrent and out-of-order events), priorities from rules, recovery, unmatched devices, key scoping."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aftersales.intake.alarms import keys, receiving
from aftersales.intake.alarms.rules import ensure_default_rules
from aftersales.intake.models import ActiveAlarm, AlarmEvent, AlarmOutcome, AlarmPriorityRule, DeviceAlias, IntegrationKey
from aftersales.service import verbs
from aftersales.service.models import Channel, EventKind, Priority, ServiceRequest, State, TimelineEvent

from ..concurrency import database_for_threads, in_threads
from ..factories import DeviceCategoryFactory, DeviceFactory, ProjectFactory

URL = "/api/alarms/events/"


# ------------------------------------------------------------------------------------------ fixtures and helpers

@pytest.fixture
def nvr_category(db):
    return DeviceCategoryFactory(code="nvr", name="硬盘录像机")


@pytest.fixture
def camera_category(db):
    return DeviceCategoryFactory(code="camera", name="摄像机")


@pytest.fixture
def rules(nvr_category, camera_category):
    """The default rules; written again because a transactional test's flush removes migration data."""
    ensure_default_rules()


@pytest.fixture
def nvr(project_a, nvr_category, rules):
    return DeviceFactory(project=project_a, category=nvr_category, name="NVR-01", serial_number="NVR0001")


@pytest.fixture
def camera(project_a, camera_category, rules):
    return DeviceFactory(project=project_a, category=camera_category, name="CAM-07", serial_number="CAM0007")


def make_key(customer, admin, *, project=None, auto_close=True, name="Zabbix 天网机房"):
    key, plain = keys.create_key(by=admin, customer=customer, project=project, name=name, auto_close_recovered=auto_close)
    return plain


@pytest.fixture
def key_a(customer_a, admin_user):
    return make_key(customer_a, admin_user)


_BASE = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)  # fixed: at(0) twice is the same instant


def at(minutes: float) -> str:
    """An ISO 8601 time with offset, `minutes` after a base an hour before the session started (Shanghai time)."""
    return timezone.localtime(_BASE + timedelta(minutes=minutes)).isoformat()


def event(device=None, *, state="raised", type_="offline", time=None, serial=None, external_id=None, detail="", **device_extra):
    if external_id is not None:
        named = {"external_id": external_id}
    else:
        named = {"serial": serial or device.serial_number, **device_extra}
    body = {"device": named, "type": type_, "state": state}
    if time is not None:
        body["time"] = time
    if detail:
        body["detail"] = detail
    return body


def post(key, body, *, client=None, header="bearer"):
    client = client or APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if header == "bearer" else {"HTTP_X_AFTERSALES_KEY": key}
    return client.post(URL, body, format="json", **headers)


def counts():
    return (AlarmEvent.objects.count(), ServiceRequest.objects.count(), TimelineEvent.objects.count(),
            ActiveAlarm.objects.count(), DeviceAlias.objects.count())


def alarm_lines(request, kind=EventKind.ALARM_RAISED):
    return list(TimelineEvent.objects.filter(request=request, kind=kind).order_by("pk"))


# ------------------------------------------------------------------------------------------ opening, priorities

@pytest.mark.django_db
def test_a_raise_opens_one_request_with_the_rule_priority_title_and_timeline(key_a, nvr):
    response = post(key_a, event(nvr, time=at(0), detail="ICMP 不可达"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["outcome"] == "opened" and body["request"]["number"].startswith("SR")
    request = ServiceRequest.objects.get(pk=body["request"]["id"])
    assert request.priority == Priority.SERIOUS  # NVR offline → 严重
    assert request.channel == Channel.ALARM and request.reporter is None and request.reporter_name == "Zabbix 天网机房"
    assert "NVR-01" in request.title and request.title.startswith(("【告警】", "[Alarm]"))
    assert list(request.devices.all()) == [nvr]
    assert [e.kind for e in request.events.order_by("pk")] == [EventKind.CREATED, EventKind.ALARM_RAISED]
    assert ActiveAlarm.objects.get(device=nvr, alarm_type="offline").request == request
    stored = AlarmEvent.objects.get(pk=body["event"])
    assert stored.outcome == AlarmOutcome.OPENED and stored.device == nvr and stored.request == request
    assert stored.payload["detail"] == "ICMP 不可达"


@pytest.mark.django_db
def test_priority_mapping_nvr_offline_serious_camera_offline_general_most_specific_wins(key_a, nvr, camera, nvr_category):
    assert post(key_a, event(nvr, time=at(0))).json()["request"]["id"]
    assert ServiceRequest.objects.get(devices=nvr).priority == Priority.SERIOUS
    post(key_a, event(camera, time=at(0)))
    assert ServiceRequest.objects.get(devices=camera).priority == Priority.GENERAL
    post(key_a, event(camera, type_="tamper", time=at(0)))  # type default
    assert ServiceRequest.objects.filter(devices=camera, priority=Priority.SERIOUS).count() == 1
    post(key_a, event(camera, type_="fan-failure", time=at(0)))  # no rule at all → general; '-' becomes '_'
    assert AlarmEvent.objects.filter(alarm_type="fan_failure", outcome=AlarmOutcome.OPENED).count() == 1
    # an administrator's rule for a category wins over the type's default
    AlarmPriorityRule.objects.create(alarm_type="video_loss", category=nvr_category, priority=Priority.EMERGENCY)
    post(key_a, event(nvr, type_="video_loss", time=at(0)))
    assert ServiceRequest.objects.filter(devices=nvr, priority=Priority.EMERGENCY).count() == 1


@pytest.mark.django_db
def test_default_rules_come_from_the_migration_and_fill_in_categories_later(nvr_category):
    defaults = set(AlarmPriorityRule.objects.filter(category__isnull=True).values_list("alarm_type", "priority"))
    assert defaults >= {("offline", "general"), ("video_loss", "general"), ("disk_error", "serious"),
                        ("tamper", "serious"), ("storage_full", "serious")}
    assert ensure_default_rules() >= 1  # the NVR rule, once the category exists
    assert AlarmPriorityRule.objects.get(alarm_type="offline", category=nvr_category).priority == Priority.SERIOUS
    assert ensure_default_rules() == 0


@pytest.mark.django_db
def test_without_any_rule_the_priority_falls_back_to_general(key_a, nvr):
    AlarmPriorityRule.objects.all().delete()
    post(key_a, event(nvr, time=at(0)))
    assert ServiceRequest.objects.get(devices=nvr).priority == Priority.GENERAL


@pytest.mark.django_db
def test_repeated_raises_add_to_the_timeline_of_the_one_open_request(key_a, nvr):
    answers = [post(key_a, event(nvr, time=at(i))) for i in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert [a.json()["outcome"] for a in answers] == ["opened", "appended", "appended"]
    request = ServiceRequest.objects.get()
    assert len(alarm_lines(request)) == 3
    assert {a.json()["request"]["id"] for a in answers} == {request.pk}


# ------------------------------------------------------------------------------------------ recovery

@pytest.mark.django_db
def test_raise_clear_raise_with_auto_close_closes_as_recovered_then_opens_a_new_request(key_a, nvr):
    first = post(key_a, event(nvr, time=at(0))).json()["request"]["id"]
    cleared = post(key_a, event(nvr, state="cleared", time=at(5), detail="Ping OK"))
    assert cleared.status_code == 200 and cleared.json()["outcome"] == "closed"
    request = ServiceRequest.objects.get(pk=first)
    assert request.state == State.CANCELLED and request.next_due_at is None
    recovery = alarm_lines(request, EventKind.ALARM_CLEARED)
    assert len(recovery) == 1 and recovery[0].data["closed"] is True and recovery[0].text
    assert ActiveAlarm.objects.get(device=nvr).cleared_at is not None

    again = post(key_a, event(nvr, time=at(10)))
    assert again.status_code == 201 and again.json()["outcome"] == "opened"
    assert again.json()["request"]["id"] != first
    assert ServiceRequest.objects.filter(devices=nvr).count() == 2
    assert ActiveAlarm.objects.get(device=nvr).cleared_at is None


@pytest.mark.django_db
def test_raise_clear_raise_without_auto_close_records_the_recovery_and_reopens_the_same_request(customer_a, admin_user, nvr):
    key = make_key(customer_a, admin_user, auto_close=False)
    opened = post(key, event(nvr, time=at(0))).json()["request"]["id"]
    cleared = post(key, event(nvr, state="cleared", time=at(5))).json()
    assert cleared["outcome"] == "recovered" and cleared["request"]["state"] == State.NEW
    again = post(key, event(nvr, time=at(10)))
    assert again.status_code == 200 and again.json()["outcome"] == "appended" and again.json()["request"]["id"] == opened
    lines = alarm_lines(ServiceRequest.objects.get(pk=opened))
    assert len(lines) == 2 and lines[-1].data["again"] is True


@pytest.mark.django_db
def test_a_clear_after_dispatch_is_recorded_and_the_desk_decides(key_a, nvr, dispatcher, engineer):
    opened = post(key_a, event(nvr, time=at(0))).json()["request"]["id"]
    request = ServiceRequest.objects.get(pk=opened)
    verbs.dispatch(request=request, by=dispatcher, version=request.version, engineer=engineer)
    cleared = post(key_a, event(nvr, state="cleared", time=at(5))).json()
    assert cleared["outcome"] == "recovered"
    request = ServiceRequest.objects.get(pk=opened)
    assert request.state == State.DISPATCHED
    assert alarm_lines(request, EventKind.ALARM_CLEARED)[0].data["closed"] is False


@pytest.mark.django_db
def test_a_desk_that_closed_the_request_gets_a_new_one_when_the_device_keeps_alarming(key_a, nvr, dispatcher):
    opened = post(key_a, event(nvr, time=at(0))).json()["request"]["id"]
    request = ServiceRequest.objects.get(pk=opened)
    verbs.cancel(request=request, by=dispatcher, version=request.version, reason="已电话确认")
    retried = post(key_a, event(nvr, time=at(0)))  # the same raise delivered again: the desk has seen it
    assert retried.status_code == 200 and retried.json()["outcome"] == "ignored"
    again = post(key_a, event(nvr, time=at(1)))
    assert again.status_code == 201 and again.json()["request"]["id"] != opened


# ------------------------------------------------------------------------------------------ out of order

@pytest.mark.django_db
def test_a_clear_older_than_the_raise_is_ignored_and_changes_nothing(key_a, nvr):
    opened = post(key_a, event(nvr, time=at(10))).json()["request"]["id"]
    late = post(key_a, event(nvr, state="cleared", time=at(5)))
    assert late.status_code == 200 and late.json()["outcome"] == "ignored"
    stored = AlarmEvent.objects.get(pk=late.json()["event"])
    assert stored.outcome == AlarmOutcome.IGNORED and stored.reason
    request = ServiceRequest.objects.get(pk=opened)
    assert request.state == State.NEW and not alarm_lines(request, EventKind.ALARM_CLEARED)
    assert ActiveAlarm.objects.get(device=nvr).cleared_at is None


@pytest.mark.django_db
def test_late_raises_after_a_newer_recovery_open_nothing(key_a, nvr):
    # the recovery arrives first: nothing to clear, but it is remembered
    assert post(key_a, event(nvr, state="cleared", time=at(5))).json()["outcome"] == "ignored"
    assert post(key_a, event(nvr, time=at(0))).json()["outcome"] == "ignored"
    assert not ServiceRequest.objects.exists()
    # raise → clear, then a retried (duplicate) raise and an older one
    post(key_a, event(nvr, time=at(10)))
    post(key_a, event(nvr, state="cleared", time=at(15)))
    assert post(key_a, event(nvr, time=at(10))).json()["outcome"] == "ignored"
    assert post(key_a, event(nvr, time=at(12))).json()["outcome"] == "ignored"
    assert ServiceRequest.objects.count() == 1 and ServiceRequest.objects.get().state == State.CANCELLED
    assert post(key_a, event(nvr, state="cleared", time=at(16))).json()["outcome"] == "ignored"  # second clear


@pytest.mark.django_db
def test_a_time_without_offset_is_refused_and_a_future_time_is_replaced_by_the_receipt_time(key_a, nvr):
    naive = post(key_a, event(nvr, time="2026-11-26T10:00:00"))
    assert naive.status_code == 400 and "time" in naive.json()["errors"]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = post(key_a, event(nvr, time=future))
    assert response.status_code == 201
    stored = AlarmEvent.objects.get(pk=response.json()["event"])
    assert stored.occurred_at <= timezone.now() and stored.reason  # the note says why


# ------------------------------------------------------------------------------------------ unknown devices

@pytest.mark.django_db
def test_an_unknown_device_is_kept_as_unmatched_and_the_caller_gets_422(key_a, nvr, client, dispatcher):
    response = post(key_a, event(serial="NO-SUCH-SN", time=at(0)))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "unknown_device" and body["outcome"] == "unmatched" and body["request"] is None
    assert body["device"] == {"serial": "NO-SUCH-SN"} and "NO-SUCH-SN" in body["detail"]
    stored = AlarmEvent.objects.get(pk=body["event"])
    assert stored.outcome == AlarmOutcome.UNMATCHED and "NO-SUCH-SN" in stored.reason and stored.device is None
    assert not ServiceRequest.objects.exists()
    client.force_login(dispatcher)
    page = client.get(reverse("intake:alarm_unmatched"))
    assert page.status_code == 200 and "NO-SUCH-SN" in page.content.decode()


@pytest.mark.django_db
def test_an_external_id_mapped_on_the_page_replays_its_events_in_time_order(key_a, nvr, client, admin_user):
    assert post(key_a, event(external_id="zbx-10084", time=at(0))).status_code == 422
    assert post(key_a, event(external_id="zbx-10084", state="cleared", time=at(5))).status_code == 422
    first = AlarmEvent.objects.order_by("pk").first()
    client.force_login(admin_user)
    response = client.post(reverse("intake:alarm_unmatched"),
                           {"action": "map", "event": first.pk, "serial": nvr.serial_number, "replay": "on"})
    assert response.status_code == 302
    assert DeviceAlias.objects.get(external_id="zbx-10084").device == nvr
    assert not AlarmEvent.objects.filter(outcome=AlarmOutcome.UNMATCHED).exists()
    assert list(AlarmEvent.objects.order_by("pk").values_list("outcome", flat=True)) == ["opened", "closed"]
    # from now on the id resolves directly
    assert post(key_a, event(external_id="zbx-10084", time=at(20))).status_code == 201


@pytest.mark.django_db
def test_a_serial_registered_later_is_found_by_replay(key_a, project_a, camera_category, client, admin_user):
    post(key_a, event(serial="LATE-001", time=at(0)))
    DeviceFactory(project=project_a, category=camera_category, serial_number="LATE-001")
    client.force_login(admin_user)
    client.post(reverse("intake:alarm_unmatched"), {"action": "replay", "event": AlarmEvent.objects.get().pk})
    assert AlarmEvent.objects.get().outcome == AlarmOutcome.OPENED and ServiceRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_project_key_cannot_reach_another_projects_or_customers_device(customer_a, admin_user, project_a, nvr, device_b):
    other_project = ProjectFactory(customer=customer_a, name="另一个项目")
    elsewhere = DeviceFactory(project=other_project, serial_number="ELSEWHERE-1")
    key = make_key(customer_a, admin_user, project=project_a)
    assert post(key, event(elsewhere, time=at(0))).status_code == 422
    assert post(key, event(device_b, time=at(0))).status_code == 422  # another customer's device
    DeviceAlias.objects.create(customer=customer_a, external_id="ext-else", device=elsewhere)
    assert post(key, event(external_id="ext-else", time=at(0))).status_code == 422  # even through an alias
    assert post(key, event(nvr, time=at(0))).status_code == 201
    assert not ServiceRequest.objects.filter(devices__in=[elsewhere, device_b]).exists()
    # The lookups are compiled once per process with the key's customer and project as parameters: a key of the
    # whole customer reaches the other project's device, and still not the other customer's.
    customer_key = make_key(customer_a, admin_user)
    assert post(customer_key, event(device_b, time=at(1))).status_code == 422
    assert post(customer_key, event(elsewhere, time=at(1))).status_code == 201
    assert post(key, event(elsewhere, type_="video_loss", time=at(2))).status_code == 422


@pytest.mark.django_db
def test_an_ambiguous_serial_needs_the_manufacturer(key_a, project_a, camera_category):
    from ..factories import ManufacturerFactory

    DeviceFactory(project=project_a, category=camera_category, serial_number="DUP-1", manufacturer=ManufacturerFactory(name="海康威视"))
    dahua = DeviceFactory(project=project_a, category=camera_category, serial_number="DUP-1", manufacturer=ManufacturerFactory(name="大华"))
    assert post(key_a, event(serial="DUP-1", time=at(0))).status_code == 422
    response = post(key_a, event(serial="DUP-1", manufacturer="大华", time=at(0)))
    assert response.status_code == 201 and ServiceRequest.objects.get(pk=response.json()["request"]["id"]).devices.get() == dahua


# ------------------------------------------------------------------------------------------ authentication and validation

@pytest.mark.django_db
def test_a_wrong_missing_or_inactive_key_is_401_and_writes_nothing(key_a, nvr, customer_a, admin_user, dispatcher):
    before = counts()
    last_used = list(IntegrationKey.objects.values_list("last_used_at", flat=True))
    assert post("ask_wrong", event(nvr)).status_code == 401
    assert post("ask_wrong", event(nvr), header="x").status_code == 401
    assert APIClient().post(URL, event(nvr), format="json").status_code == 401
    assert APIClient().post(URL, event(nvr), format="json", HTTP_AUTHORIZATION="Token abc").status_code == 401
    logged_in = APIClient()
    logged_in.force_login(dispatcher)  # a logged-in user (session) is not a source
    assert logged_in.post(URL, event(nvr), format="json").status_code == 401
    inactive = make_key(customer_a, admin_user, name="old")
    IntegrationKey.objects.filter(name="old").update(active=False)
    response = post(inactive, event(nvr))
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert counts() == before
    assert list(IntegrationKey.objects.exclude(name="old").values_list("last_used_at", flat=True)) == last_used


@pytest.mark.django_db
def test_a_key_is_read_from_the_database_on_every_event_with_one_query(key_a, nvr):
    assert post(key_a, event(nvr, time=at(0))).status_code == 201
    for raw in (key_a, key_a, "ask_wrong"):  # a credential is never kept per worker: each use is one indexed query
        with CaptureQueriesContext(connection) as captured:
            found = keys.authenticate(raw)
        assert len(captured) == 1 and "key_hash" in captured[0]["sql"]
        assert (found is not None) == (raw == key_a)
    keys.deactivate_key(IntegrationKey.objects.get())
    assert post(key_a, event(nvr, time=at(1))).status_code == 401


@pytest.mark.django_db
def test_a_key_deactivated_without_signals_is_refused_on_the_next_event(key_a, nvr):
    """As another worker (or a data fix) would do it: a QuerySet.update() sends no post_save, so nothing in this
    process hears of it; the next event is refused all the same, and writes nothing."""
    assert post(key_a, event(nvr, time=at(0))).status_code == 201
    assert post(key_a, event(nvr, time=at(1))).status_code == 200  # the key was just used in this process
    events = AlarmEvent.objects.count()
    IntegrationKey.objects.filter(key_hash=hashlib.sha256(key_a.encode()).hexdigest()).update(active=False)
    response = post(key_a, event(nvr, time=at(2)))
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"
    assert AlarmEvent.objects.count() == events


@pytest.mark.django_db
def test_the_last_use_is_written_at_most_once_a_minute_per_worker(key_a):
    key, now = keys.authenticate(key_a), timezone.now()

    def writes(at):
        with CaptureQueriesContext(connection) as captured:
            keys.touch(key, now=at)
        return len(captured)

    assert [writes(now), writes(now + timedelta(seconds=59)), writes(now + timedelta(seconds=61)),
            writes(now + timedelta(seconds=62))] == [1, 0, 1, 0]
    assert IntegrationKey.objects.get().last_used_at == now + timedelta(seconds=61)


@pytest.mark.django_db
def test_the_key_header_works_too_and_get_is_not_allowed(key_a, nvr):
    assert post(key_a, event(nvr, time=at(0)), header="x").status_code == 201
    assert IntegrationKey.objects.get().last_used_at is not None
    assert APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {key_a}").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("body", [
    {"device": {"serial": "NVR0001"}, "type": "offline"},  # no state
    {"device": {"serial": "NVR0001"}, "type": "offline", "state": "resolved"},
    {"device": {"serial": "NVR0001", "external_id": "x"}, "type": "offline", "state": "raised"},  # both names
    {"device": {}, "type": "offline", "state": "raised"},
    {"device": {"serial": "NVR0001"}, "type": "Video Loss!", "state": "raised"},
    {"device": {"serial": "NVR0001"}, "type": "offline", "state": "raised", "time": "yesterday"},
    [],
    [{"device": {"serial": "NVR0001"}, "type": "offline", "state": "raised"}, {"type": "offline"}],  # one bad item
    "offline",
])
def test_invalid_events_are_400_with_field_messages_and_write_nothing(key_a, nvr, body):
    before = counts()
    response = post(key_a, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and "errors" in response.json()
    assert counts() == before


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_refused(key_a, nvr):
    response = APIClient().post(URL, "device=1", content_type="application/x-www-form-urlencoded",
                                HTTP_AUTHORIZATION=f"Bearer {key_a}")
    assert response.status_code == 415 and not AlarmEvent.objects.exists()


@pytest.mark.django_db
def test_a_batch_is_answered_item_by_item(key_a, nvr, camera):
    response = post(key_a, [event(nvr, time=at(0)), event(serial="UNKNOWN-9", time=at(0)),
                            event(camera, type_="video_loss", time=at(1)), event(nvr, time=at(2)),
                            event(nvr, state="cleared", time=at(3))])
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["index"], r["status"], r["outcome"]) for r in results] == [
        (0, 201, "opened"), (1, 422, "unmatched"), (2, 201, "opened"), (3, 200, "appended"), (4, 200, "closed")]
    assert results[1]["code"] == "unknown_device"
    assert AlarmEvent.objects.count() == 5


# ------------------------------------------------------------------------------------------ concurrency

@pytest.mark.django_db
def test_the_loser_of_the_unique_insert_appends_to_the_winners_request(key_a, nvr, monkeypatch):
    """The race itself, made deterministic: our read saw no ActiveAlarm, another raise inserted it meanwhile."""
    winner = post(key_a, event(nvr, time=at(0))).json()["request"]["id"]
    real_active, calls = receiving._active, []

    def stale_first_read(device, alarm_type):
        calls.append(1)
        return None if len(calls) == 1 else real_active(device, alarm_type)

    monkeypatch.setattr(receiving, "_active", stale_first_read)
    response = post(key_a, event(nvr, time=at(1)))
    assert response.status_code == 200 and response.json()["outcome"] == "appended"
    assert response.json()["request"]["id"] == winner
    assert ServiceRequest.objects.count() == 1  # the loser's request rolled back with its savepoint
    assert len(alarm_lines(ServiceRequest.objects.get())) == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device_lock", [True, False], ids=["device-lock", "unique-key-only"])
def test_50_concurrent_raises_for_one_device_give_one_request(customer_a, admin_user, project_a, nvr_category, tmp_path,
                                                              device_lock, monkeypatch):
    """With the device row lock the raises queue; without it (unique-key-only) 49 of them lose the ActiveAlarm
    insert on PostgreSQL, roll back their savepoint and append to the winner's request."""
    if not device_lock:
        monkeypatch.setattr(receiving, "_lock_device", lambda device: None)
    ensure_default_rules()
    device = DeviceFactory(project=project_a, category=nvr_category, name="NVR-01", serial_number="NVR-RACE")
    key = make_key(customer_a, admin_user)
    with database_for_threads(tmp_path):
        statuses = in_threads(lambda i: post(key, event(device, time=at(i / 100))).status_code, 50)

        def observe(_i):
            request = ServiceRequest.objects.get(devices=device)  # exactly one, or this raises
            return {"requests": ServiceRequest.objects.filter(devices=device).count(),
                    "active": ActiveAlarm.objects.filter(device=device).count(),
                    "outcomes": sorted(AlarmEvent.objects.filter(device=device).values_list("outcome", flat=True)),
                    "lines": len(alarm_lines(request)), "vendor": connection.vendor}

        seen = in_threads(observe, 1)[0]
    assert sorted(statuses) == [200] * 49 + [201], statuses
    assert seen["requests"] == 1 and seen["active"] == 1
    assert seen["outcomes"] == ["appended"] * 49 + ["opened"]
    assert seen["lines"] == 50


# ------------------------------------------------------------------------------------------ pages, keys, schema

@pytest.mark.django_db
def test_unmatched_list_is_scoped_and_for_the_desk(key_a, customer_b, admin_user, client, dispatcher, engineer, customer_user_a):
    post(key_a, event(serial="MISSING-A", time=at(0)))
    post(make_key(customer_b, admin_user), event(serial="MISSING-B", time=at(0)))
    client.force_login(dispatcher)  # branch A
    response = client.get(reverse("intake:alarm_unmatched"))
    page = response.content.decode()
    assert "MISSING-A" in page and "MISSING-B" not in page
    assert response.context["can_map"]  # the desk (dispatchers, department managers) maps unknown devices
    foreign = AlarmEvent.objects.get(payload__device__serial="MISSING-B")
    assert client.post(reverse("intake:alarm_unmatched"), {"action": "dismiss", "event": foreign.pk}).status_code == 404
    for user in (engineer, customer_user_a):
        client.force_login(user)
        assert client.get(reverse("intake:alarm_unmatched")).status_code == 403
    client.force_login(admin_user)
    assert client.post(reverse("intake:alarm_unmatched"), {"action": "dismiss", "event": foreign.pk}).status_code == 302
    assert AlarmEvent.objects.get(pk=foreign.pk).outcome == AlarmOutcome.IGNORED


@pytest.mark.django_db
def test_an_administrator_creates_a_key_shown_once_and_only_its_hash_is_stored(client, admin_user, customer_a, project_a, nvr):
    client.force_login(admin_user)
    assert client.get(reverse("intake:key_create")).status_code == 200
    response = client.post(reverse("intake:key_create"), {"customer": customer_a.pk, "project": project_a.pk,
                                                          "name": "海康平台", "auto_close_recovered": "on"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    plain = response.context["plain_key"]
    assert plain.startswith("ask_") and plain in response.content.decode()
    key = IntegrationKey.objects.get(name="海康平台")
    assert key.key_hash == hashlib.sha256(plain.encode()).hexdigest() and key.project == project_a
    assert plain not in str(list(IntegrationKey.objects.values()))
    listing = client.get(reverse("intake:key_list")).content.decode()
    assert "海康平台" in listing and plain not in listing and key.prefix in listing
    assert post(plain, event(nvr, time=at(0))).status_code == 201
    client.post(reverse("intake:key_list"), {"action": "deactivate", "key": key.pk})
    assert not IntegrationKey.objects.get(pk=key.pk).active
    assert post(plain, event(nvr, time=at(1))).status_code == 401


@pytest.mark.django_db
def test_the_desk_sees_keys_but_cannot_create_or_deactivate_them(client, dispatcher, customer_a, admin_user):
    make_key(customer_a, admin_user, name="天网 Zabbix")
    client.force_login(dispatcher)
    assert "天网 Zabbix" in client.get(reverse("intake:key_list")).content.decode()
    assert client.get(reverse("intake:key_create")).status_code == 403
    key = IntegrationKey.objects.get()
    assert client.post(reverse("intake:key_list"), {"action": "deactivate", "key": key.pk}).status_code == 403
    assert IntegrationKey.objects.get().active


@pytest.mark.django_db
def test_a_project_of_another_customer_is_refused_for_a_key(client, admin_user, customer_a, project_b):
    client.force_login(admin_user)
    response = client.post(reverse("intake:key_create"), {"customer": customer_a.pk, "project": project_b.pk, "name": "x"})
    assert response.status_code == 200 and "plain_key" not in response.context and not IntegrationKey.objects.exists()


@pytest.mark.django_db
def test_the_desk_menu_links_the_intake_pages(client, dispatcher, engineer):
    client.force_login(dispatcher)
    home = client.get("/").content.decode()
    assert reverse("intake:alarm_unmatched") in home and reverse("intake:key_list") in home
    client.force_login(engineer)
    assert reverse("intake:alarm_unmatched") not in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_openapi_schema_documents_the_endpoint_with_examples_and_the_key_scheme(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert {"Raise", "Clear", "Batch"} <= set(examples)
    assert {"200", "201", "400", "401", "422"} <= set(operation["responses"])
    assert {"IntegrationKeyBearer": []} in operation["security"]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["IntegrationKeyBearer"]["scheme"] == "bearer"
    assert schemes["IntegrationKeyHeader"]["name"] == "X-Aftersales-Key"
    assert "get" not in schema["paths"][URL]


@pytest.mark.django_db
def test_admin_pages_for_the_alarm_models(client, admin_user, key_a):
    client.force_login(admin_user)
    for model in ("integrationkey", "devicealias", "alarmpriorityrule", "alarmevent"):
        assert client.get(f"/admin/intake/{model}/").status_code == 200, model
    key = IntegrationKey.objects.get()
    page = client.get(f"/admin/intake/integrationkey/{key.pk}/change/").content.decode()
    assert key.key_hash in page and 'name="key_hash"' not in page  # shown read-only
    assert client.get("/admin/intake/integrationkey/add/").status_code == 403
