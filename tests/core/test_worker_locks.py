"""Issue 20, point 4 (part): a worker killed while a locked task ran leaves no lock behind once it starts again."""

from django.core.management import call_command
from huey.consumer import Consumer
from huey.contrib.djhuey import HUEY

from aftersales.core.management.commands import worker

LOCKS = ("service-sweep", "notify-deliver-due", "intake-mail-poll")


def test_the_worker_command_clears_stale_locks_when_it_starts(monkeypatch):
    seen = {}
    monkeypatch.setattr(worker, "call_command", lambda name, **options: seen.update(name=name, **options))
    call_command("worker", workers=1)
    assert seen["name"] == "run_huey" and seen["flush_locks"] is True and seen["periodic"] is True


def test_a_consumer_started_with_flush_locks_frees_the_locks_a_killed_worker_held():
    for name in LOCKS:  # held as a SIGKILLed worker leaves them: acquired, never released
        HUEY.lock_task(name).__enter__()
        assert HUEY.is_locked(name)
    Consumer(HUEY, workers=1, flush_locks=True)
    assert not any(HUEY.is_locked(name) for name in LOCKS)
