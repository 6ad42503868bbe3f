"""Issue 20: files sent under `attachments` with a multipart create are stored with the request, in the same
transaction and with the checks of the attachments endpoint (size, type, count); a bad one is a 400 naming the
field, and nothing is written."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aftersales.service import attachments
from aftersales.service.models import Attachment, EventKind, ServiceRequest, TimelineEvent

from ..conftest import api_as

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def field_errors(body: dict) -> dict:
    return body.get("fields", body)


def png(name="屏幕截图.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def body(project, **more):
    return {"project": project.pk, "priority": "general", "title": "客户端无法回放", "description": "二楼客户端回放报错",
            **more}


def test_multipart_create_stores_the_attachments_with_the_request(frozen_clock, customer_user_a, project_a):
    log = SimpleUploadedFile("nvr.log", "2026-11-26 10:00 录像中断\n".encode(), content_type="text/plain")
    created = api_as(customer_user_a).post("/api/requests/", body(project_a, attachments=[png(), log]), format="multipart")
    assert created.status_code == 201, created.json()
    request = ServiceRequest.objects.get(pk=created.json()["id"])
    stored = {a.original_name: a.content_type for a in Attachment.objects.filter(request=request)}
    assert stored == {"屏幕截图.png": "image/png", "nvr.log": "text/plain"}
    assert TimelineEvent.objects.filter(request=request, kind=EventKind.ATTACHMENT).count() <= 1
    listed = api_as(customer_user_a).get(f"/api/requests/{request.pk}/attachments/").json()
    assert sorted(a["original_name"] for a in listed) == ["nvr.log", "屏幕截图.png"]


def test_multipart_create_without_attachments_and_json_create_still_work(frozen_clock, customer_user_a, project_a):
    api = api_as(customer_user_a)
    assert api.post("/api/requests/", body(project_a), format="multipart").status_code == 201
    assert api.post("/api/requests/", body(project_a), format="json").status_code == 201
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize("bad", [
    lambda: SimpleUploadedFile("report.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\xff\xfe\x00", content_type="image/png"),
    lambda: SimpleUploadedFile("huge.png", PNG + b"\0" * attachments.MAX_BYTES, content_type="image/png"),
])
def test_a_bad_file_is_a_400_naming_attachments_and_writes_nothing(frozen_clock, customer_user_a, project_a, bad, settings):
    answer = api_as(customer_user_a).post("/api/requests/", body(project_a, attachments=[png(), bad()]), format="multipart")
    assert answer.status_code == 400
    assert "attachments" in field_errors(answer.json())
    assert ServiceRequest.objects.count() == 0 and Attachment.objects.count() == 0
    assert not [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def test_too_many_files_are_a_400_on_create_and_on_the_attachments_endpoint(frozen_clock, customer_user_a, project_a,
                                                                            settings):
    api = api_as(customer_user_a)
    files = [png(f"{n}.png") for n in range(attachments.MAX_FILES + 1)]
    answer = api.post("/api/requests/", body(project_a, attachments=files), format="multipart")
    assert answer.status_code == 400 and "attachments" in field_errors(answer.json())
    assert ServiceRequest.objects.count() == 0 and Attachment.objects.count() == 0
    assert not [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]
    created = api.post("/api/requests/", body(project_a), format="json").json()
    files = [png(f"{n}.png") for n in range(attachments.MAX_FILES + 1)]
    answer = api.post(f"/api/requests/{created['id']}/attachments/", {"files": files}, format="multipart")
    assert answer.status_code == 400 and "files" in field_errors(answer.json())
    assert Attachment.objects.count() == 0


def test_a_failure_after_the_files_were_stored_removes_them(frozen_clock, customer_user_a, project_a, monkeypatch,
                                                            settings):
    """The verb's transaction holds the rows; a failure deletes the files stored so far (atomic_with_files)."""
    from aftersales.service import notices

    def broken(*args, **kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(notices, "send", broken)
    api = api_as(customer_user_a)
    api.raise_request_exception = False
    answer = api.post("/api/requests/", body(project_a, attachments=[png()]), format="multipart")
    assert answer.status_code == 500
    assert ServiceRequest.objects.count() == 0 and Attachment.objects.count() == 0
    assert not [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]
