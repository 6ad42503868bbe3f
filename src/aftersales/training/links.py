"""TRN-1: the signed, expiring, single-use link that asks the customer for the written feedback on a held session
(lessons.md #7: an opaque signed token, never a sequential id). Built like the work order's confirmation link
(service/confirmation.py), whose errors it answers with: the token carries the session's version; signing (or a new
link) moves the version on, so a used link stops working (410), a tampered one is not valid (404), and someone logged
in as another customer's contact is refused (403)."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.service.confirmation import (
    LinkExpired,
    LinkNotValid,
    LinkUsed,
    check_recipient,
)

from .models import SessionState, TrainingSession

SALT = "aftersales.training.feedback"
VALID_FOR = timedelta(days=14)


def feedback_token(session: TrainingSession) -> str:
    return signing.dumps({"ts": session.pk, "v": session.version}, salt=SALT, compress=True)


def feedback_url(session: TrainingSession) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("training:feedback_by_link", args=[feedback_token(session)])


def session_for_token(token: str, user) -> TrainingSession:
    """The held session the token asks feedback for, or the reason it cannot be used (LinkNotValid 404, LinkExpired
    and LinkUsed 410, LinkOfAnotherCustomer 403)."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=VALID_FOR)
    except signing.SignatureExpired:
        raise LinkExpired(_("This feedback link has expired. Please ask us for a new one, or sign in the customer "
                            "portal.")) from None
    except signing.BadSignature:
        raise LinkNotValid(_("This feedback link is not valid.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("ts"), int):
        raise LinkNotValid(_("This feedback link is not valid."))
    session = (TrainingSession.objects.select_related("project", "customer").prefetch_related("trainers", "attendees")
               .filter(pk=payload["ts"]).first())
    if session is None:
        raise LinkNotValid(_("This feedback link is not valid."))
    if session.version != payload.get("v") or session.state != SessionState.HELD:
        raise LinkUsed(_("This feedback link has already been used or was replaced by a newer one."))
    check_recipient(user, session.customer_id)
    return session
