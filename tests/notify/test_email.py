"""NOT-1: email goes through Django's SMTP backend to a real SMTP server on 127.0.0.1 (aiosmtpd)."""

import email
import email.policy
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller

from aftersales.notify import services, tasks
from aftersales.notify.models import Channel, OutboxMessage

from .conftest import free_port


class Collector:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "售后服务 <service@integrator.example>"
    settings.SITE_URL = "https://service.integrator.example"
    yield collector
    controller.stop()


def test_an_email_arrives_once_with_its_chinese_subject_and_auto_submitted_header(smtp_server, dispatcher, project_a):
    dispatcher.email = "dispatcher@integrator.example"
    dispatcher.save(update_fields=["email"])
    for _ in range(2):  # the same event twice is one message
        services.enqueue(event="escalation", about=project_a, recipients=[dispatcher], subject="升级：银川天网工程 出发超时",
                         body="严重故障 1 小时内未出发，已升级至部门经理。", dedupe_key="srq-7-departure-1")
    tasks.deliver_due_messages.call_local()
    tasks.deliver_due_messages.call_local()  # a second run (another worker) sends nothing more

    assert len(smtp_server.envelopes) == 1
    envelope = smtp_server.envelopes[0]
    assert envelope.rcpt_tos == ["dispatcher@integrator.example"]
    parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert str(make_header(decode_header(parsed["Subject"]))) == "升级：银川天网工程 出发超时"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    row = OutboxMessage.objects.get(channel=Channel.EMAIL)
    assert parsed["Message-ID"].strip() == row.message_id and row.message_id.endswith("@integrator.example>")
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    assert "已升级至部门经理" in text
    assert f"https://service.integrator.example{project_a.get_absolute_url()}" in text
    assert row.sent_at is not None and row.attempts == 1 and row.last_error == ""


def test_an_unreachable_mail_server_is_retried_later_not_lost(settings, dispatcher, frozen_clock):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    dispatcher.email = "dispatcher@integrator.example"
    dispatcher.save(update_fields=["email"])
    services.set_preference(user=dispatcher, email=True, inapp=False)
    services.enqueue(event="sla_warning", about=None, recipients=[dispatcher], subject="即将超时", body="",
                     dedupe_key="warn-1")
    message = OutboxMessage.objects.get()
    assert services.deliver(message.pk) == services.Outcome.RETRY
    message.refresh_from_db()
    assert message.attempts == 1 and message.sent_at is None and message.failed_at is None
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at == message.last_attempt_at + services.backoff(1)
