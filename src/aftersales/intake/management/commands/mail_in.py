"""`aftersales mail-in`: one RFC 822 message on stdin, for an MTA pipe (docs/intake-mail.md).

Exit status 0 once the message is stored, whatever became of it (a request, a reply, triage, ignored as an
auto-reply, rejected as malformed). Exit 75 (EX_TEMPFAIL: the MTA keeps the message and retries) with a
line on stderr only when it could not even be stored, e.g. the database is unreachable. Exit 65 (EX_DATAERR: the
MTA bounces it to the sender, with the line on stderr) for a message larger than AFTERSALES_MAIL_MAX_BYTES; at most
that many bytes and one more are read."""

import sys

from django.core.management.base import BaseCommand, CommandError

from aftersales.intake.mail import ingest

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Read one email message (RFC 822 bytes) from stdin and store and process it."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--source", default="pipe", help="Recorded with the message (default: pipe).")

    def handle(self, *args, source, **options):
        stream = options.get("stdin") or sys.stdin
        stream = getattr(stream, "buffer", stream)
        try:
            raw = ingest.read_message(stream)
        except ingest.MessageTooLarge as error:  # permanent: the sender learns it from the bounce
            raise CommandError(f"mail-in: {error}", returncode=EX_DATAERR) from None
        except Exception as error:  # noqa: BLE001
            raise CommandError(f"mail-in: cannot read the message from stdin: {error}", returncode=EX_TEMPFAIL) from error
        try:
            stored = ingest.ingest(raw, source=source)
        except Exception as error:  # noqa: BLE001 - not stored: the MTA must keep it and try again
            raise CommandError(f"mail-in: the message could not be stored, try again later: "
                               f"{type(error).__name__}: {error}", returncode=EX_TEMPFAIL) from error
        if options["verbosity"] >= 1:
            self.stdout.write(f"stored inbound mail {stored.pk} ({stored.message_id}): {stored.state}")
