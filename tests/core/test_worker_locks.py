"""Issue 20, point 4: the worker runs deadline work and delivery on two queues with a consumer each, and a worker
killed while a locked task ran leaves no lock behind once it starts again. (The real worker killed with SIGKILL:
test_worker_kill.py.)"""

import pytest
from django.core.management import call_command
from huey.contrib.djhuey import HUEY

from aftersales.core.management.commands import worker
from aftersales.core.queue import delivery, queues
from aftersales.intake import tasks as intake_tasks
from aftersales.notify import tasks as notify_tasks
from aftersales.service import tasks as service_tasks

LOCKS = {"main": ("service-sweep", "intake-mail-poll"), "delivery": ("notify-deliver-due",)}


@pytest.fixture
def delivery_in_memory(monkeypatch):
    """The delivery queue in memory, as the main one is in tests (conftest: immediate mode)."""
    monkeypatch.setattr(delivery(), "immediate", True)


def test_deadline_work_and_delivery_are_on_different_queues():
    assert service_tasks.sweep_deadlines.huey is HUEY and service_tasks.check_request.huey is HUEY
    assert intake_tasks.poll_mailbox.huey is HUEY
    assert notify_tasks.deliver_messages.huey is delivery() and notify_tasks.deliver_due_messages.huey is delivery()
    assert delivery() is not HUEY and delivery().name == HUEY.name + "-delivery"
    assert type(delivery()) is type(HUEY)  # SQLite or Redis, as configured


def test_the_worker_command_starts_a_consumer_per_queue_that_clears_stale_locks(monkeypatch, delivery_in_memory):
    seen = []
    monkeypatch.setattr(worker, "run", seen.extend)
    call_command("worker", workers=4, delivery_workers=1)
    assert [consumer.huey for consumer in seen] == [delivery(), HUEY]  # the main queue last: in the foreground
    assert [consumer.workers for consumer in seen] == [1, 4]
    assert all(consumer.periodic and consumer.worker_type == "thread" for consumer in seen)
    seen.clear()
    call_command("worker", queue="delivery")
    assert [consumer.huey for consumer in seen] == [delivery()]


def test_a_consumer_started_with_flush_locks_frees_the_locks_a_killed_worker_held(delivery_in_memory):
    every = queues()
    for role, names in LOCKS.items():
        for name in names:  # held as a SIGKILLed worker leaves them: acquired, never released
            every[role].lock_task(name).acquire()
            assert every[role].is_locked(name)
    worker.consumers()  # what `aftersales worker` builds as it starts
    assert not any(every[role].is_locked(name) for role, names in LOCKS.items() for name in names)


def test_the_background_consumer_is_stopped_when_the_foreground_one_returns():
    calls = []

    class Fake:
        def __init__(self, name):
            self.name = name

        def start(self):
            calls.append(("start", self.name))

        def run(self):
            calls.append(("run", self.name))

        def stop(self, graceful=False):
            calls.append(("stop", self.name, graceful))

    worker.run([Fake("delivery"), Fake("main")])
    assert calls == [("start", "delivery"), ("run", "main"), ("stop", "delivery", True)]
