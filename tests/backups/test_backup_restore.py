"""SEC-3 (messages may be translated: the tests look for paths and exit codes, not words): backup → wipe → restore round trips through the real `aftersales` command in separate data directories,
as an operator runs them (SQLite, the demo data and an uploaded attachment)."""

import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AFTERSALES = [sys.executable, "-m", "aftersales"]
ATTACHMENT = b"2026-12-07 02:31:07 ERROR NVR-03 disk 4 offline\n" * 20

SETUP = f"""
import django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from aftersales.accounts.models import User
from aftersales.customers.models import Project
from aftersales.demo import data
from aftersales.service.models import Channel, Priority
from aftersales.service.verbs import open_request

call_command("migrate", verbosity=0)
data.load(devices=60)
user = User.objects.get(username=data.STAFF[0][0])
request = open_request(by=user, project=Project.objects.order_by("pk").first(), priority=Priority.GENERAL,
                       channel=Channel.PHONE, title="backup round trip", description="with a log file",
                       uploads=[SimpleUploadedFile("nvr.log", {ATTACHMENT!r}, content_type="text/plain")])
print(request.attachments.get().file.name)
"""

CHECK = f"""
import django
django.setup()
from django.contrib.auth import authenticate
from django.test import RequestFactory
from aftersales.demo import data
from aftersales.service.models import ServiceRequest
user = authenticate(RequestFactory().post("/login/"), username=data.STAFF[0][0], password=data.DEMO_PASSWORD)
assert user is not None, "demo user cannot log in"
attachment = ServiceRequest.objects.get(title="backup round trip").attachments.get()
with attachment.file.open("rb") as f:
    assert f.read() == {ATTACHMENT!r}
print("login ok", user.username)
"""


def environment(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AFTERSALES_", "DJANGO_")) and k != "PGPASSWORD"}
    env |= {"AFTERSALES_DATA_DIR": str(data_dir), "AFTERSALES_DB": "sqlite", "AFTERSALES_BACKUP_TIME": "off",
            "AFTERSALES_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "DJANGO_SETTINGS_MODULE": "aftersales.settings", "PYTHONPATH": str(ROOT / "src")}
    return env | {k: str(v) for k, v in extra.items()}


def run(data_dir: Path, *args, **extra) -> subprocess.CompletedProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run([*AFTERSALES, *args], env=environment(data_dir, **extra), check=False, capture_output=True,
                          text=True, cwd=data_dir, timeout=120)


def python(data_dir: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=environment(data_dir), check=False, capture_output=True, text=True,
                          cwd=data_dir, timeout=120)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A data directory with the demo data and one uploaded attachment, and its backup."""
    data_dir = tmp_path_factory.mktemp("source")
    setup = python(data_dir, SETUP)
    assert setup.returncode == 0, setup.stderr
    upload = setup.stdout.strip().splitlines()[-1]
    backup = run(data_dir, "backup")
    assert backup.returncode == 0, backup.stderr
    assert "AFTERSALES_BACKUP_TARGET" in backup.stdout  # says there is no off-site copy
    [archive] = sorted((data_dir / "backups").glob("aftersales-*.tar.gz"))
    return {"dir": data_dir, "archive": archive, "upload": upload}


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


def test_archive_holds_database_uploads_key_and_manifest(source):
    manifest = manifest_of(source["archive"])
    assert manifest["database"] == "sqlite" and manifest["format"] == 1 and manifest["version"]
    assert manifest["secret_key"] == "included"
    # the database, the key, and every upload: the one added here and the demo's own (inspection photos …)
    uploads = {f"media/{path.relative_to(source['dir'] / 'media').as_posix()}"
               for path in (source["dir"] / "media").rglob("*") if path.is_file()}
    assert f"media/{source['upload']}" in uploads
    assert set(manifest["files"]) == {"database/aftersales.sqlite3", "secret_key"} | uploads
    assert manifest["files"][f"media/{source['upload']}"]["sha256"] == hashlib.sha256(ATTACHMENT).hexdigest()
    assert oct(source["archive"].stat().st_mode & 0o777) == "0o600"


def test_round_trip_into_an_empty_data_directory(source, tmp_path):
    target = tmp_path / "restored"
    result = run(target, "restore", source["archive"])
    assert result.returncode == 0, result.stderr
    manifest = manifest_of(source["archive"])
    # identical checksums: the restored files are the archived ones, and the uploads and key are the originals
    assert sha256(target / "aftersales.sqlite3") == manifest["files"]["database/aftersales.sqlite3"]["sha256"]
    assert sha256(target / "media" / source["upload"]) == sha256(source["dir"] / "media" / source["upload"])
    assert (target / "secret_key").read_text() == (source["dir"] / "secret_key").read_text()
    check = python(target, CHECK)
    assert check.returncode == 0, check.stderr
    assert "login ok" in check.stdout


def _tampered(archive: Path, out: Path) -> Path:
    """The same archive with one byte changed inside the uploaded file, as a valid tar.gz."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name.startswith("media/"):
                data = bytes([data[0] ^ 1]) + data[1:]
            dst.addfile(member, io.BytesIO(data))
    return out


def _untouched(target: Path) -> None:
    assert not (target / "aftersales.sqlite3").exists() or (target / "aftersales.sqlite3").stat().st_size == 0
    assert not any(p.is_file() for p in (target / "media").rglob("*")) if (target / "media").exists() else True
    assert not list(target.glob(".restore-*"))


def test_a_changed_byte_is_refused_before_anything_is_written(source, tmp_path):
    tampered = _tampered(source["archive"], tmp_path / "aftersales-20260101-000000.tar.gz")
    target = tmp_path / "restored"
    result = run(target, "restore", tampered)
    assert result.returncode != 0
    assert f"media/{source['upload']}" in result.stderr  # the file that differs is named
    _untouched(target)
    assert (target / "secret_key").read_text() != (source["dir"] / "secret_key").read_text()


def test_a_damaged_archive_file_is_refused(source, tmp_path):
    raw = bytearray(source["archive"].read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(raw))
    target = tmp_path / "restored"
    result = run(target, "restore", damaged)
    assert result.returncode != 0
    # unreadable (the archive is named), or caught by a checksum (the member that differs is named)
    assert str(damaged) in result.stderr or re.search(r"(database|media)/\S+", result.stderr)
    _untouched(target)


def test_restore_refuses_a_non_empty_target_unless_forced(source, tmp_path):
    refused = run(source["dir"], "restore", source["archive"])
    assert refused.returncode != 0 and "aftersales.sqlite3" in refused.stderr

    target = tmp_path / "restored"
    (target / "media").mkdir(parents=True)
    (target / "media" / "old.txt").write_text("kept")
    refused = run(target, "restore", source["archive"])
    assert refused.returncode != 0 and str(target / "media") in refused.stderr
    assert not (target / "aftersales.sqlite3").exists()

    forced = run(target, "restore", "--force", source["archive"])
    assert forced.returncode == 0, forced.stderr
    [aside] = target.glob("media.before-restore-*")
    assert (aside / "old.txt").read_text() == "kept"
    assert (target / "media" / source["upload"]).read_bytes() == ATTACHMENT


def test_off_site_copy_and_retention(source, tmp_path):
    target = tmp_path / "offsite"
    target.mkdir()
    backups = tmp_path / "local"
    for _ in range(3):
        result = run(source["dir"], "backup", "--to", backups, AFTERSALES_BACKUP_TARGET=target, AFTERSALES_BACKUP_KEEP=2)
        assert result.returncode == 0, result.stderr
        assert str(target) in result.stdout
    local = sorted(p.name for p in backups.glob("aftersales-*.tar.gz"))
    remote = sorted(p.name for p in target.glob("aftersales-*.tar.gz"))
    assert len(local) == 2 and local == remote
    assert all(sha256(backups / name) == sha256(target / name) for name in local)
    assert not list(target.glob(".*partial")) and not (backups / "backup.lock").exists()
    with gzip.open(target / remote[-1]) as f:  # the copy is a whole archive
        f.read()


def test_unreachable_target_fails_loudly_and_keeps_the_local_archive(source, tmp_path):
    backups = tmp_path / "local"
    result = run(source["dir"], "backup", "--to", backups, AFTERSALES_BACKUP_TARGET=tmp_path / "not-mounted")
    assert result.returncode != 0
    assert "not-mounted" in result.stderr
    assert len(list(backups.glob("aftersales-*.tar.gz"))) == 1
