"""Issue 20: inbound mail has a size cap (AFTERSALES_MAIL_MAX_BYTES, default 25 MB). `mail-in` reads at most the
cap and one byte, refuses a larger message with a clear line and exit 65 (the MTA bounces it); the IMAP poller does
not read a larger message, records who sent what as rejected and leaves it in the mailbox (or its archive)."""

import io
import re

import pytest
from django.utils import translation
from django.core.management import call_command
from django.core.management.base import CommandError

from aftersales.intake.mail import imap, ingest
from aftersales.intake.models import InboundMail, MailState

from .test_mail import FakeIMAP, message

CAP = 4000


@pytest.fixture(autouse=True)
def _small_cap(settings):
    settings.AFTERSALES_MAIL_MAX_BYTES = CAP
    settings.AFTERSALES_SERVICE_ADDRESS = "service@integrator.example"
    settings.AFTERSALES_IMAP_HOST, settings.AFTERSALES_IMAP_MAILBOX = "imap.integrator.example", "INBOX"
    settings.AFTERSALES_IMAP_ARCHIVE_MAILBOX = ""


def big_message(**kwargs) -> bytes:
    raw = message(subject="现场录像（很大）", body="录像片段 " * 2000, **kwargs)
    assert len(raw) > CAP
    return raw


class CountingStream(io.RawIOBase):
    """An endless stdin that counts what was read from it."""

    def __init__(self, head: bytes):
        self.head, self.read_bytes = head, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = len(buffer)
        data = (self.head[self.read_bytes:self.read_bytes + n]).ljust(n, b"x")
        buffer[:n] = data
        self.read_bytes += n
        return n


# ------------------------------------------------------------------------------------------ the pipe (mail-in)

def test_the_default_cap_is_25_mb(settings):
    del settings.AFTERSALES_MAIL_MAX_BYTES
    assert ingest.max_bytes() == 25 * 1024 * 1024


def test_mail_in_refuses_a_message_above_the_cap_with_exit_65_and_stores_nothing(db):
    with pytest.raises(CommandError) as refused:
        call_command("mail_in", stdin=io.BytesIO(big_message()), stdout=io.StringIO())
    assert refused.value.returncode == 65  # EX_DATAERR: a permanent failure, the MTA bounces the message
    assert ingest.too_large_text(CAP) in str(refused.value)  # in the site's language, naming the cap (3.9 KB)
    assert InboundMail.objects.count() == 0


def test_mail_in_reads_at_most_the_cap_and_one_byte(db):
    stream = CountingStream(message())
    with pytest.raises(CommandError):
        call_command("mail_in", stdin=io.BufferedReader(stream, buffer_size=512), stdout=io.StringIO())
    assert CAP < stream.read_bytes <= CAP + 1 + 512  # the cap and one byte, plus at most one read-ahead buffer
    raw_stream = CountingStream(message())
    with pytest.raises(ingest.MessageTooLarge):
        ingest.read_message(raw_stream)
    assert raw_stream.read_bytes == CAP + 1


def test_mail_in_takes_a_message_of_exactly_the_cap(db, settings):
    raw = message(sender="stranger@elsewhere.example")
    settings.AFTERSALES_MAIL_MAX_BYTES = len(raw)
    call_command("mail_in", stdin=io.BytesIO(raw), stdout=io.StringIO())
    assert InboundMail.objects.get().state == MailState.TRIAGE


# ------------------------------------------------------------------------------------------ the mailbox (IMAP)

class SizedIMAP(FakeIMAP):
    """Like a real server: states RFC822.SIZE (unless `states_size` is false), serves BODY.PEEK[HEADER] and
    partial fetches (<0.n>), and can MOVE. Records the largest literal it sent."""

    def __init__(self, mailbox, *, states_size=True):
        super().__init__(mailbox)
        self.states_size, self.largest_literal = states_size, 0
        self.capabilities = ("IMAP4REV1", "UIDPLUS", "MOVE")

    def uid(self, command, *args):
        command = command.upper()
        if command == "MOVE":
            self.calls.append((command, *args))
            del self.mailbox[int(args[0])]
            return "OK", [None]
        if command != "FETCH":
            return super().uid(command, *args)
        self.calls.append((command, *args))
        uid, spec = int(args[0]), args[1].upper()
        assert "PEEK" in spec
        raw = self.mailbox[uid]["raw"]
        size = f" RFC822.SIZE {len(raw)}" if self.states_size else ""
        if "HEADER" in spec:
            literal, name = raw[:raw.index(b"\n\n") + 2] if b"\n\n" in raw else raw, "BODY[HEADER]"
        else:
            partial = re.search(r"<0\.(\d+)>", spec)
            literal, name = (raw[:int(partial.group(1))] if partial else raw), "BODY[]<0>"
        self.largest_literal = max(self.largest_literal, len(literal) if name == "BODY[]<0>" else 0)
        head = f"{self._seq(uid)} (UID {uid}{size} {name} {{{len(literal)}}}".encode()
        return "OK", [(head, literal), b")"]


def test_the_poller_does_not_read_a_message_above_the_cap_and_keeps_it(contact_a_mail, project_a):
    big, small = big_message(), message(subject="摄像机离线")
    mailbox = {5: {"raw": big, "flags": set()}, 6: {"raw": small, "flags": set()}}
    server = SizedIMAP(mailbox)
    result = imap.poll(connection=server)
    assert (result.seen, result.too_large, result.acknowledged, result.kept) == (2, 1, 1, ["5"])
    assert server.largest_literal <= len(small)  # the big one's body was never fetched
    assert list(mailbox) == [5]  # left in the mailbox for a person, unflagged
    rejected = InboundMail.objects.get(state=MailState.REJECTED)
    assert rejected.from_address == "wang@ycga.example" and rejected.subject == "现场录像（很大）"
    assert ingest.too_large_text(CAP) in rejected.reason and len(rejected.raw) < CAP
    assert InboundMail.objects.filter(state=MailState.CREATED).count() == 1
    # The next poll reads its header again, writes nothing new and still leaves it there.
    with translation.override("en"):
        again = imap.poll(connection=SizedIMAP(mailbox))
        assert "larger than the limit" in imap.describe(again)
    assert (again.stored, again.too_large, again.kept) == (0, 1, ["5"]) and InboundMail.objects.count() == 2


def test_with_an_archive_mailbox_a_message_above_the_cap_is_moved_there(contact_a_mail, project_a, settings):
    settings.AFTERSALES_IMAP_ARCHIVE_MAILBOX = "Processed"
    mailbox = {5: {"raw": big_message(), "flags": set()}}
    result = imap.poll(connection=SizedIMAP(mailbox))
    assert (result.too_large, result.acknowledged, result.kept) == (1, 1, []) and mailbox == {}
    assert InboundMail.objects.get().state == MailState.REJECTED


def test_a_server_that_does_not_state_the_size_is_read_no_further_than_the_cap(contact_a_mail, project_a):
    mailbox = {5: {"raw": big_message(), "flags": set()}}
    server = SizedIMAP(mailbox, states_size=False)
    result = imap.poll(connection=server)
    assert result.too_large == 1 and server.largest_literal == CAP + 1
    assert InboundMail.objects.get().state == MailState.REJECTED and list(mailbox) == [5]


@pytest.fixture
def contact_a_mail(customer_user_a):
    customer_user_a.email = "wang@ycga.example"
    customer_user_a.save(update_fields=["email"])
    return customer_user_a
