"""LOG-2: the verbs of project documents. Each is one transaction; a stale `version` is a 409 with nothing written,
and a file is stored only when its row is (a failed upload leaves no file behind).

- create_document: a new document of a project with its first version;
- add_version: version n+1 of a document (the version the uploader saw is compared: two people uploading at once,
  the second gets a conflict); the same file as the current version is refused;
- set_visibility: internal, or shared with the customer.

Every upload is checked: its size, and its extracted text must carry no password ("passwords excluded")."""

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, StaleObject
from aftersales.core.versioning import claim_version

from . import extract
from .models import Document, DocumentKind, DocumentVersion, Visibility

MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    name: str
    data: bytes
    size: int
    sha256: str
    content_type: str
    text: str | None


@contextmanager
def files_removed_on_failure():
    """Files stored inside the block are deleted again if the transaction fails: a refused upload leaves nothing."""
    stored = []
    try:
        with transaction.atomic():
            yield stored
    except BaseException:
        for field_file in stored:
            field_file.storage.delete(field_file.name)
        raise


def check_upload(upload) -> CheckedUpload:
    """Size, content and the password rule; the file's bytes are read once, here."""
    if upload is None:
        raise DomainError(_("Choose a file."), field="file")
    name = (getattr(upload, "name", "") or "file").replace("\\", "/").rsplit("/", 1)[-1][:255] or "file"
    size = getattr(upload, "size", None)
    limit_mb = extract.MAX_BYTES // 1024 // 1024
    too_large = _("%(name)s is larger than %(mb)s MB, the largest document accepted.") % {"name": name, "mb": limit_mb}
    if size is not None and size > extract.MAX_BYTES:
        raise DomainError(too_large, field="file")
    upload.seek(0)
    data = upload.read(extract.MAX_BYTES + 1)
    if len(data) > extract.MAX_BYTES:
        raise DomainError(too_large, field="file")
    if not data:
        raise DomainError(_("%(name)s is empty.") % {"name": name}, field="file")
    text = extract.extract_text(name, data)
    lines = extract.credential_lines(text)
    if lines:
        shown = ", ".join(str(n) for n in lines[:5])
        raise DomainError(
            _("Line %(lines)s of %(name)s looks like a password. Passwords do not belong in project documents: "
              "remove them (or write \"see the password register\") and keep them in your password store.")
            % {"lines": shown, "name": name}, field="file")
    return CheckedUpload(name=name, data=data, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                         content_type=extract.content_type(name, data), text=text)


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(_("Keep the note under %(n)s characters.") % {"n": MAX_NOTE}, field="note")
    return note


def _user(by):
    return by if by is not None and by.is_authenticated else None


def _store(document, checked: CheckedUpload, *, by, note: str, number: int, now, stored: list) -> DocumentVersion:
    from django.core.files.base import ContentFile

    row = DocumentVersion(document=document, number=number, original_name=checked.name, size=checked.size,
                          sha256=checked.sha256, content_type=checked.content_type, author=_user(by), created_at=now,
                          note=note, text=checked.text)
    row.file.save(checked.name, ContentFile(checked.data), save=False)
    stored.append(row.file)
    try:
        with transaction.atomic():  # a savepoint: the unique (document, number) is the last guard
            row.save()
    except IntegrityError:
        raise StaleObject(_("Someone else uploaded a version of this document at the same time. Reload it and "
                            "try again.")) from None
    return row


def create_document(*, by, project, title: str, kind: str, visibility: str, upload, note: str = "") -> Document:
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Give the document a title."), field="title")
    if len(title) > 200:
        raise DomainError(_("Keep the title under 200 characters."), field="title")
    if kind not in DocumentKind.values:
        raise DomainError(_("Choose the kind of document."), field="kind")
    if visibility not in Visibility.values:
        raise DomainError(_("Choose who sees the document."), field="visibility")
    note = _note(note)
    checked = check_upload(upload)
    with files_removed_on_failure() as stored:
        now = clock.now()
        document = Document.objects.create(project=project, title=title, kind=kind, visibility=visibility,
                                           current_number=1, created_by=_user(by))
        _store(document, checked, by=by, note=note, number=1, now=now, stored=stored)
    return document


def add_version(*, document, by, version: int, upload, note: str = "") -> DocumentVersion:
    """Version n+1. `version` is the document's version the uploader saw: if someone else uploaded meanwhile, a 409."""
    note = _note(note)
    checked = check_upload(upload)
    with files_removed_on_failure() as stored:
        claim_version(document, version)  # compare-and-set; the loser writes nothing
        document = Document.objects.select_for_update().get(pk=document.pk)
        current = document.versions.filter(number=document.current_number).values_list("sha256", flat=True).first()
        if current == checked.sha256:
            raise DomainError(_("This file is identical to the current version %(n)s: nothing to add.")
                              % {"n": document.current_number}, field="file")
        number = document.current_number + 1
        row = _store(document, checked, by=by, note=note, number=number, now=clock.now(), stored=stored)
        Document.objects.filter(pk=document.pk).update(current_number=number, updated_at=row.created_at)
        document.current_number = number
    return row


def set_visibility(*, document, by, version: int, visibility: str) -> Document:
    if visibility not in Visibility.values:
        raise DomainError(_("Choose who sees the document."), field="visibility")
    with transaction.atomic():
        claim_version(document, version)
        Document.objects.filter(pk=document.pk).update(visibility=visibility, updated_at=clock.now())
        document.visibility = visibility
    return document
