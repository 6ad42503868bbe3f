"""Concurrent edits detected by the verb itself: every editable row carries a `version`; a verb compares the version
the user saw with the row's and moves it on in one conditional UPDATE. The first writer wins; the second gets a 409
(StaleObject) and writes nothing, whatever the database."""

from django.db.models import F

from . import clock
from .errors import StaleObject


def claim_version(obj, expected: int | None, *, touch: bool = False) -> None:
    """Compare-and-set on `obj`'s row. With `touch`, `updated_at` moves on too (pages that compare the edit time)."""
    changes = {"version": F("version") + 1}
    if touch:
        changes["updated_at"] = now = clock.now()
    if expected is None or not type(obj).objects.filter(pk=obj.pk, version=expected).update(**changes):
        raise StaleObject()
    obj.version = expected + 1
    if touch:
        obj.updated_at = now
