"""Issue 20, point 4: an `Idempotency-Key` on a POST under /api/ returns the first answer on a retry; the work and its
stored answer commit together, so a crash between them leaves neither."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from aftersales.core import idempotency
from aftersales.core.models import IdempotentResponse
from aftersales.service.models import ServiceRequest

from ..concurrency import database_for_threads, in_threads

BODY = {"priority": "general", "title": "录像丢失", "description": "3 号 NVR 昨晚录像缺失"}


def logged_in(user) -> APIClient:
    """A session, as a browser or a script logged in with it: credentials the key can be tied to."""
    client = APIClient()
    client.force_login(user)
    return client


def create(client, project, key, **changes):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/requests/", {**BODY, "project": project.pk, **changes}, format="json", **headers)


def test_a_retry_with_the_same_key_gets_the_first_answer_and_creates_nothing(dispatcher, project_a):
    client = logged_in(dispatcher)
    first = create(client, project_a, "retry-1")
    again = create(client, project_a, "retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert ServiceRequest.objects.count() == 1
    assert create(client, project_a, "retry-2").status_code == 201  # a new key is a new request
    assert create(client, project_a, None).status_code == 201  # and no key, no memory
    assert ServiceRequest.objects.count() == 3


def test_the_key_on_a_different_request_is_refused(dispatcher, project_a):
    client = logged_in(dispatcher)
    assert create(client, project_a, "k").status_code == 201
    other = create(client, project_a, "k", title="另一个故障")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.json()["fields"]
    assert ServiceRequest.objects.count() == 1


@pytest.mark.parametrize("key", ["", "has space", "中文", "x" * 256])
def test_a_malformed_key_is_a_clear_400(dispatcher, project_a, key):
    answer = create(logged_in(dispatcher), project_a, key)
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_idempotency_key"
    assert not ServiceRequest.objects.exists()


def test_an_error_is_not_kept_so_the_corrected_call_goes_through(dispatcher, project_a):
    client = logged_in(dispatcher)
    refused = create(client, project_a, "fix-me", title="")
    assert refused.status_code == 400
    assert not IdempotentResponse.objects.exists()
    assert create(client, project_a, "fix-me").status_code == 201


def test_keys_belong_to_the_caller(dispatcher, manager, project_a):
    create(logged_in(dispatcher), project_a, "same-key")
    theirs = create(logged_in(manager), project_a, "same-key")
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert ServiceRequest.objects.count() == 2


def test_the_work_and_its_stored_answer_commit_together(dispatcher, project_a, monkeypatch):
    """A failure while storing the answer (a crash, a full disk) takes the work back with it: a retry then does
    the work once, never twice."""
    def broken_keep(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(idempotency, "keep", broken_keep)
    client = logged_in(dispatcher)
    client.raise_request_exception = False
    assert create(client, project_a, "crash").status_code == 500
    assert not ServiceRequest.objects.exists()
    monkeypatch.undo()
    assert create(client, project_a, "crash").status_code == 201
    assert ServiceRequest.objects.count() == 1


def test_answers_expire_after_a_day(frozen_clock, dispatcher, project_a):
    client = logged_in(dispatcher)
    create(client, project_a, "old")
    frozen_clock.shift(idempotency.KEEP + timedelta(minutes=1))
    assert create(client, project_a, "old").status_code == 201
    assert ServiceRequest.objects.count() == 2
    frozen_clock.shift(idempotency.KEEP + timedelta(minutes=1))
    assert idempotency.purge_expired() == 1
    assert not IdempotentResponse.objects.exists()


def test_the_schema_documents_the_header_on_posts(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    post = schema["paths"]["/api/requests/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
    assert "Idempotency-Key" not in str(schema["paths"]["/api/requests/"]["get"])


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_calls_with_one_key_create_one_request(tmp_path, dispatcher, project_a):
    client = logged_in(dispatcher)
    session = client.cookies
    with database_for_threads(tmp_path):
        def call(i):
            twin = APIClient()
            twin.cookies = session
            answer = create(twin, project_a, "twins")
            return answer.status_code, answer.json()["id"]

        results = in_threads(call, 4)
        stored = in_threads(lambda i: (ServiceRequest.objects.count(), IdempotentResponse.objects.count()), 1)
    assert {status for status, _id in results} == {201}
    assert len({request_id for _status, request_id in results}) == 1
    assert stored == [(1, 1)]


def test_an_answer_holding_a_secret_is_never_stored(dispatcher):
    """A new API token is shown once (no-store): its secret must not sit in the table of stored answers."""
    client = logged_in(dispatcher)
    first = client.post("/api/auth/tokens/", {"name": "监控脚本"}, format="json", HTTP_IDEMPOTENCY_KEY="tok-1")
    assert first.status_code == 201 and "no-store" in first["Cache-Control"]
    assert not IdempotentResponse.objects.exists()
    assert first.json()["token"].encode() not in b"".join(bytes(r.body) for r in IdempotentResponse.objects.all())
