"""Real concurrent uploads, each thread on its own database connection (as separate worker processes would be): of
people uploading a new version of the same document from the same page at once, one wins (version 2) and the others
get a conflict; nothing is half-written (no second row numbered 2, no file without its row)."""

import pytest

from aftersales.core.errors import StaleObject
from aftersales.documents import services
from aftersales.documents.models import Document, DocumentVersion

from ..concurrency import database_for_threads, in_threads
from .conftest import new_document, upload


@pytest.mark.django_db(transaction=True)
def test_four_people_uploading_version_2_at_once_one_wins_the_others_conflict(project_a, engineer, settings,
                                                                              tmp_path):
    document = new_document(project_a, engineer)
    seen = document.version

    def add(i):
        try:
            services.add_version(document=Document.objects.get(pk=document.pk), by=engineer, version=seen,
                                 upload=upload(f"第 {i} 人的版本\n"))
        except StaleObject:
            return "conflict"
        return "added"

    with database_for_threads(tmp_path):
        outcomes = in_threads(add, 4)
        rows = in_threads(lambda _i: (list(DocumentVersion.objects.filter(document_id=document.pk)
                                           .order_by("number").values_list("number", flat=True)),
                                      Document.objects.get(pk=document.pk).current_number), 1)[0]
    assert sorted(outcomes) == ["added"] + ["conflict"] * 3
    assert rows == ([1, 2], 2)
    files = [p for p in (settings.MEDIA_ROOT / "documents").rglob("*") if p.is_file()]
    assert len(files) == 2  # the losers' files were removed with their rolled-back rows
