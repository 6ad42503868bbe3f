"""SEC-3 on PostgreSQL: pg_dump → a new empty database → pg_restore, with the uploads; runs only when the suite
runs on PostgreSQL (AFTERSALES_DB=postgres, as scripts/run-tests.sh's second pass)."""

import os
import subprocess
import uuid

import pytest

from aftersales.backups.archive import pg_tool

from .test_backup_restore import ATTACHMENT, CHECK, SETUP, environment, manifest_of

pytestmark = pytest.mark.skipif(os.environ.get("AFTERSALES_DB") != "postgres", reason="runs on PostgreSQL only")


def pg_env(data_dir, name):
    env = environment(data_dir) | {"AFTERSALES_DB": "postgres", "AFTERSALES_DB_NAME": name}
    for key in ("AFTERSALES_DB_HOST", "AFTERSALES_DB_PORT", "AFTERSALES_DB_USER", "AFTERSALES_DB_PASSWORD"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def pg_args():
    return ["--host", os.environ.get("AFTERSALES_DB_HOST", "127.0.0.1"),
            "--port", os.environ.get("AFTERSALES_DB_PORT", "5432"),
            "--username", os.environ.get("AFTERSALES_DB_USER", "postgres")]


def sh(command, env, cwd):
    return subprocess.run(command, check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=180)


def test_postgres_round_trip(tmp_path):
    import sys

    suffix = uuid.uuid4().hex[:8]
    source_db, restored_db = f"backup_src_{suffix}", f"backup_dst_{suffix}"
    source_dir, restored_dir = tmp_path / "source", tmp_path / "restored"
    source_dir.mkdir()
    restored_dir.mkdir()
    pg_password = {"PGPASSWORD": os.environ["AFTERSALES_DB_PASSWORD"]} if os.environ.get("AFTERSALES_DB_PASSWORD") else {}
    admin_env = dict(os.environ) | pg_password
    for name in (source_db, restored_db):
        created = sh([pg_tool("createdb"), *pg_args(), name], admin_env, tmp_path)
        assert created.returncode == 0, created.stderr
    try:
        setup = sh([sys.executable, "-c", SETUP], pg_env(source_dir, source_db), source_dir)
        assert setup.returncode == 0, setup.stderr
        upload = setup.stdout.strip().splitlines()[-1]
        backup = sh([sys.executable, "-m", "aftersales", "backup"], pg_env(source_dir, source_db), source_dir)
        assert backup.returncode == 0, backup.stderr
        [archive] = (source_dir / "backups").glob("aftersales-*.tar.gz")
        manifest = manifest_of(archive)
        assert manifest["database"] == "postgres" and "database/aftersales.pgdump" in manifest["files"]

        restore = sh([sys.executable, "-m", "aftersales", "restore", str(archive)], pg_env(restored_dir, restored_db),
                     restored_dir)
        assert restore.returncode == 0, restore.stderr
        assert (restored_dir / "media" / upload).read_bytes() == ATTACHMENT
        check = sh([sys.executable, "-c", CHECK], pg_env(restored_dir, restored_db), restored_dir)
        assert check.returncode == 0, check.stderr

        again = sh([sys.executable, "-m", "aftersales", "restore", str(archive)], pg_env(restored_dir, restored_db),
                   restored_dir)
        assert again.returncode != 0 and restored_db in again.stderr
    finally:
        for name in (source_db, restored_db):
            sh([pg_tool("dropdb"), *pg_args(), "--if-exists", "--force", name], admin_env, tmp_path)
