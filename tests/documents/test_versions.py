"""LOG-2: every upload is a new version with author, time and note; concurrent uploads conflict; the same file and
passwords are refused, and nothing is written (no row, no file)."""

from datetime import timedelta

import pytest
from django.utils import translation

from aftersales.core.errors import DomainError, StaleObject
from aftersales.documents import extract, services
from aftersales.documents.models import Document, DocumentVersion

from ..factories import current_version
from .conftest import PROCEDURE_V1, PROCEDURE_V2, new_document, upload


@pytest.fixture(autouse=True)
def _english():
    """The messages are checked in English (the catalogue translates them for the pages)."""
    with translation.override("en"):
        yield


def stored_files(settings):
    root = settings.MEDIA_ROOT / "documents"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_the_first_upload_is_version_1_with_its_author_time_note_and_checksum(frozen_clock, project_a, engineer):
    document = new_document(project_a, engineer)
    first = document.versions.get()
    assert (document.current_number, first.number, first.author, first.note) == (1, 1, engineer, "初版")
    assert first.created_at.isoformat() == "2026-11-26T02:00:00+00:00"
    assert first.size == len(PROCEDURE_V1.encode())
    assert first.sha256 == __import__("hashlib").sha256(PROCEDURE_V1.encode()).hexdigest()
    assert (first.original_name, first.text) == ("维护规程.md", PROCEDURE_V1)
    assert first.file.read() == PROCEDURE_V1.encode()


def test_each_upload_is_the_next_version_and_the_history_keeps_every_one(frozen_clock, project_a, engineer, dispatcher):
    document = new_document(project_a, engineer)
    frozen_clock.shift(timedelta(days=1))
    services.add_version(document=document, by=dispatcher, version=current_version(document),
                         upload=upload(PROCEDURE_V2), note="增加雨季清洁")
    frozen_clock.shift(timedelta(days=1))
    services.add_version(document=document, by=engineer, version=current_version(document),
                         upload=upload(PROCEDURE_V2 + "5. 新增\n"), note="第三版")
    document.refresh_from_db()
    history = list(document.versions.order_by("number").values_list("number", "author__username", "note"))
    assert history == [(1, "engineer", "初版"), (2, "dispatcher", "增加雨季清洁"), (3, "engineer", "第三版")]
    assert document.current_number == 3
    assert document.versions.get(number=1).file.read() == PROCEDURE_V1.encode()


def test_a_second_upload_based_on_the_same_version_is_a_conflict_and_writes_nothing(project_a, engineer, dispatcher,
                                                                                   settings):
    document = new_document(project_a, engineer)
    seen = current_version(document)  # both people opened the upload page now
    services.add_version(document=document, by=engineer, version=seen, upload=upload(PROCEDURE_V2))
    files = stored_files(settings)
    with pytest.raises(StaleObject):
        services.add_version(document=document, by=dispatcher, version=seen, upload=upload(PROCEDURE_V2 + "x\n"))
    assert DocumentVersion.objects.filter(document=document).count() == 2
    assert Document.objects.get(pk=document.pk).current_number == 2
    assert stored_files(settings) == files


def test_the_same_file_as_the_current_version_is_refused(project_a, engineer, settings):
    document = new_document(project_a, engineer)
    files = stored_files(settings)
    with pytest.raises(DomainError) as refused:
        services.add_version(document=document, by=engineer, version=current_version(document),
                             upload=upload(PROCEDURE_V1, name="改名.md"))
    assert refused.value.field == "file" and "identical" in str(refused.value.message)
    assert (document.versions.count(), current_version(document), stored_files(settings)) == (1, 1, files)


def test_a_file_with_a_password_is_refused_with_the_line(project_a, engineer, settings):
    document = new_document(project_a, engineer)
    with pytest.raises(DomainError) as refused:
        services.add_version(document=document, by=engineer, version=current_version(document),
                             upload=upload(PROCEDURE_V1 + "NVR 管理员密码：Hik12345\n"))
    assert refused.value.field == "file"
    assert "Line 5" in str(refused.value.message) and "Hik12345" not in str(refused.value.message)
    assert document.versions.count() == 1 and len(stored_files(settings)) == 1


def test_a_new_document_with_a_password_in_its_workbook_is_not_created(project_a, engineer, settings):
    from aftersales.documents.demo import xlsx_bytes

    data = xlsx_bytes({"账号": [["设备", "账号", "备注"], ["NVR-01", "admin", "password=Secret99"]]})
    with pytest.raises(DomainError):
        new_document(project_a, engineer, content=data, name="账号.xlsx")
    assert not Document.objects.exists() and stored_files(settings) == []


def test_a_file_over_the_size_limit_is_refused(project_a, engineer, monkeypatch):
    monkeypatch.setattr(extract, "MAX_BYTES", 1024)
    with pytest.raises(DomainError) as refused:
        new_document(project_a, engineer, content="一" * 1000)
    assert refused.value.field == "file" and "1024" not in str(refused.value.message)
    assert not Document.objects.exists()


def test_an_empty_title_is_refused(project_a, engineer):
    with pytest.raises(DomainError) as refused:
        new_document(project_a, engineer, title="  ")
    assert refused.value.field == "title"


def test_visibility_changes_with_the_version_seen(project_a, engineer):
    document = new_document(project_a, engineer)
    services.set_visibility(document=document, by=engineer, version=current_version(document), visibility="shared")
    assert Document.objects.get(pk=document.pk).visibility == "shared"
    with pytest.raises(StaleObject):
        services.set_visibility(document=document, by=engineer, version=1, visibility="internal")
    assert Document.objects.get(pk=document.pk).visibility == "shared"
