"""Backups (SEC-3): one dated archive holding the database, the uploads, the secret key and a manifest of checksums.

An archive `aftersales-YYYYmmdd-HHMMSS.tar.gz` (local time, settings.TIME_ZONE) holds:

    database/aftersales.sqlite3   SQLite: a copy made with SQLite's online backup API (consistent while in use)
    database/aftersales.pgdump    PostgreSQL: `pg_dump --format=custom` (one snapshot of the database)
    media/…                       the uploaded files (MEDIA_ROOT), taken after the database: every file the
                                  database names is there (files are written before their rows commit)
    secret_key                    the data directory's secret key file, unless the key comes from the environment
    manifest.json                 last: format, app version, database kind, creation time, sha256 and size of
                                  every other member

The archive therefore holds secrets (the key, every customer's data): it is written 0600 into a 0700 directory.
Restoring verifies every checksum before anything is written and again after extracting and placing the files.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

FORMAT = 1
MANIFEST = "manifest.json"
SECRET_KEY_MEMBER = "secret_key"
SQLITE_MEMBER = "database/aftersales.sqlite3"
PGDUMP_MEMBER = "database/aftersales.pgdump"
ARCHIVE_NAME = re.compile(r"^aftersales-(\d{8})-(\d{6})\.tar\.gz$")
LOCK_NAME = "backup.lock"
STATUS_NAME = "last-backup.json"
LOCK_EXPIRY = timedelta(hours=6)  # a backup that has run this long is dead: its lock is taken over
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the user (translated)."""


class BackupBusy(BackupError):
    """Another backup holds the lock."""


# --- configuration -------------------------------------------------------------------------------------------------

def backup_dir() -> Path:
    return Path(settings.AFTERSALES_BACKUP_DIR)


def target_dir() -> Path | None:
    target = settings.AFTERSALES_BACKUP_TARGET
    return Path(target) if target else None


def keep() -> int:
    return settings.AFTERSALES_BACKUP_KEEP


def db_kind() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgres"
    raise BackupError(_("Unsupported database engine: %(engine)s") % {"engine": engine})


def app_version() -> str:
    try:
        return metadata.version("aftersales")
    except metadata.PackageNotFoundError:
        return "unknown"


def secret_key_from_environment() -> bool:
    return bool(os.environ.get("AFTERSALES_SECRET_KEY_FILE") or os.environ.get("AFTERSALES_SECRET_KEY"))


def secret_key_file() -> Path:
    return Path(settings.DATA_DIR) / "secret_key"


def local_now() -> datetime:
    return datetime.now(ZoneInfo(settings.TIME_ZONE))


# --- small helpers -------------------------------------------------------------------------------------------------

def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _HashingReader:
    """Hands tarfile the bytes of a file and hashes exactly those bytes."""

    def __init__(self, f):
        self.f, self.digest, self.size = f, hashlib.sha256(), 0

    def read(self, n=-1):
        data = self.f.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str, files: dict) -> None:
    with open(path, "rb") as f:
        info = tar.gettarinfo(fileobj=f, arcname=arcname)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mode = (info.mode & 0o755) if arcname.startswith("media/") else 0o600  # the database, the key: 0600
        reader = _HashingReader(f)
        tar.addfile(info, reader)
    files[arcname] = {"sha256": reader.digest.hexdigest(), "size": reader.size}


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or "\\" in name:
        return False
    return name in (MANIFEST, SECRET_KEY_MEMBER, SQLITE_MEMBER, PGDUMP_MEMBER) or (
        path.parts[0] == "media" and len(path.parts) > 1)


def media_files(root: Path, exclude: Path | None = None) -> list[Path]:
    """Every regular file under root, sorted; symbolic links are not followed (uploads are never links)."""
    if not root.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not (exclude and (here / d).resolve() == exclude.resolve()))
        found.extend(here / name for name in sorted(filenames) if (here / name).is_file()
                     and not (here / name).is_symlink())
    return found


# --- the database --------------------------------------------------------------------------------------------------

def sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"])


def snapshot_sqlite(source: Path, dest: Path) -> None:
    """A consistent copy while other processes read and write (SQLite's online backup API), as one file."""
    if not source.is_file():
        raise BackupError(_("The database %(path)s does not exist.") % {"path": source})
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # the copy is one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def sqlite_has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=20)
    try:
        return connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
    finally:
        connection.close()


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if candidates:
        return str(candidates[-1])
    raise BackupError(_("%(tool)s was not found; install the PostgreSQL client tools.") % {"tool": name})


def pg_connection() -> tuple[list[str], dict]:
    """Connection arguments and environment for pg_dump/pg_restore: the password only in PGPASSWORD."""
    db = settings.DATABASES["default"]
    args = ["--host", str(db["HOST"] or "127.0.0.1"), "--port", str(db["PORT"] or "5432"),
            "--username", str(db["USER"]), "--no-password"]
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(_("%(tool)s failed: %(error)s") % {"tool": Path(command[0]).name,
                                                            "error": result.stderr.strip()[-2000:]})


def snapshot_postgres(dest: Path) -> None:
    args, env = pg_connection()
    _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(dest), *args,
          "--dbname", settings.DATABASES["default"]["NAME"]], env)


def postgres_table_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables "
                       "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
        return cursor.fetchone()[0]


# --- the lock ------------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def backup_lock(directory: Path, expiry: timedelta = LOCK_EXPIRY):
    """One backup at a time. The lock file holds its owner and start time; a lock older than `expiry`, or held
    by a process of this machine that no longer exists (a killed worker), is taken over."""
    path = directory / LOCK_NAME
    for attempt in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            if attempt == 0 and _lock_is_stale(path, expiry):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            raise BackupBusy(_("Another backup is running (lock file %(path)s).") % {"path": path}) from None
        with os.fdopen(fd, "w") as f:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": local_now().isoformat()}, f)
        break
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _lock_is_stale(path: Path, expiry: timedelta) -> bool:
    try:
        owner = json.loads(path.read_text())
        started = datetime.fromisoformat(owner["started"])
    except (OSError, ValueError, KeyError, TypeError):
        # unreadable: a writer died between creating and filling it, or it is being written right now
        try:
            return datetime.now().timestamp() - path.stat().st_mtime > 60
        except FileNotFoundError:
            return True
    if local_now() - started > expiry:
        return True
    if owner.get("host") == socket.gethostname():
        try:
            os.kill(int(owner["pid"]), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError, TypeError):
            return False
    return False


# --- writing an archive --------------------------------------------------------------------------------------------

def archive_name(when: datetime) -> str:
    return f"aftersales-{when:%Y%m%d-%H%M%S}.tar.gz"


@dataclass
class BackupResult:
    archive: Path
    sha256: str
    size: int
    manifest: dict
    offsite: Path | None = None
    offsite_error: str | None = None
    removed: list[Path] = field(default_factory=list)


def create_archive(directory: Path | None = None, now: datetime | None = None) -> BackupResult:
    """Write one archive into `directory` (the backup directory) and return it; nothing else is touched."""
    directory = Path(directory or backup_dir())
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    now = now or local_now()
    while (directory / archive_name(now)).exists():  # two backups within one second
        now += timedelta(seconds=1)
    name = archive_name(now)
    kind = db_kind()
    partial = directory / f".{name}.partial"
    files: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(dir=directory, prefix=".work-") as work:
        work = Path(work)
        try:
            with open(partial, "xb") as raw:
                os.fchmod(raw.fileno(), 0o600)
                with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
                    # the database first, then the files: every file the snapshot names exists already
                    if kind == "sqlite":
                        snapshot = work / "aftersales.sqlite3"
                        snapshot_sqlite(sqlite_path(), snapshot)
                        _add_file(tar, snapshot, SQLITE_MEMBER, files)
                    else:
                        snapshot = work / "aftersales.pgdump"
                        snapshot_postgres(snapshot)
                        _add_file(tar, snapshot, PGDUMP_MEMBER, files)
                    snapshot.unlink()
                    media_root = Path(settings.MEDIA_ROOT)
                    for path in media_files(media_root, exclude=directory):
                        _add_file(tar, path, f"media/{path.relative_to(media_root).as_posix()}", files)
                    key_in_environment = secret_key_from_environment()
                    if not key_in_environment and secret_key_file().is_file():
                        _add_file(tar, secret_key_file(), SECRET_KEY_MEMBER, files)
                    manifest = {
                        "format": FORMAT,
                        "app": "aftersales",
                        "version": app_version(),
                        "database": kind,
                        "created": now.isoformat(),
                        "secret_key": "environment" if key_in_environment else (
                            "included" if SECRET_KEY_MEMBER in files else "missing"),
                        "files": files,
                    }
                    data = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode()
                    info = tarfile.TarInfo(MANIFEST)
                    info.size, info.mode, info.mtime = len(data), 0o600, int(now.timestamp())
                    tar.addfile(info, io.BytesIO(data))
                raw.flush()
                os.fsync(raw.fileno())
            final = directory / name
            os.replace(partial, final)
            fsync_dir(directory)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
    digest, size = sha256_file(final)
    return BackupResult(archive=final, sha256=digest, size=size, manifest=manifest)


# --- reading an archive --------------------------------------------------------------------------------------------

def verify_archive(path: Path) -> dict:
    """Read the whole archive without writing anything and return its manifest, or raise BackupError listing
    what is wrong: an unreadable archive, a member that is not a plain file or lies outside the layout, a
    member missing from the manifest or from the archive, or a checksum or size that differs."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("No such archive: %(path)s") % {"path": path})
    seen: dict[str, dict] = {}
    manifest = None
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if not member.isfile() or not _safe_member_name(member.name):
                    raise BackupError(_("The archive holds an unexpected entry: %(name)s") % {"name": member.name})
                if member.name in seen or (member.name == MANIFEST and manifest is not None):
                    raise BackupError(_("The archive holds %(name)s twice.") % {"name": member.name})
                f = tar.extractfile(member)
                if member.name == MANIFEST:
                    manifest = json.loads(f.read(50 * CHUNK))
                    continue
                digest, size = hashlib.sha256(), 0
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                seen[member.name] = {"sha256": digest.hexdigest(), "size": size}
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as exc:
        raise BackupError(_("The archive %(path)s is damaged or not a backup: %(error)s")
                          % {"path": path, "error": exc}) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BackupError(_("The archive %(path)s has no valid manifest.") % {"path": path})
    compare_checksums(manifest, seen)
    return manifest


def compare_checksums(manifest: dict, found: dict[str, dict]) -> None:
    expected = manifest["files"]
    problems = []
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            problems.append(_("missing: %(name)s") % {"name": name})
        elif name not in expected:
            problems.append(_("not in the manifest: %(name)s") % {"name": name})
        elif found[name] != {"sha256": expected[name].get("sha256"), "size": expected[name].get("size")}:
            problems.append(_("checksum differs: %(name)s") % {"name": name})
    if problems:
        raise BackupError(_("The archive does not match its manifest; nothing was restored.") + "\n  "
                          + "\n  ".join(problems))


def hash_tree(root: Path, names) -> dict[str, dict]:
    found = {}
    for name in names:
        path = root / name
        if path.is_file():
            digest, size = sha256_file(path)
            found[name] = {"sha256": digest, "size": size}
    return found


# --- off-site copy and retention -----------------------------------------------------------------------------------

def copy_offsite(archive: Path, sha256: str, target: Path) -> Path:
    """Copy the archive into the target directory under a temporary name, check the copy, then rename it."""
    if not target.is_dir():
        raise BackupError(_("The off-site target %(path)s is not a directory (is it mounted?).") % {"path": target})
    partial = target / f".{archive.name}.partial"
    final = target / archive.name
    try:
        with open(archive, "rb") as src, open(partial, "wb") as dst:
            os.fchmod(dst.fileno(), 0o600)
            shutil.copyfileobj(src, dst, CHUNK)
            dst.flush()
            os.fsync(dst.fileno())
        if sha256_file(partial)[0] != sha256:
            raise BackupError(_("The copy at %(path)s differs from the archive.") % {"path": partial})
        os.replace(partial, final)
        fsync_dir(target)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return final


def archives(directory: Path) -> list[Path]:
    """The archives in a directory, oldest first (their names sort by time)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if ARCHIVE_NAME.match(p.name) and p.is_file())


def prune(directory: Path, keep_newest: int) -> list[Path]:
    """Remove all but the newest `keep_newest` archives (at least one is always kept), and partial copies left
    by a backup that died more than a day ago."""
    keep_newest = max(1, keep_newest)
    found = archives(directory)
    removed = found[:-keep_newest] if len(found) > keep_newest else []
    for path in removed:
        path.unlink()
    if directory.is_dir():
        day_ago = datetime.now().timestamp() - 86400
        for path in directory.glob(".aftersales-*.partial"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < day_ago:
                    path.unlink()
                    removed.append(path)
    return removed


def write_status(directory: Path, result: BackupResult) -> None:
    """The last backup's outcome, for monitoring and the admin's overview."""
    status = {"finished": local_now().isoformat(), "archive": result.archive.name, "sha256": result.sha256,
              "size": result.size, "offsite": str(result.offsite) if result.offsite else None,
              "offsite_error": result.offsite_error}
    tmp = directory / f".{STATUS_NAME}.tmp"
    tmp.write_text(json.dumps(status, indent=2, ensure_ascii=False))
    os.replace(tmp, directory / STATUS_NAME)


def run_backup(now: datetime | None = None) -> BackupResult:
    """The whole backup: the archive, the off-site copy when a target is configured, retention in both places.
    A failed off-site copy keeps the local archive and is reported in `offsite_error` (and raised by callers)."""
    directory = backup_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with backup_lock(directory):
        result = create_archive(directory, now)
        target = target_dir()
        if target:
            try:
                result.offsite = copy_offsite(result.archive, result.sha256, target)
                result.removed += prune(target, keep())
            except (BackupError, OSError) as exc:
                result.offsite_error = str(exc)
        result.removed += prune(directory, keep())
        write_status(directory, result)
    return result


# --- restoring -----------------------------------------------------------------------------------------------------

def target_problems() -> list[str]:
    """Why the database or upload directory is not empty (nothing: a restore may go ahead)."""
    problems = []
    if db_kind() == "sqlite":
        if sqlite_has_tables(sqlite_path()):
            problems.append(_("the database %(path)s has tables") % {"path": sqlite_path()})
    elif postgres_table_count():
        problems.append(_("the database %(name)s has tables") % {"name": settings.DATABASES["default"]["NAME"]})
    if media_files(Path(settings.MEDIA_ROOT)):
        problems.append(_("the upload directory %(path)s holds files") % {"path": settings.MEDIA_ROOT})
    return problems


def _extract(path: Path, manifest: dict, staging: Path) -> None:
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if member.name in manifest["files"]:
                tar.extract(member, staging, filter="data")


def _set_aside(path: Path, stamp: str) -> Path:
    aside = path.with_name(f"{path.name}.before-restore-{stamp}")
    os.replace(path, aside)
    return aside


def _place_sqlite(staged: Path, stamp: str, log) -> None:
    target = sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    if sqlite_has_tables(target):  # only with --force: keep the old database beside it, consistently copied
        aside = target.with_name(f"{target.name}.before-restore-{stamp}")
        snapshot_sqlite(target, aside)
        log(_("The previous database was kept as %(path)s.") % {"path": aside})
    tmp = target.with_name(f".{target.name}.restore-tmp")
    shutil.copyfile(staged, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()
    os.replace(tmp, target)
    fsync_dir(target.parent)


def _place_postgres(staged: Path, force: bool) -> None:
    from django.db import connections

    connections.close_all()
    args, env = pg_connection()
    command = [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               *args, "--dbname", settings.DATABASES["default"]["NAME"]]
    if force:
        command += ["--clean", "--if-exists"]
    _run([*command, str(staged)], env)


def _place_media(staged: Path, stamp: str, log) -> None:
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.exists():
        if media_files(media_root):  # only with --force
            aside = _set_aside(media_root, stamp)
            log(_("The previous uploads were kept as %(path)s.") % {"path": aside})
        else:
            shutil.rmtree(media_root)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    if staged.is_dir():
        shutil.move(str(staged), str(media_root))
    else:
        media_root.mkdir()


def _place_secret_key(staged: Path, log) -> None:
    key = staged.read_text().strip()
    if secret_key_from_environment():
        if key != settings.SECRET_KEY:
            log(_("The archive's secret key was not restored: AFTERSALES_SECRET_KEY is set and differs. Links "
                  "mailed before the backup and open sessions will not be accepted."))
        return
    path = secret_key_file()
    tmp = path.with_name(".secret_key.restore-tmp")
    tmp.write_text(key)
    tmp.chmod(0o600)
    os.replace(tmp, path)


def restore_archive(path: Path, *, force: bool = False, log=print) -> dict:
    """Restore an archive into an empty database and upload directory (or over them with force=True, keeping
    what was there beside it). Every checksum is verified before anything is written, and again after the
    files are extracted and put in place. Returns the manifest."""
    path = Path(path).resolve()
    kind = db_kind()
    problems = target_problems()
    if problems and not force:
        raise BackupError(_("Refusing to restore: the target is not empty (%(problems)s). Restore into an "
                            "empty data directory or database, or use --force.") % {"problems": "; ".join(problems)})
    manifest = verify_archive(path)  # 1: the archive as stored, before anything is touched
    log(_("Archive verified: %(count)s files, checksums match.") % {"count": len(manifest["files"])})
    if manifest.get("database") != kind:
        raise BackupError(_("The archive holds a %(archived)s database; this installation uses %(kind)s.")
                          % {"archived": manifest.get("database"), "kind": kind})
    if manifest.get("version") != app_version():
        log(_("The archive was made by version %(archived)s, this is %(version)s: run `aftersales migrate` "
              "after the restore.") % {"archived": manifest.get("version"), "version": app_version()})
    data_dir = Path(settings.DATA_DIR)
    stamp = f"{local_now():%Y%m%d-%H%M%S}"
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as staging:
        staging = Path(staging)
        _extract(path, manifest, staging)
        compare_checksums(manifest, hash_tree(staging, manifest["files"]))  # 2: what was extracted
        if kind == "sqlite":
            _place_sqlite(staging / SQLITE_MEMBER, stamp, log)
        else:
            _place_postgres(staging / PGDUMP_MEMBER, force)
        _place_media(staging / "media", stamp, log)
        if SECRET_KEY_MEMBER in manifest["files"]:
            _place_secret_key(staging / SECRET_KEY_MEMBER, log)
    # 3: what is in place now
    placed = {}
    for name, expected in manifest["files"].items():
        if name.startswith("media/"):
            where = Path(settings.MEDIA_ROOT) / name[len("media/"):]
        elif name == SQLITE_MEMBER:
            where = sqlite_path()
        elif name == SECRET_KEY_MEMBER and not secret_key_from_environment():
            where = secret_key_file()
        else:  # the PostgreSQL dump went into the database; an environment key was left alone
            placed[name] = {"sha256": expected["sha256"], "size": expected["size"]}
            continue
        if where.is_file():
            digest, size = sha256_file(where)
            placed[name] = {"sha256": digest, "size": size}
    compare_checksums(manifest, placed)
    check_restored_database(kind)
    return manifest


def check_restored_database(kind: str) -> None:
    if kind == "sqlite":
        connection = sqlite3.connect(f"{sqlite_path().resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
            migrations = connection.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(_("The restored database does not open: %(error)s") % {"error": exc}) from exc
        finally:
            connection.close()
        if result != "ok" or not migrations:
            raise BackupError(_("The restored database failed its integrity check: %(error)s") % {"error": result})
    else:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM django_migrations")
            if not cursor.fetchone()[0]:
                raise BackupError(_("The restored database failed its integrity check: %(error)s")
                                  % {"error": "django_migrations"})
