"""`aftersales mail-poll`: read the configured IMAP mailbox once (docs/intake-mail.md)."""

from django.core.management.base import BaseCommand, CommandError

from aftersales.intake.mail import imap, ingest


class Command(BaseCommand):
    help = "Read the IMAP mailbox configured by AFTERSALES_IMAP_* once; retry stored messages not processed yet."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=imap.BATCH, help="At most this many messages (default %(default)s).")

    def handle(self, *args, limit, **options):
        if not imap.configured():
            raise CommandError("AFTERSALES_IMAP_HOST is not set: there is no mailbox to poll.")
        try:
            result = imap.poll(limit=limit)
        except Exception as error:  # noqa: BLE001 - e.g. the server is unreachable or refuses the login
            raise CommandError(f"mail-poll: {type(error).__name__}: {error}") from error
        retried = ingest.process_pending()
        self.stdout.write(imap.describe(result) + (f"; {retried} stored message(s) retried" if retried else ""))
