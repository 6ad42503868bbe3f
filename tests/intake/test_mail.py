"""Issue 11, inbound mail: stored before parsing, threaded, loop-proof, Chinese-safe, never lost or doubled."""

import base64
import io
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django.urls import reverse

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.cli import command_name
from aftersales.intake.mail import imap, ingest, parsing, routing
from aftersales.intake.models import InboundMail, MailState
from aftersales.notify.models import Channel as NotifyChannel
from aftersales.notify.models import OutboxMessage
from aftersales.service import verbs
from aftersales.service.models import Attachment, EventKind, ServiceRequest, State, TimelineEvent

from ..factories import ProjectFactory, StaffFactory, current_version

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 26, 10, 0, tzinfo=SH)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.DEFAULT_FROM_EMAIL = "售后服务 <service@integrator.example>"
    settings.AFTERSALES_SERVICE_ADDRESS = "service@integrator.example"
    settings.AFTERSALES_MAIL_REOPEN_DAYS = 7
    settings.AFTERSALES_MAIL_REOPEN_INTERVAL_MINUTES = 60


@pytest.fixture
def frozen(frozen_clock):
    return frozen_clock  # START


@pytest.fixture
def contact_a(customer_user_a):
    customer_user_a.email = "wang@ycga.example"
    customer_user_a.save(update_fields=["email"])
    return customer_user_a


@pytest.fixture
def contact_b(customer_user_b):
    customer_user_b.email = "li@metro.example"
    customer_user_b.save(update_fields=["email"])
    return customer_user_b


@pytest.fixture
def desk_with_email(dispatcher):
    dispatcher.email = "desk@integrator.example"
    dispatcher.save(update_fields=["email"])
    return dispatcher


def message(*, sender="王工 <wang@ycga.example>", subject="三号 NVR 录像丢失", body="昨晚 22:00 以后没有录像。",
            headers=None, attachments=(), message_id=True) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@integrator.example"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = make_msgid(domain="ycga.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for name, content, maintype, subtype in attachments:
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def open_portal_request(by, project, title="录像丢失"):
    return verbs.open_request(by=by, project=project, priority="general", channel="portal", title=title,
                              description="三号 NVR")


def notification_to(user, request) -> OutboxMessage:
    return OutboxMessage.objects.filter(recipient_user=user, channel=NotifyChannel.EMAIL, about_id=str(request.pk)
                                        ).exclude(message_id="").latest("pk")


# ------------------------------------------------------------------------------------------ new mail

def test_a_message_from_a_known_contact_opens_a_request_for_their_project(contact_a, project_a, desk_with_email):
    stored = ingest.ingest(message(), source="pipe")
    assert stored.state == MailState.CREATED
    request = stored.request
    assert request.project == project_a and request.customer_id == contact_a.customer_id
    assert request.channel == "email" and request.reporter == contact_a and request.reporter_verified
    assert request.title == "三号 NVR 录像丢失"
    assert "22:00" in request.description
    assert stored.from_address == "wang@ycga.example" and stored.customer_id == contact_a.customer_id
    # the desk hears about it like any other new request
    assert OutboxMessage.objects.filter(event="request_created", recipient_user=desk_with_email).exists()


def test_with_several_projects_the_one_named_in_the_mail_is_chosen_else_the_desk_decides(contact_a, project_a):
    other = ProjectFactory(customer=project_a.customer, name="银川雪亮工程", contract_number="HT-2026-0099")
    chosen = ingest.ingest(message(subject="合同 HT-2026-0099 的摄像机离线"))
    assert chosen.state == MailState.CREATED and chosen.request.project == other
    unclear = ingest.ingest(message(subject="摄像机离线"))
    assert unclear.state == MailState.TRIAGE and unclear.request is None
    assert unclear.customer_id == project_a.customer_id and unclear.reason


def test_attachments_pass_the_upload_checks_and_a_refused_one_is_named_on_the_timeline(contact_a, project_a):
    raw = message(attachments=[("现场.png", PNG, "image", "png"),
                               ("tool.exe", b"MZ\x90\x00\xff\xfe\x00\x00binary", "application", "octet-stream")])
    stored = ingest.ingest(raw)
    request = stored.request
    assert list(Attachment.objects.filter(request=request).values_list("original_name", "content_type")) == [
        ("现场.png", "image/png")]
    event = TimelineEvent.objects.get(request=request, kind=EventKind.ATTACHMENT)
    assert event.data["files"] == ["现场.png"]
    assert "tool.exe" in event.text


def test_what_a_database_refuses_never_costs_the_message(contact_a, project_a):
    """NUL characters (PostgreSQL refuses them) and a file name like ".." are cleaned, not fatal."""
    raw = (b"From: wang@ycga.example\r\nSubject: nul\x00byte\r\nMessage-ID: <nul.1@ycga.example>\r\n"
           b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="X"\r\n\r\n'
           b"--X\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nline\x00one\r\n"
           b'--X\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=".."\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(PNG) + b"--X--\r\n")
    stored = ingest.ingest(raw)
    assert stored.state == MailState.CREATED
    assert stored.request.description == "lineone" and stored.request.title == "nulbyte"
    assert Attachment.objects.get(request=stored.request).original_name == "attachment-1.bin"


# ------------------------------------------------------------------------------------------ threading

def test_a_reply_to_a_notification_is_added_to_that_request(contact_a, project_a, desk_with_email, engineer):
    request = open_portal_request(contact_a, project_a)
    verbs.reply(request=request, by=desk_with_email, version=current_version(request), mode="remote", plan="今晚远程检查硬盘")
    notification = notification_to(contact_a, request)
    assert notification.event == "request_replied" and notification.message_id.startswith("<notify.")
    body = "好的，今晚 20 点后可以远程。\n\n------------------ 原始邮件 ------------------\n发件人: 售后服务\n今晚远程检查硬盘"
    raw = message(subject=f"回复: {notification.subject}", body=body,
                  headers={"In-Reply-To": notification.message_id, "References": notification.message_id})
    stored = ingest.ingest(raw)
    assert stored.state == MailState.APPENDED and stored.request == request
    assert ServiceRequest.objects.count() == 1
    event = TimelineEvent.objects.get(request=request, kind=EventKind.MAIL)
    assert event.actor == contact_a
    assert "今晚 20 点后可以远程" in event.text and "原始邮件" not in event.text
    assert event.data["from"] == "wang@ycga.example"
    # the desk is told, the sender is not
    told = OutboxMessage.objects.filter(event="request_mail", dedupe_key=f"mail-{stored.pk}")
    assert set(told.values_list("recipient_user", flat=True)) == {desk_with_email.pk}


def test_a_request_number_in_the_subject_threads(contact_a, project_a):
    request = open_portal_request(contact_a, project_a)
    stored = ingest.ingest(message(subject=f"补充 [{request.number}] 截图", body="补充一下现场情况"))
    assert stored.state == MailState.APPENDED and stored.request == request
    bare = ingest.ingest(message(subject=f"关于 {request.number.lower()} 的进度", body="请问进度"))
    assert bare.request == request
    assert TimelineEvent.objects.filter(request=request, kind=EventKind.MAIL).count() == 2


def test_a_request_number_of_another_customer_does_not_thread(contact_a, contact_b, project_a, project_b):
    foreign = open_portal_request(contact_b, project_b)
    stored = ingest.ingest(message(subject=f"Re: [{foreign.number}] 录像丢失", body="我们这边也坏了"))
    assert not TimelineEvent.objects.filter(request=foreign, kind=EventKind.MAIL).exists()
    assert stored.request != foreign
    assert stored.state == MailState.CREATED and stored.request.customer_id == contact_a.customer_id


def test_a_reply_from_someone_who_is_not_a_contact_waits_for_the_desk(contact_a, project_a, desk_with_email):
    request = open_portal_request(contact_a, project_a)
    verbs.reply(request=request, by=desk_with_email, version=current_version(request), mode="remote", plan="远程")
    notification = notification_to(contact_a, request)
    raw = message(sender="someone@elsewhere.example", subject="Re: 服务方案", body="转给我了",
                  headers={"In-Reply-To": notification.message_id})
    stored = ingest.ingest(raw)
    assert stored.state == MailState.TRIAGE and stored.request == request  # the request is only a suggestion
    assert not TimelineEvent.objects.filter(request=request, kind=EventKind.MAIL).exists()


def closed_request(contact, project, dispatcher, engineer):
    request = open_portal_request(contact, project)
    verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="remote", plan="远程")
    work_order = verbs.submit_work_order(request=request, by=engineer, version=current_version(request), actions="重启",
                                         minutes_spent=5, result="solved")
    verbs.confirm_work_order(work_order=work_order, by=contact, version=current_version(work_order), via="portal")
    request.refresh_from_db()
    assert request.state == State.CLOSED
    return request


def test_reopening_by_mail_is_a_rate_limited_follow_up(frozen, contact_a, project_a, dispatcher, engineer):
    old = closed_request(contact_a, project_a, dispatcher, engineer)
    frozen.shift(timedelta(days=2))
    first = ingest.ingest(message(subject=f"Re: {old.number} 又坏了", body="又没有录像了"))
    assert first.state == MailState.CREATED
    follow_up = first.request
    assert follow_up != old and follow_up.project == project_a and follow_up.is_open
    assert old.number in follow_up.title
    reopened = TimelineEvent.objects.get(request=old, kind=EventKind.MAIL)  # both timelines link the two
    assert reopened.data["follow_up"] == follow_up.pk and follow_up.number in reopened.text
    opened = TimelineEvent.objects.get(request=follow_up, kind=EventKind.MAIL)
    assert opened.data["follow_up_of"] == old.pk and old.number in opened.text
    # further replies to the old request go to the open follow-up: no storm of new requests
    second = ingest.ingest(message(subject=f"Re: {old.number} 又坏了", body="补充"))
    assert second.state == MailState.APPENDED and second.request == follow_up
    # the follow-up is cancelled; another reply within the hour is not reopened again
    verbs.cancel(request=follow_up, by=dispatcher, version=current_version(follow_up), reason="重复")
    frozen.shift(timedelta(minutes=30))
    third = ingest.ingest(message(subject=f"Re: {old.number}", body="还是坏的"))
    assert third.state == MailState.TRIAGE and third.request == old
    assert ServiceRequest.objects.count() == 2
    # an hour later it may reopen once more
    frozen.shift(timedelta(minutes=31))
    fourth = ingest.ingest(message(subject=f"Re: {old.number}", body="还是坏的"))
    assert fourth.state == MailState.CREATED and fourth.request not in (old, follow_up)


def test_a_reply_to_a_request_closed_long_ago_waits_for_the_desk(frozen, contact_a, project_a, dispatcher, engineer):
    old = closed_request(contact_a, project_a, dispatcher, engineer)
    frozen.shift(timedelta(days=8))
    late = ingest.ingest(message(subject=f"Re: {old.number}", body="谢谢"))
    assert late.state == MailState.TRIAGE and late.request == old
    assert ServiceRequest.objects.count() == 1


# ------------------------------------------------------------------------------------------ never twice, never lost

def test_the_same_message_delivered_twice_opens_one_request(contact_a, project_a):
    raw = message()
    first = ingest.ingest(raw)
    second = ingest.ingest(raw)
    assert second.pk == first.pk
    assert InboundMail.objects.count() == 1 and ServiceRequest.objects.count() == 1


def test_a_message_without_message_id_is_deduplicated_by_its_bytes(contact_a, project_a):
    raw = message(message_id=False)
    first = ingest.ingest(raw)
    ingest.ingest(raw)
    assert first.message_id.startswith("sha256:") and len(first.message_id) == 7 + 64
    assert InboundMail.objects.count() == 1 and ServiceRequest.objects.count() == 1


def test_a_processing_error_keeps_the_message_stored_and_it_is_retried(contact_a, project_a, monkeypatch):
    original = routing.MailRouter.route

    def broken(self, *args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(routing.MailRouter, "route", broken)
    stored = ingest.ingest(message())
    assert stored.state == MailState.STORED and ServiceRequest.objects.count() == 0
    assert stored.reason.startswith("[attempt 1]")
    monkeypatch.setattr(routing.MailRouter, "route", original)
    assert ingest.process_pending() == 1
    stored.refresh_from_db()
    assert stored.state == MailState.CREATED and ServiceRequest.objects.count() == 1


# ------------------------------------------------------------------------------------------ loops

@pytest.mark.parametrize(("sender", "headers", "why"), [
    ("王工 <wang@ycga.example>", {"Auto-Submitted": "auto-replied"}, "Auto-Submitted"),
    ("王工 <wang@ycga.example>", {"X-Autoreply": "yes"}, "x-autoreply"),
    ("王工 <wang@ycga.example>", {"Precedence": "bulk"}, "Precedence"),
    ("MAILER-DAEMON@mx.ycga.example", {}, "mailer-daemon"),
    ("售后服务 <service@integrator.example>", {}, ""),
])
def test_automatic_mail_is_recorded_and_creates_nothing(contact_a, project_a, sender, headers, why):
    stored = ingest.ingest(message(sender=sender, headers=headers))
    assert stored.state == MailState.IGNORED and stored.reason
    assert why.lower() in stored.reason.lower()
    assert ServiceRequest.objects.count() == 0


def bounce() -> bytes:
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.integrator.example>\r\n"
        b"To: service@integrator.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce.1@mx.integrator.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Your message could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.integrator.example\r\n\r\n"
        b"Final-Recipient: rfc822; wang@ycga.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--B--\r\n"
    )


def test_an_auto_reply_and_a_bounce_create_nothing(contact_a, project_a, desk_with_email):
    request = open_portal_request(contact_a, project_a)
    verbs.reply(request=request, by=desk_with_email, version=current_version(request), mode="remote", plan="远程")
    notification = notification_to(contact_a, request)
    out_of_office = message(subject="自动回复: 服务方案", body="我正在休假，12 月 1 日回来。",
                            headers={"In-Reply-To": notification.message_id})
    auto, bounced = ingest.ingest(out_of_office), ingest.ingest(bounce())
    assert (auto.state, bounced.state) == (MailState.IGNORED, MailState.IGNORED)
    assert "delivery-status" in bounced.reason
    assert ServiceRequest.objects.count() == 1
    assert not TimelineEvent.objects.filter(kind=EventKind.MAIL).exists()


def test_a_subject_that_merely_mentions_auto_reply_is_a_persons_mail(contact_a, project_a):
    stored = ingest.ingest(message(subject="自动回复功能坏了"))
    assert stored.state == MailState.CREATED


# ------------------------------------------------------------------------------------------ Chinese

def test_a_gb2312_labelled_message_reads_correctly(contact_a, project_a):
    # 镕 is in GBK/GB18030 but not in GB2312: mail clients label such text gb2312 all the same
    subject, body = "朱镕基路监控点离线", "朱镕基路与人民路交叉口的球机离线，编号 YC-0032。"
    encoded_subject = "=?gb2312?B?" + base64.b64encode(subject.encode("gbk")).decode() + "?="
    raw = (
        b"From: =?gb2312?B?" + base64.b64encode("王工".encode("gbk")) + b"?= <wang@ycga.example>\r\n"
        b"To: service@integrator.example\r\nSubject: " + encoded_subject.encode() + b"\r\n"
        b"Message-ID: <gb.1@ycga.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: text/plain; charset="gb2312"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.encodebytes(body.encode("gbk"))
    )
    stored = ingest.ingest(raw)
    assert stored.subject == subject
    request = stored.request
    assert request.title == subject
    assert request.description == body
    assert parsing.parse(raw).sender_name == "王工"


def test_unlabelled_8bit_chinese_is_read_as_utf8_or_gb18030(contact_a, project_a):
    body = "硬盘报警".encode("gb18030")
    raw = (b"From: wang@ycga.example\r\nSubject: test\r\nMessage-ID: <8bit.1@ycga.example>\r\n"
           b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n")
    assert parsing.parse(raw).text == "硬盘报警"


# ------------------------------------------------------------------------------------------ malformed

@pytest.mark.parametrize("raw", [
    b"To: service@integrator.example\r\nSubject: no sender\r\nMessage-ID: <nofrom@x>\r\n\r\nhello\r\n",
    b"\x00\x01\x02 this is not a mail message \xff\xfe",
    b"",
])
def test_a_malformed_message_is_rejected_with_a_logged_reason_and_no_request(raw, contact_a, project_a, caplog):
    with caplog.at_level(logging.WARNING, logger="aftersales.intake.mail"):
        stored = ingest.ingest(raw)
    assert stored.state == MailState.REJECTED and stored.reason
    assert ServiceRequest.objects.count() == 0 and not TimelineEvent.objects.exists()
    assert any("rejected" in record.getMessage() for record in caplog.records)


# ------------------------------------------------------------------------------------------ IMAP

class FakeIMAP:
    """imaplib.IMAP4 as the poller uses it: answers (typ, data) shaped like imaplib's, stable UIDs, flags per
    message; BODY.PEEK[] leaves \\Seen alone while BODY[]/RFC822 set it; EXPUNGE removes \\Deleted messages.
    Every command is recorded; `fail_store` makes the next STORE fail like a dropped connection."""

    def __init__(self, mailbox):
        self.mailbox = mailbox  # uid -> {"raw": bytes, "flags": set}; shared across connections like a server
        self.calls = []
        self.capabilities = ("IMAP4REV1", "UIDPLUS")
        self.selected = None
        self.fail_store = False
        self.states_at_store = []

    def select(self, mailbox="INBOX", readonly=False):
        self.calls.append(("SELECT", mailbox))
        self.selected = mailbox.strip('"')
        return "OK", [str(len(self.mailbox)).encode()]

    def _seq(self, uid):
        return sorted(self.mailbox).index(uid) + 1

    def uid(self, command, *args):
        command = command.upper()
        self.calls.append((command, *args))
        assert self.selected == "INBOX", "a command before SELECT"
        if command == "SEARCH":
            criteria = [a for a in args if a is not None]
            uids = [uid for uid in sorted(self.mailbox)
                    if not ("UNDELETED" in criteria and "\\Deleted" in self.mailbox[uid]["flags"])
                    and not ("UNSEEN" in criteria and "\\Seen" in self.mailbox[uid]["flags"])]
            return "OK", [" ".join(str(u) for u in uids).encode()]
        uid = int(args[0])
        if uid not in self.mailbox:
            return "OK", [None]
        item = self.mailbox[uid]
        if command == "FETCH":
            if "PEEK" not in args[1].upper():
                item["flags"].add("\\Seen")
            head = f"{self._seq(uid)} (UID {uid} BODY[] {{{len(item['raw'])}}}".encode()
            return "OK", [(head, item["raw"]), b")"]
        if command == "STORE":
            if self.fail_store:
                self.fail_store = False
                raise OSError("connection reset by peer")
            self.states_at_store.append(InboundMail.objects.get(message_id=parsing.message_id_of(item["raw"])).state)
            assert args[1] == "+FLAGS"
            item["flags"] |= set(args[2].strip("()").split())
            return "OK", [f"{self._seq(uid)} (UID {uid} FLAGS ({' '.join(sorted(item['flags']))}))".encode()]
        raise AssertionError(f"unexpected UID {command}")

    def expunge(self):
        self.calls.append(("EXPUNGE",))
        gone = [uid for uid, item in self.mailbox.items() if "\\Deleted" in item["flags"]]
        for uid in gone:
            del self.mailbox[uid]
        return "OK", [str(len(gone)).encode()]

    def close(self):
        self.calls.append(("CLOSE",))
        return "OK", [b""]

    def logout(self):
        self.calls.append(("LOGOUT",))
        return "BYE", [b""]


@pytest.fixture
def imap_settings(settings):
    settings.AFTERSALES_IMAP_HOST, settings.AFTERSALES_IMAP_MAILBOX = "imap.integrator.example", "INBOX"
    settings.AFTERSALES_IMAP_ARCHIVE_MAILBOX = ""


def test_the_poller_acknowledges_each_message_only_after_its_commit(imap_settings, contact_a, project_a):
    mailbox = {7: {"raw": message(subject="摄像机离线"), "flags": set()},
               9: {"raw": message(sender="stranger@elsewhere.example"), "flags": set()},
               11: {"raw": message(headers={"Auto-Submitted": "auto-replied"}), "flags": set()}}
    server = FakeIMAP(mailbox)
    result = imap.poll(connection=server)
    assert (result.seen, result.stored, result.acknowledged) == (3, 3, 3)
    assert mailbox == {}  # expunged
    assert server.states_at_store == [MailState.CREATED, MailState.TRIAGE, MailState.IGNORED]
    fetches = [call for call in server.calls if call[0] == "FETCH"]
    assert all("PEEK" in call[2] for call in fetches)  # fetching alone never marks a message read
    stores = [call for call in server.calls if call[0] == "STORE"]
    assert all(call[3] == "(\\Seen \\Deleted)" for call in stores)
    assert server.calls.index(("EXPUNGE",)) > server.calls.index(stores[-1])
    assert ServiceRequest.objects.count() == 1
    assert set(InboundMail.objects.values_list("source", flat=True)) == {"imap:INBOX"}


def test_a_crash_between_commit_and_mailbox_update_loses_nothing_and_duplicates_nothing(imap_settings, contact_a, project_a):
    mailbox = {3: {"raw": message(subject="球机离线"), "flags": set()}}
    server = FakeIMAP(mailbox)
    server.fail_store = True  # the connection drops right after the commit
    with pytest.raises(OSError, match="connection reset by peer"):
        imap.poll(connection=server)
    assert ServiceRequest.objects.count() == 1  # committed
    assert mailbox[3]["flags"] == set()  # still there, not even marked read
    again = FakeIMAP(mailbox)  # the next poll, a new connection to the same mailbox
    result = imap.poll(connection=again)
    assert (result.stored, result.duplicates, result.acknowledged) == (0, 1, 1)
    assert mailbox == {}
    assert InboundMail.objects.count() == 1 and ServiceRequest.objects.count() == 1


def test_a_message_whose_processing_failed_stays_in_the_mailbox_for_the_next_poll(imap_settings, contact_a, project_a,
                                                                                  monkeypatch):
    mailbox = {5: {"raw": message(), "flags": set()}}
    original = routing.MailRouter.route
    monkeypatch.setattr(routing.MailRouter, "route", lambda self, *a, **k: (_ for _ in ()).throw(RuntimeError("bug")))
    result = imap.poll(connection=FakeIMAP(mailbox))
    assert result.kept == ["5"] and mailbox[5]["flags"] == set()
    monkeypatch.setattr(routing.MailRouter, "route", original)
    result = imap.poll(connection=FakeIMAP(mailbox))
    assert result.acknowledged == 1 and mailbox == {}
    assert ServiceRequest.objects.count() == 1


def test_an_archive_mailbox_receives_processed_mail_when_configured(imap_settings, settings, contact_a, project_a):
    settings.AFTERSALES_IMAP_ARCHIVE_MAILBOX = "Processed"
    calls = []

    class Connection(FakeIMAP):
        def uid(self, command, *args):
            if command.upper() == "MOVE":
                calls.append(args)
                del self.mailbox[int(args[0])]
                return "OK", [None]
            return super().uid(command, *args)

    mailbox = {1: {"raw": message(), "flags": set()}}
    server = Connection(mailbox)
    server.capabilities = ("IMAP4REV1", "MOVE")
    imap.poll(connection=server)
    assert calls == [("1", '"Processed"')] and mailbox == {}


# ------------------------------------------------------------------------------------------ the commands

def test_mail_in_reads_one_message_from_stdin(contact_a, project_a):
    out = io.StringIO()
    call_command("mail_in", stdin=io.BytesIO(message()), stdout=out)
    stored = InboundMail.objects.get()
    assert stored.state == MailState.CREATED and stored.source == "pipe"
    assert f"stored inbound mail {stored.pk}" in out.getvalue()


def test_mail_in_exits_0_for_a_triaged_or_ignored_message(db):
    call_command("mail_in", stdin=io.BytesIO(message(sender="stranger@elsewhere.example")), stdout=io.StringIO())
    call_command("mail_in", stdin=io.BytesIO(bounce()), stdout=io.StringIO())
    assert sorted(InboundMail.objects.values_list("state", flat=True)) == [MailState.IGNORED, MailState.TRIAGE]


def test_mail_in_fails_with_tempfail_when_the_message_cannot_be_stored(db, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(ingest, "store", unavailable)
    with pytest.raises(CommandError) as failure:
        call_command("mail_in", stdin=io.BytesIO(message()), stdout=io.StringIO())
    assert failure.value.returncode == 75  # EX_TEMPFAIL: the MTA keeps the message and retries
    assert "could not be stored" in str(failure.value)


def test_hyphenated_command_names_reach_the_commands():
    assert command_name("mail-in") == "mail_in" and command_name("mail-poll") == "mail_poll"
    assert command_name("runserver") == "runserver" and command_name("no-such-thing") == "no-such-thing"


def test_mail_poll_without_a_configured_mailbox_says_so(settings):
    settings.AFTERSALES_IMAP_HOST = ""
    with pytest.raises(CommandError, match="AFTERSALES_IMAP_HOST"):
        call_command("mail_poll")


# ------------------------------------------------------------------------------------------ triage page

def test_the_triage_page_lists_an_unknown_sender_for_the_desk_and_refuses_customers(client, dispatcher, customer_user_a,
                                                                                   project_a):
    stored = ingest.ingest(message(sender="陌生人 <stranger@elsewhere.example>", subject="请报价"))
    assert stored.state == MailState.TRIAGE and stored.customer is None
    client.force_login(dispatcher)
    page = client.get(reverse("intake:mail_triage"))
    assert page.status_code == 200
    assert "stranger@elsewhere.example" in page.content.decode() and "请报价" in page.content.decode()
    client.force_login(customer_user_a)
    assert client.get(reverse("intake:mail_triage")).status_code == 403


def test_a_known_customers_waiting_mail_is_shown_to_its_branch_only(client, dispatcher, contact_a, project_a, branch_b):
    ProjectFactory(customer=project_a.customer, name="第二期")
    stored = ingest.ingest(message(subject="摄像机离线"))
    assert stored.state == MailState.TRIAGE and stored.customer_id == project_a.customer_id
    other_desk = StaffFactory(username="desk_b", branch=branch_b, position=Position.DISPATCHER, role=roles.DISPATCHER)
    client.force_login(dispatcher)
    assert f'data-mail="{stored.pk}"' in client.get(reverse("intake:mail_triage")).content.decode()
    client.force_login(other_desk)
    assert f'data-mail="{stored.pk}"' not in client.get(reverse("intake:mail_triage")).content.decode()
    response = client.post(reverse("intake:mail_triage"), {"action": "dismiss", "mail": stored.pk})
    assert response.status_code == 404
    stored.refresh_from_db()
    assert stored.state == MailState.TRIAGE


def test_the_desk_opens_a_request_from_a_waiting_mail(client, dispatcher, project_a):
    stored = ingest.ingest(message(sender="陌生人 <stranger@elsewhere.example>", subject="摄像机离线",
                                 attachments=[("现场.png", PNG, "image", "png")]))
    client.force_login(dispatcher)
    response = client.post(reverse("intake:mail_triage"), {
        "action": "create", "mail": stored.pk, "contract_number": project_a.contract_number, "priority": "serious",
        "title": "摄像机离线"})
    assert response.status_code == 302
    stored.refresh_from_db()
    request = stored.request
    assert stored.state == MailState.CREATED and request.project == project_a and request.priority == "serious"
    assert request.channel == "email" and request.reporter_name == "陌生人"
    assert Attachment.objects.filter(request=request).count() == 1
    # handled once: a second click (another tab, a colleague) changes nothing and says why
    again = client.post(reverse("intake:mail_triage"), {"action": "create", "mail": stored.pk,
                                                        "contract_number": project_a.contract_number,
                                                        "priority": "general"}, follow=True)
    assert again.status_code == 200 and ServiceRequest.objects.count() == 1
    assert [m.level_tag for m in again.context["messages"]][-1] == "error"


def test_the_desk_adds_a_waiting_mail_to_a_request_or_dismisses_it(client, dispatcher, contact_a, project_a):
    request = open_portal_request(contact_a, project_a)
    first = ingest.ingest(message(sender="colleague@ycga.example", subject="同一个问题", body="我们这边也看不到录像"))
    second = ingest.ingest(message(sender="ads@spam.example", subject="优惠"))
    client.force_login(dispatcher)
    client.post(reverse("intake:mail_triage"), {"action": "append", "mail": first.pk, "number": request.number})
    client.post(reverse("intake:mail_triage"), {"action": "dismiss", "mail": second.pk, "reason": "广告"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == MailState.APPENDED and first.request == request
    event = TimelineEvent.objects.get(request=request, kind=EventKind.MAIL)
    assert event.actor == dispatcher and "colleague@ycga.example" in event.text and "看不到录像" in event.text
    assert second.state == MailState.IGNORED and "广告" in second.reason


def test_the_desk_confirms_the_reporter_of_a_label_report(client, dispatcher, project_a, device_a, customer_user_a):
    report = verbs.open_request(by=None, project=project_a, priority="general", channel="label", title="摄像机黑屏",
                                description="扫码报修", devices=[device_a], reporter_name="保安老张",
                                reporter_phone="13900000000", reporter_verified=False)
    client.force_login(dispatcher)
    page = client.get(reverse("intake:mail_triage")).content.decode()
    assert f'data-request="{report.pk}"' in page and "保安老张" in page
    client.post(reverse("intake:mail_triage"), {"action": "verify", "request": report.pk})
    report.refresh_from_db()
    assert report.reporter_verified
    assert TimelineEvent.objects.get(request=report, kind=EventKind.REPORTER_VERIFIED).actor == dispatcher
    assert f'data-request="{report.pk}"' not in client.get(reverse("intake:mail_triage")).content.decode()


def test_the_project_search_of_the_triage_form_is_scoped(client, dispatcher, project_a, project_b):
    client.force_login(dispatcher)
    found = client.get(reverse("intake:mail_project_choices"), {"q": "工程", "mail": "1"}).content.decode()
    assert project_a.name in found
    assert project_b.name not in client.get(reverse("intake:mail_project_choices"), {"q": "地铁"}).content.decode()

