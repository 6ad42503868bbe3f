"""Issue 20, point 4, "done when": the real `aftersales worker`, in a process of its own against a database of its own,
is killed (SIGKILL) twice while it delivers mail to a slow SMTP server and sweeps due deadlines, and started again.
Counted at the end: every e-mail reached the server at least once and the repeats are at most the messages in flight
at the kills; every warning and escalation step fired exactly once; no huey lock is left. On the way, the sweep is
watched while both delivery threads sit in a slow SMTP exchange: it does not wait for them.

A worker's scheduler enqueues the minute tasks (the sweep, the delivery safety net) as it starts, so every start runs
them. What a test cannot wait for is shortened, openly: the worker's wrapper below cuts the sweep into batches of 2
with pauses inside and after each batch's transaction (so that a kill may land in one), and ends the delivery lease
of the messages left claimed by the killed worker (the 90 s passing)."""

import json
import os
import re
import signal
import socketserver
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.core import clock
from aftersales.notify import tasks
from aftersales.notify.models import NotificationPreference, OutboxMessage
from aftersales.service import verbs
from aftersales.service.models import ServiceRequest, SlaAlert

from ..factories import BranchFactory, CustomerFactory, ProjectFactory, StaffFactory

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 16  # due requests: 3 alerts each (the reply's late warning, escalation steps 1 and 2)
BATCH = 2
DELIVERY_THREADS = 2  # the worker's default: at most one message per thread is between its claim and its mark


def create_due_work(monkeypatch) -> None:
    """`REQUESTS` serious requests opened 80 minutes ago (each due: its late warning, the miss, both escalation steps)
    and their e-mails to the desk, still to be sent: their nudges after the commit are left out here, the worker's
    delivery safety net finds them."""
    monkeypatch.setattr(tasks.deliver_messages, "call_local", lambda message_ids: None)
    branch = BranchFactory(code="nx")
    project = ProjectFactory(customer=CustomerFactory(branch=branch))
    dispatcher = StaffFactory(username="dispatcher", email="desk@example.com", branch=branch,
                              position=Position.DISPATCHER, role=roles.DISPATCHER)
    StaffFactory(username="manager", email="manager@example.com", branch=branch,
                 position=Position.DEPARTMENT_MANAGER, role=roles.DEPARTMENT_MANAGER)
    general_manager = StaffFactory(username="gm", email="gm@example.com", branch=BranchFactory(code="sh"),
                                   position=Position.GENERAL_MANAGER, role=roles.GENERAL_MANAGER)
    NotificationPreference.objects.create(user=general_manager, email=False, inapp=True)
    with time_machine.travel(clock.now() - timedelta(minutes=80), tick=False):
        for i in range(REQUESTS):
            verbs.open_request(by=dispatcher, project=project, priority="serious", channel="phone", title=f"请求 {i}",
                               description="解码器无输出")
    assert ServiceRequest.objects.filter(next_check_at__lte=clock.now()).count() == REQUESTS
    assert not SlaAlert.objects.exists()
    assert OutboxMessage.objects.filter(channel="email", sent_at=None).count() == REQUESTS


def database_of_the_worker(data_dir: Path) -> dict:
    """The worker's database, as environment variables: on PostgreSQL the test database itself (this test commits);
    on SQLite, whose test database lives in this process's memory, a file copy of it in the worker's data directory."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return {"AFTERSALES_DB": "postgres", "AFTERSALES_DB_NAME": db["NAME"], "AFTERSALES_DB_HOST": db["HOST"],
                "AFTERSALES_DB_PORT": str(db["PORT"]), "AFTERSALES_DB_USER": db["USER"]}
    connection.ensure_connection()
    copy = sqlite3.connect(data_dir / "aftersales.sqlite3")
    connection.connection.backup(copy)
    copy.execute("PRAGMA journal_mode=WAL")
    copy.close()
    return {"AFTERSALES_DB": "sqlite"}


# The worker as an operator starts it (`aftersales worker`), with the shortcuts named in the module's docstring.
WORKER = """
import os, sys, time
import django
django.setup()
from django.core.management import call_command
from aftersales.core import clock
from aftersales.notify.models import OutboxMessage
from aftersales.service import notices, sweep

progress = os.environ["KILLTEST_PROGRESS"]
send_many = notices.send_many
handle_due_batch = sweep.handle_due_batch
pause = float(os.environ["KILLTEST_SWEEP_PAUSE"])


def slow_send_many(messages):  # inside each batch's transaction: a kill here rolls the batch back
    with open(progress, "a") as f:
        f.write(f"batch {time.time()}\\n")
    send_many(messages)
    time.sleep(pause / 4)  # short: on SQLite the batch holds the write lock, and delivery must mark its messages


def slow_handle_due_batch(*args, **kwargs):
    handle_due_batch(*args, **kwargs)
    time.sleep(pause)


notices.send_many = slow_send_many
sweep.handle_due_batch = slow_handle_due_batch
sweep.SWEEP_BATCH = int(os.environ["KILLTEST_BATCH"])
if "lease-ended" in sys.argv[1:]:  # and the messages still to send are nudged, as a retry nudges them
    from aftersales.notify.tasks import deliver_messages

    unsent = OutboxMessage.objects.filter(sent_at=None, failed_at=None, channel="email")
    unsent.filter(next_attempt_at__gt=clock.now()).update(next_attempt_at=clock.now())
    for pk in unsent.values_list("pk", flat=True):
        deliver_messages([pk])
with open(progress, "a") as f:
    f.write(f"started {time.time()}\\n")
call_command("worker")
"""

REPORT = """
import json
import django
django.setup()
from aftersales.core import clock
from aftersales.core.queue import queues
from aftersales.notify.models import OutboxMessage
from aftersales.service.models import EventKind, ServiceRequest, SlaAlert, TimelineEvent

events = list(TimelineEvent.objects.exclude(kind=EventKind.CREATED)
              .values_list("request", "kind", "data__target", "data__level"))
emails = OutboxMessage.objects.filter(channel="email")
print(json.dumps({
    "due_requests": ServiceRequest.objects.filter(next_check_at__lte=clock.now()).count(),
    "alerts": SlaAlert.objects.count(),
    "events": len(events), "distinct_events": len(set(events)),
    "escalations_inapp": OutboxMessage.objects.filter(event="escalation", channel="inapp").count(),
    "emails": sorted(emails.values_list("message_id", flat=True)),
    "unsent": emails.filter(sent_at=None).count(),
    "failed": emails.exclude(failed_at=None).count(),
    "locks": sorted(f"{queue.name}: {name}" for queue in queues().values()
                    for name in ("service-sweep", "notify-deliver-due", "intake-mail-poll") if queue.is_locked(name)),
}))
"""


class SmtpSink(socketserver.ThreadingTCPServer):
    """Enough SMTP for Django's backend, on 127.0.0.1: it takes `delay` seconds to accept each message and records the
    Message-ID of every message it accepted (a repeat is recorded again)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, delay: float):
        super().__init__(("127.0.0.1", 0), SmtpSession)
        self.delay = delay
        self.accepted: list[str] = []
        self.receiving = 0  # sessions inside their slow accept
        self.lock = threading.Lock()


class SmtpSession(socketserver.StreamRequestHandler):
    timeout = 60

    def reply(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")
        self.wfile.flush()

    def handle(self):
        sink = self.server
        try:
            self.reply(b"220 sink ESMTP")
            while line := self.rfile.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    self.reply(b"250 sink")
                elif verb == b"QUIT":
                    self.reply(b"221 bye")
                    return
                elif verb == b"DATA":
                    self.reply(b"354 end with <CRLF>.<CRLF>")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk
                    if not chunk:
                        return  # the sender died in the middle: nothing was accepted
                    with sink.lock:
                        sink.receiving += 1
                    time.sleep(sink.delay)
                    found = re.search(rb"^Message-ID:\s*(<[^>]+>)", data, re.MULTILINE | re.IGNORECASE)
                    with sink.lock:
                        sink.receiving -= 1
                        sink.accepted.append(found.group(1).decode() if found else "?")
                    self.reply(b"250 accepted")
                else:
                    self.reply(b"250 ok")
        except OSError:
            return


@pytest.fixture
def smtp_sink():
    sink = SmtpSink(delay=0.25)
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()


class Run:
    """The worker's data directory and the processes started in it."""

    def __init__(self, data_dir: Path, sink: SmtpSink, database: dict):
        self.data_dir = data_dir
        self.progress = data_dir / "sweep-progress"
        self.sink = sink
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("AFTERSALES_", "DJANGO_")) and k != "PGPASSWORD"}
        self.env |= database | {
            "AFTERSALES_DATA_DIR": str(data_dir), "AFTERSALES_BACKUP_TIME": "off", "AFTERSALES_LOG_LEVEL": "WARNING",
            "AFTERSALES_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "AFTERSALES_EMAIL_HOST": "127.0.0.1", "AFTERSALES_EMAIL_PORT": str(sink.server_address[1]),
            "DJANGO_SETTINGS_MODULE": "aftersales.settings", "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
            "KILLTEST_PROGRESS": str(self.progress), "KILLTEST_BATCH": str(BATCH), "KILLTEST_SWEEP_PAUSE": "0.5",
        }
        self.worker = None
        self.starts = 0

    def python(self, code: str) -> str:
        result = subprocess.run([sys.executable, "-c", code], env=self.env, cwd=self.data_dir, capture_output=True,
                                text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout.strip().splitlines()[-1]

    def report(self) -> dict:
        return json.loads(self.python(REPORT))

    def start(self, *actions: str) -> None:
        self.starts += 1
        with open(self.data_dir / f"worker-{self.starts}.log", "w") as log:
            self.worker = subprocess.Popen([sys.executable, "-c", WORKER, *actions], env=self.env, cwd=self.data_dir,
                                           stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        os.kill(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=10)

    def settle(self) -> dict:
        """After a kill: what the server had received when it dropped (it finishes answering), and the sweep's batch
        that was under way (rolled back with its transaction)."""
        in_flight = self.sink.receiving
        deadline = time.monotonic() + 5
        while self.sink.receiving and time.monotonic() < deadline:
            time.sleep(0.05)
        return {"in_flight": in_flight, "accepted": len(self.sink.accepted),
                "batches": len(self.progress_lines("batch"))}

    def stop(self) -> None:
        if self.worker and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGINT)  # huey's graceful stop: running tasks finish
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_for(self, what, condition, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.worker.poll() is None, f"the worker exited while waiting for {what}:\n{self.log()}"
            assert time.monotonic() < deadline, (
                f"no {what} within {timeout} s: {len(self.progress_lines('batch'))} batches, "
                f"{len(self.sink.accepted)} accepted, {self.sink.receiving} receiving\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return (self.data_dir / f"worker-{self.starts}.log").read_text()[-4000:]

    def progress_lines(self, kind: str) -> list[float]:
        if not self.progress.exists():
            return []
        return [float(line.split()[1]) for line in self.progress.read_text().splitlines() if line.startswith(kind)]


@pytest.mark.django_db(transaction=True)
def test_the_worker_killed_during_delivery_and_during_the_sweep_loses_nothing_and_fires_nothing_twice(
        tmp_path, smtp_sink, monkeypatch):
    create_due_work(monkeypatch)
    run = Run(tmp_path, smtp_sink, database_of_the_worker(tmp_path))
    try:
        # 1. A worker starts with the minute tasks (huey's scheduler enqueues them at once): the sweep and the delivery
        # safety net, besides the nudges of the messages written with the requests. Killed while both run.
        run.start()
        run.wait_for("the sweep and the delivery under way", lambda: (
            len(run.progress_lines("batch")) >= 2 and smtp_sink.accepted and smtp_sink.receiving))
        run.kill()
        kills = [run.settle()]

        # 2. Started again with a slow server (3 s a message): while both delivery threads wait for its answer the
        # sweep goes on (it does not wait for mail); killed again in the middle of both.
        smtp_sink.delay = 3
        run.start("lease-ended")
        run.wait_for("two sweep batches while both delivery threads wait on the server", lambda: (
            len(run.progress_lines("batch")) >= kills[0]["batches"] + 2 and smtp_sink.receiving == DELIVERY_THREADS))
        accepted_during_the_sweep = len(smtp_sink.accepted) - kills[0]["accepted"]
        sweep_late = run.progress_lines("batch")[kills[0]["batches"]] - run.progress_lines("started")[-1]
        run.kill()
        kills.append(run.settle())
        # The sweep ran while the first slow sends of this start were still waiting for the server's answer.
        assert accepted_during_the_sweep == 0, f"the sweep started {sweep_late:.2f} s after the worker: {kills}"
        killed = run.report()
        assert killed["due_requests"] > 0, f"the sweep was finished before the kill: {kills}"
        left = killed["locks"]
        assert "aftersales: service-sweep" in left, left  # the killed sweep's lock, held for good until a start


        # 3. Started again: everything due is done.
        smtp_sink.delay = 0.05
        run.env["KILLTEST_SWEEP_PAUSE"] = "0"
        run.start("lease-ended")
        deadline = time.monotonic() + 40
        while (after := run.report())["due_requests"] or after["unsent"] or after["alerts"] < 3 * REQUESTS:
            assert run.worker.poll() is None and time.monotonic() < deadline, f"{after}\n{run.log()}"
            time.sleep(0.2)
        run.stop()
    finally:
        if run.worker and run.worker.poll() is None:
            run.kill()
    after = run.report()

    # Nothing lost: every e-mail accepted at least once; repeats only of those in flight at the two kills.
    assert after["unsent"] == after["failed"] == 0
    accepted = smtp_sink.accepted
    assert set(accepted) == set(after["emails"]) and len(after["emails"]) == len(set(after["emails"]))
    repeats = len(accepted) - len(set(accepted))
    assert repeats <= 2 * DELIVERY_THREADS, f"{repeats} messages repeated, kills: {kills}"
    # Nothing fired twice: 3 alerts per request, each told once on the timeline (missed, escalated ×2) and in-app.
    assert after["alerts"] == 3 * REQUESTS
    assert after["events"] == after["distinct_events"] == 3 * REQUESTS
    assert after["escalations_inapp"] == 2 * REQUESTS
    # No lock left behind: the start cleared the killed worker's, and the sweep ran again under it.
    assert after["locks"] == []
    print(f"\nworker kill test: {len(after['emails'])} e-mails, {len(accepted)} accepted ({repeats} repeated), "
          f"kills at {kills}, locks left by the second: {left}; the sweep started {sweep_late:.2f} s after the "
          f"worker while both delivery threads waited on a 3 s send")
