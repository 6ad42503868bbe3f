from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background worker: SLA deadline checks every minute and notification delivery (huey)."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, workers, **options):
        self.stdout.write("Aftersales worker started (Ctrl+C stops it).")
        # A worker killed while a locked periodic task ran (the sweep, the delivery retries, the mail poll) left
        # that task's huey lock behind for good: it is cleared when the worker starts again. One worker per
        # queue (the embedded default); with several, a start must not clear a running worker's lock.
        call_command("run_huey", workers=workers, worker_type="thread", periodic=True, flush_locks=True)
