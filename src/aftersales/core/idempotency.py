"""`Idempotency-Key` on POSTs under /api/ (issue 20, point 4): a client whose connection dropped after the commit
retries with the same key and gets the first answer back instead of creating a second request.

The view runs inside one transaction with the storing of its answer, so either both are written or neither: a crash
between the two cannot leave work whose answer is lost. Two concurrent calls with one key may both run; the second's
insert meets the unique constraint (on PostgreSQL it waits for the first to commit), its whole transaction rolls
back with its work, and it answers the first one's stored answer.

A key belongs to the caller's credentials (the Authorization header, an integration key, the session cookie), so
one caller cannot read another's answer by guessing its key; a call without credentials is served without a key.
Only successful answers (2xx) are kept, for KEEP: an error can be corrected and retried under the same key; an
answer marked `Cache-Control: no-store` (a secret shown once) is not kept at all. The key
on a different request (another path or body) is refused with 422.
"""

import hashlib
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from . import clock
from .busy import RETRY_AFTER_S, busy_body, is_busy

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces (as the IETF draft's examples)
KEEP = timedelta(hours=24)
CREDENTIAL_HEADERS = ("HTTP_AUTHORIZATION", "HTTP_X_AFTERSALES_KEY")
PATH_PREFIX = "/api/"


def sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def credential_of(request) -> str | None:
    values = [request.META.get(name, "") for name in CREDENTIAL_HEADERS]
    values.append(request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""))
    if not any(values):
        return None
    return sha256(*(value.encode() for value in values))


def request_digest(request) -> str:
    """What the call asks: method, path, query and body. A multipart body is compared by its fields and files
    (a client's retry may use a new boundary)."""
    head = [request.method.encode(), request.path.encode(), request.META.get("QUERY_STRING", "").encode()]
    if request.content_type != "multipart/form-data":
        return sha256(*head, request.content_type.encode(), request.body)
    parts = [f"{name}={value}".encode() for name, values in sorted(request.POST.lists()) for value in values]
    for name, files in sorted(request.FILES.lists()):
        for upload in files:
            content = hashlib.sha256()
            for chunk in upload.chunks():
                content.update(chunk)
            upload.seek(0)
            parts.append(f"{name}:{upload.name}:{upload.size}:{content.hexdigest()}".encode())
    return sha256(*head, *parts)


def error(status: int, code: str, detail: str, **headers) -> JsonResponse:
    response = JsonResponse({"code": code, "detail": detail, "fields": {HEADER: [detail]}}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def replay(stored, digest: str) -> HttpResponse:
    if stored.request_digest != digest:
        return error(422, "idempotency_key_reused",
                     _("This Idempotency-Key was used for a different request. Use a new key for a new request."))
    response = HttpResponse(bytes(stored.body), status=stored.status, content_type=stored.content_type)
    if stored.location:
        response["Location"] = stored.location
    response[REPLAYED_HEADER] = "true"
    return response


def stored_answer(credential: str, key: str):
    from .models import IdempotentResponse

    stored = IdempotentResponse.objects.filter(credential=credential, key=key).first()
    if stored is not None and stored.created_at < clock.now() - KEEP:
        stored.delete()
        return None
    return stored


def secret(response) -> bool:
    """An answer marked no-store (a new API token's secret) is never written down: a retry does the work again."""
    return "no-store" in response.get("Cache-Control", "")


def keep(response, *, credential: str, key: str, digest: str) -> None:
    from .models import IdempotentResponse

    IdempotentResponse.objects.create(
        credential=credential, key=key, request_digest=digest, status=response.status_code,
        content_type=response.get("Content-Type", "application/json")[:100],
        location=response.get("Location", "")[:500], body=response.content, created_at=clock.now())


class IdempotencyKeyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(META_KEY)
        if key is None or request.method != "POST" or not request.path.startswith(PATH_PREFIX):
            return self.get_response(request)
        if not KEY_PATTERN.fullmatch(key):
            return error(400, "invalid_idempotency_key",
                         _("An Idempotency-Key is 1 to 255 printable ASCII characters without spaces."))
        credential = credential_of(request)
        if credential is None:  # nothing to tie the key to: served as a call without one
            return self.get_response(request)
        digest = request_digest(request)
        try:
            return self.answer_once(request, credential=credential, key=key, digest=digest)
        except IntegrityError:
            # The same key's twin committed first: our work rolled back with our insert; answer as the twin did.
            stored = stored_answer(credential, key)
            if stored is None:
                raise
            return replay(stored, digest)
        except OperationalError as exc:
            if not is_busy(exc):
                raise
            return JsonResponse(busy_body(), status=503, headers={"Retry-After": str(RETRY_AFTER_S)})

    def answer_once(self, request, *, credential: str, key: str, digest: str):
        with transaction.atomic():
            stored = stored_answer(credential, key)
            if stored is not None:
                return replay(stored, digest)
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)  # a crash half-way leaves nothing behind
            elif 200 <= response.status_code < 300 and not response.streaming and not secret(response):
                keep(response, credential=credential, key=key, digest=digest)
            return response


def purge_expired() -> int:
    from .models import IdempotentResponse

    return IdempotentResponse.objects.filter(created_at__lt=clock.now() - KEEP).delete()[0]


def document_header(result, generator, request, public):
    """drf-spectacular postprocessing hook: every POST under /api/ accepts the header and may answer 409/422."""
    parameter = {"in": "header", "name": HEADER, "required": False,
                 "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,255}$"},
                 "description": "Send the same key again to get the first answer back instead of doing the work twice "
                                "(kept 24 hours; successful answers only; tied to the caller's credentials)."}
    for path_item in result.get("paths", {}).values():
        operation = path_item.get("post")
        if operation is None:
            continue
        operation.setdefault("parameters", []).append(parameter)
        operation.setdefault("responses", {}).setdefault("422", {
            "description": "The key was used for a different request (`idempotency_key_reused`).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}})
    return result
