"""SRQ-1: attachments are type-sniffed from their content and size-limited, stored through Django's
storage API and served only through the scoped path."""

from contextlib import contextmanager

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError

from .models import Attachment

MAX_BYTES = 10 * 1024 * 1024
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
