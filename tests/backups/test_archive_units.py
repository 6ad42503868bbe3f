"""The backup building blocks without a database: retention, the expiring lock, the schedule, verification."""

import io
import json
import os
import tarfile
from datetime import datetime, timedelta

import pytest
from django.utils import translation

from aftersales.backups import archive, tasks



@pytest.fixture(autouse=True)
def english():
    """The messages are compared in English (the catalogue translates them)."""
    with translation.override("en"):
        yield

def touch_archives(directory, names):
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_bytes(b"x")


def test_prune_keeps_the_newest_n_and_nothing_else_is_touched(tmp_path):
    names = [f"aftersales-202612{day:02d}-023000.tar.gz" for day in range(1, 8)]
    touch_archives(tmp_path, names + ["notes.txt", "aftersales-latest.tar.gz"])
    removed = archive.prune(tmp_path, 3)
    assert sorted(p.name for p in removed) == names[:4]
    assert sorted(p.name for p in archive.archives(tmp_path)) == names[4:]
    assert (tmp_path / "notes.txt").exists() and (tmp_path / "aftersales-latest.tar.gz").exists()


def test_prune_never_removes_the_last_archive(tmp_path):
    touch_archives(tmp_path, ["aftersales-20261201-023000.tar.gz"])
    assert archive.prune(tmp_path, 0) == []


def test_the_lock_excludes_a_second_backup_and_is_released(tmp_path):
    with archive.backup_lock(tmp_path), pytest.raises(archive.BackupBusy), archive.backup_lock(tmp_path):
        pass
    assert not (tmp_path / archive.LOCK_NAME).exists()


def test_a_lock_left_by_a_dead_process_or_too_old_is_taken_over(tmp_path):
    lock = tmp_path / archive.LOCK_NAME
    import socket
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True, text=True)
    lock.write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname(),
                                "started": archive.local_now().isoformat()}))
    with archive.backup_lock(tmp_path):
        pass
    lock.write_text(json.dumps({"pid": os.getpid(), "host": "elsewhere",
                                "started": (archive.local_now() - timedelta(hours=7)).isoformat()}))
    with archive.backup_lock(tmp_path):
        pass
    lock.write_text(json.dumps({"pid": os.getpid(), "host": "elsewhere", "started": archive.local_now().isoformat()}))
    with pytest.raises(archive.BackupBusy), archive.backup_lock(tmp_path):
        pass


def test_the_daily_backup_runs_at_the_configured_time_in_shanghai(settings):
    settings.AFTERSALES_BACKUP_AT = (2, 30)
    assert tasks.due(datetime(2026, 12, 6, 18, 30))  # huey's naive UTC: 02:30 on the 7th in Shanghai
    assert not tasks.due(datetime(2026, 12, 7, 2, 30))
    settings.AFTERSALES_BACKUP_AT = None
    assert not tasks.due(datetime(2026, 12, 6, 18, 30))


def test_the_daily_backup_is_registered_with_the_worker():
    from huey.contrib.djhuey import HUEY

    assert "daily_backup" in {task.__name__ for task in HUEY._registry._periodic_tasks}


def test_done_today(settings, tmp_path):
    settings.AFTERSALES_BACKUP_AT = (2, 30)
    settings.AFTERSALES_BACKUP_DIR = tmp_path
    now = datetime(2026, 12, 7, 2, 30, 5)
    touch_archives(tmp_path, ["aftersales-20261207-010000.tar.gz", "aftersales-20261206-023000.tar.gz"])
    assert not tasks.done_today(now)
    touch_archives(tmp_path, ["aftersales-20261207-023001.tar.gz"])
    assert tasks.done_today(now)


def _archive(path, members: dict, manifest_files=None):
    files = {name: {"sha256": __import__("hashlib").sha256(data).hexdigest(), "size": len(data)}
             for name, data in members.items()}
    manifest = {"format": 1, "database": "sqlite", "version": "x", "created": "", "files": manifest_files or files}
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [*members.items(), ("manifest.json", json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_verify_accepts_a_consistent_archive(tmp_path):
    path = _archive(tmp_path / "a.tar.gz", {"database/aftersales.sqlite3": b"db", "media/a/b.png": b"png"})
    assert set(archive.verify_archive(path)["files"]) == {"database/aftersales.sqlite3", "media/a/b.png"}


def test_verify_refuses_missing_extra_and_unsafe_members(tmp_path):
    members = {"database/aftersales.sqlite3": b"db", "media/a.png": b"png"}
    missing = dict(members) | {"media/gone.png": b"gone"}
    files = {name: {"sha256": __import__("hashlib").sha256(d).hexdigest(), "size": len(d)} for name, d in missing.items()}
    with pytest.raises(archive.BackupError, match="missing: media/gone.png"):
        archive.verify_archive(_archive(tmp_path / "m.tar.gz", members, manifest_files=files))
    with pytest.raises(archive.BackupError, match="unexpected entry"):
        archive.verify_archive(_archive(tmp_path / "u.tar.gz", members | {"../etc/passwd": b"x"}))
    with pytest.raises(archive.BackupError, match="no valid manifest"):
        with tarfile.open(tmp_path / "n.tar.gz", "w:gz"):
            pass
        archive.verify_archive(tmp_path / "n.tar.gz")
