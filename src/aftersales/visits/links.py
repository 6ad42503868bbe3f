"""VIS-2: the survey's no-account link — signed (django.core.signing, own salt), expiring (VALID_FOR) and single use:
the token carries the survey's `link_nonce`, which an answer clears and a resend replaces, so a used or replaced
link stops working (lessons.md #7: an opaque signed token, never a sequential id).

A bad token is a 404 (LinkNotValid), an expired one or one already used a 410 (LinkExpired, LinkUsed), one opened
while logged in as another customer's contact a 403 (LinkOfAnotherCustomer): the service app's classes, reused."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.service.confirmation import LinkExpired, LinkNotValid, LinkOfAnotherCustomer, LinkUsed

from .models import Survey, SurveyState

SALT = "aftersales.visits.survey-link"
VALID_FOR = timedelta(days=14)

__all__ = ["LinkExpired", "LinkNotValid", "LinkOfAnotherCustomer", "LinkUsed", "new_nonce", "survey_for_token",
           "survey_token", "survey_url"]


def new_nonce() -> str:
    return secrets.token_hex(8)


def survey_token(survey: Survey) -> str:
    return signing.dumps({"s": survey.pk, "n": survey.link_nonce}, salt=SALT, compress=True)


def survey_url(survey: Survey) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("visits:survey_by_link", args=[survey_token(survey)])


def survey_for_token(token: str, user, *, lock: bool = False) -> Survey:
    """The survey a token opens, or the reason it does not (a DomainError with its HTTP status)."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=VALID_FOR)
    except signing.SignatureExpired:
        raise LinkExpired(_("This survey link has expired. Please ask us for a new one, or answer the survey in the "
                            "customer portal.")) from None
    except signing.BadSignature:
        raise LinkNotValid(_("This survey link is not valid.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise LinkNotValid(_("This survey link is not valid."))
    surveys = Survey.objects.select_related("project", "customer")
    if lock:
        surveys = surveys.select_for_update(of=("self",))
    survey = surveys.filter(pk=payload["s"]).first()
    if survey is None:
        raise LinkNotValid(_("This survey link is not valid."))
    if user.is_authenticated and user.customer_id is not None and user.customer_id != survey.customer_id:
        raise LinkOfAnotherCustomer(_("This link was sent to another customer. Log out, then open it again."))
    if survey.state == SurveyState.ANSWERED:
        raise LinkUsed(_("This survey has already been answered: a link works once. Thank you."))
    if not survey.link_nonce or survey.link_nonce != payload.get("n"):
        raise LinkUsed(_("This link has been replaced by a newer one. Please use the latest link we sent."))
    return survey
