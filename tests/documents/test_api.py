"""LOG-2 over the API: scoped lists (a customer's user: shared documents only), create with the first version,
upload a version (multipart), visibility, versions and their download; errors are 4xx with code, detail and field."""

import pytest
from django.utils import translation

from aftersales.documents.models import Document

from ..conftest import api_as
from ..factories import current_version
from .conftest import PROCEDURE_V1, PROCEDURE_V2, upload


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_the_customer_lists_shared_documents_only(customer_user_a, internal_doc_a, shared_doc_a, doc_b):
    client = api_as(customer_user_a)
    ids = [row["id"] for row in client.get("/api/documents/").json()["results"]]
    assert ids == [shared_doc_a.pk]
    assert client.get(f"/api/documents/{internal_doc_a.pk}/").status_code == 404
    assert client.get(f"/api/documents/{doc_b.pk}/").status_code == 404
    versions = client.get("/api/document-versions/").json()["results"]
    assert {row["document"] for row in versions} == {shared_doc_a.pk}
    internal_version = internal_doc_a.versions.get()
    assert client.get(f"/api/document-versions/{internal_version.pk}/download/").status_code == 404


def test_a_version_is_downloaded_through_the_api(customer_user_a, shared_doc_a):
    version = shared_doc_a.versions.get(number=2)
    response = api_as(customer_user_a).get(f"/api/document-versions/{version.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PROCEDURE_V2.encode()


def test_staff_create_a_document_with_its_first_version(engineer, project_a):
    response = api_as(engineer).post("/api/documents/", {
        "project": project_a.pk, "title": "维护规程", "kind": "procedure", "visibility": "shared", "note": "初版",
        "file": upload(PROCEDURE_V1)}, format="multipart")
    assert response.status_code == 201, response.json()
    document = Document.objects.get(pk=response.json()["id"])
    assert (document.current_number, document.visibility, response.json()["current_number"]) == (1, "shared", 1)


def test_a_project_of_another_customer_is_a_400_on_create(engineer, project_b):
    response = api_as(engineer).post("/api/documents/", {
        "project": project_b.pk, "title": "x", "kind": "procedure", "file": upload(PROCEDURE_V1)}, format="multipart")
    assert response.status_code == 400 and "project" in response.json()["fields"]
    assert not Document.objects.exists()


def test_uploading_a_version_and_the_409_of_a_stale_one(engineer, dispatcher, internal_doc_a):
    seen = current_version(internal_doc_a)
    url = f"/api/documents/{internal_doc_a.pk}/versions/"
    first = api_as(engineer).post(url, {"version": seen, "file": upload(PROCEDURE_V2), "note": "第二版"},
                                  format="multipart")
    assert first.status_code == 201 and first.json()["number"] == 2 and first.json()["has_text"] is True
    second = api_as(dispatcher).post(url, {"version": seen, "file": upload(PROCEDURE_V2 + "x\n")}, format="multipart")
    assert (second.status_code, second.json()["code"]) == (409, "stale")
    assert internal_doc_a.versions.count() == 2


def test_a_password_is_a_400_on_the_file_field(engineer, internal_doc_a):
    response = api_as(engineer).post(f"/api/documents/{internal_doc_a.pk}/versions/", {
        "version": current_version(internal_doc_a), "file": upload("pwd: abc12345\n")}, format="multipart")
    body = response.json()
    assert response.status_code == 400 and body["code"] == "invalid" and "密码" in body["detail"]  # the default language
    assert "file" in body["fields"]


def test_the_same_file_again_is_a_400(engineer, internal_doc_a):
    response = api_as(engineer).post(f"/api/documents/{internal_doc_a.pk}/versions/", {
        "version": current_version(internal_doc_a), "file": upload(PROCEDURE_V1)}, format="multipart")
    assert response.status_code == 400 and "完全相同" in response.json()["detail"]  # "identical"


def test_the_customer_may_not_upload_or_share(customer_user_a, shared_doc_a):
    client = api_as(customer_user_a)
    response = client.post(f"/api/documents/{shared_doc_a.pk}/versions/", {
        "version": current_version(shared_doc_a), "file": upload("新版\n")}, format="multipart")
    assert response.status_code == 403
    response = client.post(f"/api/documents/{shared_doc_a.pk}/visibility/",
                           {"version": current_version(shared_doc_a), "visibility": "internal"}, format="json")
    assert response.status_code == 403


def test_staff_change_the_visibility(dispatcher, internal_doc_a):
    response = api_as(dispatcher).post(f"/api/documents/{internal_doc_a.pk}/visibility/",
                                       {"version": current_version(internal_doc_a), "visibility": "shared"},
                                       format="json")
    assert response.status_code == 200 and response.json()["visibility"] == "shared"
