"""`aftersales worker`: the huey consumers of both queues in one process (core/queue.py).

The main queue (deadline checks: the minute sweep and the exact checks; the heartbeat, the mail poll, the backup) and
the delivery queue (mail, webhooks) each get their own consumer and threads, so a slow mail server never delays a
deadline (issue 20, point 4). `--queue main` or `--queue delivery` runs one of them alone (e.g. two systemd units).
"""

import logging

from django.core.management.base import BaseCommand
from django.utils.module_loading import autodiscover_modules
from huey.consumer_options import ConsumerConfig

from aftersales.core.queue import queues

# Main: the mail poll (locked: one thread at most) and the nightly backup (one at most) always leave a thread to the
# deadline checks. Delivery: two messages in flight at a time.
DEFAULT_WORKERS = {"main": 3, "delivery": 2}
SHUTDOWN_TIMEOUT = 30  # seconds a stop waits for the delivery consumer's sends in flight (SMTP timeout: 20 s)


def consumers(*, names=("main", "delivery"), workers: dict | None = None) -> list:
    """One huey consumer per queue named, threads, periodic tasks on. Each clears its queue's locks as it starts:
    a worker killed while a locked periodic task ran (the sweep, the delivery safety net, the mail poll) left that
    lock behind for good. Sound with one consumer per queue (the documented default); a second worker process on the
    same queue must not be started while one runs, or its start clears the running one's lock (harmless: every
    locked task is safe to run twice at once; the lock only keeps minute runs from piling up)."""
    workers = DEFAULT_WORKERS | (workers or {})
    every = queues()
    return [every[name].create_consumer(workers=workers[name], worker_type="thread", periodic=True, flush_locks=True,
                                        shutdown_timeout=SHUTDOWN_TIMEOUT) for name in names]


def run(started: list) -> None:
    """Run the consumers until a signal stops them: the last one in the foreground (it owns the signal handlers: INT
    stops gracefully, TERM at once, HUP restarts the process), the others in the background, stopped after it."""
    *background, foreground = started
    for consumer in background:
        consumer.start()
    try:
        foreground.run()
    finally:
        for consumer in background:
            consumer.stop(graceful=True)


class Command(BaseCommand):
    help = "Run the background worker: deadline checks, and notification delivery on a queue of its own (huey)."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS["main"],
                            help="threads for deadline checks and the other periodic work")
        parser.add_argument("--delivery-workers", type=int, default=DEFAULT_WORKERS["delivery"],
                            help="threads for sending mail and webhooks")
        parser.add_argument("--queue", choices=("all", "main", "delivery"), default="all",
                            help="run the consumer of one queue only (default: both)")

    def handle(self, *args, workers, delivery_workers, queue, **options):
        autodiscover_modules("tasks")  # as huey's run_huey does: every app's tasks.py registers its tasks
        logger = logging.getLogger("huey")
        if not logger.handlers:
            ConsumerConfig(workers=1).setup_logger(logger)
        names = ("delivery", "main") if queue == "all" else (queue,)  # main last: it runs in the foreground
        started = consumers(names=names, workers={"main": workers, "delivery": delivery_workers})
        self.stdout.write("Aftersales worker started (Ctrl+C stops it).")
        self.stdout.flush()
        run(started)
