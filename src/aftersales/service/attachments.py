"""SRQ-1: attachments are type-sniffed from their content and size-limited, stored through Django's
storage API and served only through the scoped path."""

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.db import transaction
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError

from .models import Attachment

MAX_BYTES = 10 * 1024 * 1024
THUMBNAIL_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})  # shown as a picture on the page
MAX_FILES = 10  # files in one upload: a form, a create through the API, the attachments endpoint
SIGNATURES = [  # magic bytes -> content type; the name's extension is never trusted
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
]


def sniff(head: bytes) -> str | None:
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"  # logs


def check_upload(upload) -> str:
    if upload.size > MAX_BYTES:
        raise DomainError(_("%(name)s is larger than %(mb)s MB.") % {"name": upload.name, "mb": MAX_BYTES // 1024 // 1024},
                          field="attachments")
    head = upload.read(2048)
    upload.seek(0)
    content_type = sniff(head)
    if content_type is None:
        raise DomainError(_("%(name)s is not an accepted file type (images, PDF, ZIP or text logs).") % {"name": upload.name},
                          field="attachments")
    return content_type


def check_uploads(uploads) -> list[str]:
    """The checks of one upload of several files: their count, then each file's size and type. Every message, so a
    form or a serializer field shows them all; none means the files may be stored."""
    if len(uploads) > MAX_FILES:
        return [_("Attach at most %(n)s files.") % {"n": MAX_FILES}]
    errors = []
    for upload in uploads:
        try:
            check_upload(upload)
        except DomainError as error:
            errors.append(str(error.message))
    return errors


def store(request, upload, *, by) -> Attachment:
    content_type = check_upload(upload)
    return Attachment.objects.create(
        request=request, file=upload, original_name=upload.name[:255], content_type=content_type, size=upload.size,
        uploaded_by=by if by and by.is_authenticated else None, uploaded_at=clock.now(),
    )


@contextmanager
def atomic_with_files():
    """One transaction for the business change and its uploads. If anything fails, the rows roll back
    and the files stored so far are deleted from storage too: a bad file writes nothing."""
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            yield stored
    except BaseException:
        for attachment in stored:
            attachment.file.storage.delete(attachment.file.name)
        raise


# ------------------------------------------------------------------ files kept while a form is sent back (issue 21 §11)
#
# A browser cannot put a file back into a file input, so a form sent back with an error would lose what the user chose.
# Instead, each accepted upload of such a form is stored under kept/ and the form carries a signed token for it (a
# ticked checkbox beside the file input). The token names the stored path, the original name and the user it belongs
# to, and expires: another user's token, a tampered one or an old one is ignored. Kept files are deleted when the form
# goes through, and anything older than KEPT_MAX_AGE is swept whenever files are kept.

KEPT_DIR = "kept"
KEPT_MAX_AGE = timedelta(hours=24)
KEPT_SALT = "aftersales.service.attachments.kept"


@dataclass(frozen=True)
class KeptFile:
    token: str
    name: str
    size: int


class KeptUpload(File):
    """A kept file reopened for the form's next try; goes through check_upload() and store() like an upload."""

    def __init__(self, handle, *, name: str, kept: KeptFile, path: str):
        super().__init__(handle, name=name)
        self.kept, self.path = kept, path


def owner_of(user) -> str:
    """Whose kept files these are: the user (an anonymous visitor keeps nothing)."""
    return f"user:{user.pk}" if user is not None and user.is_authenticated else ""


def kept_storage():
    return Attachment._meta.get_field("file").storage


def keep(upload, *, owner: str) -> KeptFile:
    """Store one accepted upload of a form that is sent back with an error; returns its token."""
    if not owner:
        raise ValueError("kept files belong to a user")
    storage = kept_storage()
    sweep_kept(storage)
    name = (upload.name or "file").rsplit("/", 1)[-1][:255]
    try:
        safe_name = get_valid_filename(name)[-80:]
    except SuspiciousFileOperation:  # nothing usable left of the name
        safe_name = "file"
    path = storage.save(f"{KEPT_DIR}/{secrets.token_hex(16)}/{safe_name}", upload)
    token = signing.dumps({"p": path, "n": name, "s": upload.size, "o": owner}, salt=KEPT_SALT, compress=True)
    return KeptFile(token, name, upload.size)


def reopen(token: str, *, owner: str) -> KeptUpload | None:
    """The kept file of `token` if it is valid, not expired and `owner`'s; else None."""
    if not owner or not token:
        return None
    try:
        data = signing.loads(token, salt=KEPT_SALT, max_age=KEPT_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("o") != owner or not str(data.get("p", "")).startswith(f"{KEPT_DIR}/"):
        return None
    try:
        handle = kept_storage().open(data["p"], "rb")
    except (FileNotFoundError, OSError, ValueError):
        return None
    return KeptUpload(handle, name=data["n"], kept=KeptFile(token, data["n"], data["s"]), path=data["p"])


def discard(uploads) -> None:
    """After the form went through: delete the kept files it used (uploads that were not kept are left alone)."""
    storage = kept_storage()
    for upload in uploads or ():
        if isinstance(upload, KeptUpload):
            upload.close()
            storage.delete(upload.path)
            delete_dir(storage, upload.path.rsplit("/", 1)[0])


def sweep_kept(storage=None, *, now=None) -> int:
    """Delete kept files older than KEPT_MAX_AGE (their tokens have expired); returns how many."""
    storage = storage or kept_storage()
    limit = (now or clock.now()) - KEPT_MAX_AGE
    deleted = 0
    try:
        folders, _files = storage.listdir(KEPT_DIR)
    except (FileNotFoundError, NotImplementedError, OSError):
        return 0
    for folder in folders:
        path = f"{KEPT_DIR}/{folder}"
        try:
            _dirs, files = storage.listdir(path)
            old = [name for name in files if storage.get_modified_time(f"{path}/{name}") < limit]
        except (FileNotFoundError, NotImplementedError, OSError):
            continue
        for name in old:
            storage.delete(f"{path}/{name}")
            deleted += 1
        if len(old) == len(files):
            delete_dir(storage, path)
    return deleted


def delete_dir(storage, path: str) -> None:
    """An empty folder under kept/ (the file system storage removes empty directories through delete())."""
    try:
        storage.delete(path)
    except OSError:
        pass
