"""NOT-1: chat robots and JSON webhooks against an HTTP server on 127.0.0.1 (lesson 4: an HTTP 200 whose
body says errcode ≠ 0 is a failure; robots allow about 20 messages a minute)."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

from aftersales.notify import services
from aftersales.notify.models import EndpointKind, OutboxMessage

SECRET = "SEC0123456789abcdef"


def enqueue(key="srq-9-created", about=None, subject="新报修：监控中心全部黑屏", body="解码器无输出", **extra):
    services.enqueue(event="request_created", about=about, subject=subject, body=body, dedupe_key=key, **extra)


def test_dingtalk_500_then_errcode_then_success_is_delivered_once_after_three_signed_attempts(
        frozen_clock, receiver, make_endpoint, project_a):
    robot = make_endpoint(kind=EndpointKind.DINGTALK, secret=SECRET)
    receiver.script = [(500, {"error": "upstream"}), (200, {"errcode": 310000, "errmsg": "sign not match"}),
                       (200, {"errcode": 0, "errmsg": "ok"})]
    enqueue(about=project_a)
    message = OutboxMessage.objects.get(endpoint=robot)

    assert services.deliver(message.pk) == services.Outcome.RETRY
    message.refresh_from_db()
    assert (message.attempts, message.sent_at, message.last_error) == (1, None, 'HTTP 500: {"error": "upstream"}')
    assert services.deliver(message.pk) == services.Outcome.SKIPPED  # not due during the backoff

    frozen_clock.shift(services.backoff(1))
    assert services.deliver(message.pk) == services.Outcome.RETRY
    message.refresh_from_db()
    assert message.attempts == 2 and message.last_error == "errcode 310000: sign not match"

    frozen_clock.shift(services.backoff(2))
    assert services.deliver(message.pk) == services.Outcome.SENT
    message.refresh_from_db()
    assert message.attempts == 3 and message.sent_at is not None and message.failed_at is None
    assert OutboxMessage.objects.filter(endpoint=robot, sent_at__isnull=False).count() == 1
    assert services.deliver(message.pk) == services.Outcome.SKIPPED

    assert len(receiver.requests) == 3
    for request in receiver.requests:
        assert request["query"]["access_token"] == ["tok123"]
        timestamp, sign = request["query"]["timestamp"][0], request["query"]["sign"][0]  # parse_qs decoded it once
        expected = base64.b64encode(hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest())
        assert sign == expected.decode()
    last = receiver.requests[-1]["json"]
    assert last["msgtype"] == "markdown" and last["markdown"]["title"] == "新报修：监控中心全部黑屏"
    assert "解码器无输出" in last["markdown"]["text"]
    assert int(receiver.requests[-1]["query"]["timestamp"][0]) == int((frozen_clock_now()).timestamp() * 1000)


def frozen_clock_now():
    from aftersales.core import clock

    return clock.now()


def test_wecom_markdown_is_cut_to_4096_bytes_of_valid_utf8_and_keeps_its_link(receiver, make_endpoint, settings):
    settings.SITE_URL = "https://service.integrator.example"
    make_endpoint(kind=EndpointKind.WECOM)
    enqueue(body="摄像机离线；" * 1000, url="/service/requests/42/")  # 18,000 bytes of Chinese
    message = OutboxMessage.objects.get()
    assert services.deliver(message.pk) == services.Outcome.SENT
    request = receiver.requests[0]
    content = request["json"]["markdown"]["content"]
    assert request["json"]["msgtype"] == "markdown"
    assert len(content.encode("utf-8")) <= 4096
    assert "\ufffd" not in content and content.encode("utf-8").decode("utf-8") == content
    assert "…" in content and content.endswith("(https://service.integrator.example/service/requests/42/)")
    assert request["raw"].decode("utf-8")  # the request body itself is valid UTF-8


def test_the_21st_robot_message_in_a_minute_waits_without_counting_as_a_failure(frozen_clock, receiver, make_endpoint):
    robot = make_endpoint(kind=EndpointKind.DINGTALK)
    for n in range(21):
        enqueue(key=f"burst-{n}", subject=f"消息 {n}")
    assert services.deliver_due() == 21
    assert len(receiver.requests) == 20
    waiting = OutboxMessage.objects.get(endpoint=robot, sent_at=None)
    assert (waiting.attempts, waiting.failed_at) == (0, None)
    assert waiting.next_attempt_at == frozen_clock_now() + timedelta(minutes=1)
    assert "20" in waiting.last_error

    frozen_clock.shift(timedelta(seconds=30))
    assert services.deliver(waiting.pk) == services.Outcome.SKIPPED
    frozen_clock.shift(timedelta(seconds=30))
    assert services.deliver_due() == 1
    waiting.refresh_from_db()
    assert waiting.sent_at is not None and waiting.attempts == 1 and len(receiver.requests) == 21


def test_a_robot_saying_too_fast_postpones_without_counting(frozen_clock, receiver, make_endpoint):
    make_endpoint(kind=EndpointKind.DINGTALK)
    receiver.script = [(200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})]
    enqueue()
    message = OutboxMessage.objects.get()
    assert services.deliver(message.pk) == services.Outcome.POSTPONED
    message.refresh_from_db()
    assert message.attempts == 0 and message.failed_at is None
    assert message.next_attempt_at == frozen_clock_now() + timedelta(minutes=10)  # DingTalk blocks for 10 minutes


def test_a_message_that_keeps_failing_is_given_up_and_stays_visible(frozen_clock, receiver, make_endpoint):
    make_endpoint(kind=EndpointKind.WECOM)
    receiver.script = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})] * services.MAX_ATTEMPTS
    enqueue()
    message = OutboxMessage.objects.get()
    outcomes = []
    for _ in range(services.MAX_ATTEMPTS):
        outcomes.append(services.deliver(message.pk))
        message.refresh_from_db()
        if message.next_attempt_at:
            frozen_clock.move_to(message.next_attempt_at)
    assert outcomes == [services.Outcome.RETRY] * (services.MAX_ATTEMPTS - 1) + [services.Outcome.FAILED]
    assert message.failed_at is not None and message.next_attempt_at is None and message.sent_at is None
    assert message.last_error == "errcode 93000: invalid webhook url"
    delays = [services.backoff(n) for n in range(1, services.MAX_ATTEMPTS)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)] and max(delays) == timedelta(hours=1)


def test_generic_webhook_gets_json_with_the_event_and_a_signature(receiver, make_endpoint, project_a):
    make_endpoint(kind=EndpointKind.GENERIC, secret="shared-key")
    receiver.script = [(202, {"accepted": True})]
    enqueue(about=project_a, payload={"priority": "serious", "due": "2026-11-26T11:00:00+08:00"})
    assert services.deliver(OutboxMessage.objects.get().pk) == services.Outcome.SENT
    request = receiver.requests[0]
    body = request["json"]
    assert (body["event"], body["subject"], body["payload"]["priority"]) == ("request_created", "新报修：监控中心全部黑屏", "serious")
    assert body["about"] == {"type": "project", "id": str(project_a.pk), "label": str(project_a)}
    signature = hmac.new(b"shared-key", request["raw"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Aftersales-Signature"] == f"sha256={signature}"
    assert request["headers"]["X-Aftersales-Event"] == "request_created"
    assert json.loads(request["raw"]) == body


def test_an_inactive_endpoint_gives_its_pending_messages_up_at_once(receiver, make_endpoint):
    robot = make_endpoint(kind=EndpointKind.DINGTALK)
    enqueue()
    robot.active = False
    robot.save()
    message = OutboxMessage.objects.get()
    assert services.deliver(message.pk) == services.Outcome.FAILED
    assert receiver.requests == []
