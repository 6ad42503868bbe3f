import pytest
from django.core.files.base import ContentFile

from aftersales.documents import services
from aftersales.documents.models import DocumentKind, Visibility

PROCEDURE_V1 = "# 维护规程\n1. 每日检查大屏。\n2. 每周检查录像。\n3. 每月清洁镜头。\n"
PROCEDURE_V2 = "# 维护规程\n1. 每日检查大屏。\n2. 每周检查录像完整性。\n3. 每月清洁镜头。\n4. 雨季后增加一次清洁。\n"


def upload(content, name="维护规程.md"):
    return ContentFile(content.encode() if isinstance(content, str) else content, name=name)


def new_document(project, by, *, content=PROCEDURE_V1, name="维护规程.md", visibility=Visibility.INTERNAL,
                 title="维护规程"):
    return services.create_document(by=by, project=project, title=title, kind=DocumentKind.PROCEDURE,
                                    visibility=visibility, upload=upload(content, name), note="初版")


@pytest.fixture
def internal_doc_a(project_a, engineer):
    return new_document(project_a, engineer, title="内部维护规程")


@pytest.fixture
def shared_doc_a(project_a, engineer):
    document = new_document(project_a, engineer, visibility=Visibility.SHARED, title="共享维护规程")
    document.refresh_from_db()
    services.add_version(document=document, by=engineer, version=document.version, upload=upload(PROCEDURE_V2),
                         note="增加雨季清洁")
    document.refresh_from_db()
    return document


@pytest.fixture
def doc_b(project_b, general_manager):
    return new_document(project_b, general_manager, visibility=Visibility.SHARED, title="地铁维护规程")
