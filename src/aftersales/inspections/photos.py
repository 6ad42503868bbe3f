"""INS-3: photos sent with answers, checked like every upload (service/attachments.py: size limit, type sniffed from
the content, never from the name) and stored through Django's storage API; images only."""

from django.utils.translation import gettext as _

from aftersales.core.errors import DomainError
from aftersales.service.attachments import MAX_BYTES, THUMBNAIL_TYPES, sniff


def check_photo(upload, *, field: str = "photo") -> str:
    """The photo's content type, or a DomainError naming `field`."""
    if upload.size > MAX_BYTES:
        raise DomainError(_("%(name)s is larger than %(mb)s MB.") % {"name": upload.name, "mb": MAX_BYTES // 1024 // 1024},
                          field=field)
    head = upload.read(2048)
    upload.seek(0)
    content_type = sniff(head)
    if content_type not in THUMBNAIL_TYPES:
        raise DomainError(_("%(name)s is not a photo (PNG, JPEG, GIF or WebP).") % {"name": upload.name}, field=field)
    return content_type


def delete_stored(file_field) -> None:
    """Remove a stored photo whose row was not written (the transaction rolled back)."""
    if file_field and file_field.name:
        file_field.storage.delete(file_field.name)
