"""LOG-2 pages: the project's documents, a document's history, uploading, visibility, the side-by-side diff and the
downloads — scoped (another customer's is a 404) and, for a customer's user, shared documents only."""

from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import reverse

from aftersales.documents import services
from aftersales.documents.demo import docx_bytes, pdf_bytes
from aftersales.documents.models import Document, Visibility

from ..factories import current_version
from .conftest import PROCEDURE_V1, PROCEDURE_V2, new_document, upload


def english(client):
    """Messages are checked in English: the UI speaks Chinese unless the language cookie says otherwise."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_the_project_page_links_to_its_documents(client, engineer, project_a):
    response = page(client, engineer, project_a.get_absolute_url())
    assert reverse("documents:project_documents", args=[project_a.pk]) in response.content.decode()


def test_a_customer_sees_shared_documents_only(client, customer_user_a, project_a, internal_doc_a, shared_doc_a):
    body = page(client, customer_user_a, reverse("documents:project_documents", args=[project_a.pk])).content.decode()
    assert "共享维护规程" in body and "内部维护规程" not in body
    listing = client.get(reverse("documents:document_list")).content.decode()
    assert "共享维护规程" in listing and "内部维护规程" not in listing
    assert client.get(shared_doc_a.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("url_name", ["documents:document_detail", "documents:diff"])
def test_an_internal_document_is_a_404_for_the_customer(client, customer_user_a, internal_doc_a, url_name):
    assert page(client, customer_user_a, reverse(url_name, args=[internal_doc_a.pk])).status_code == 404


def test_an_internal_documents_download_is_a_404_for_the_customer(client, customer_user_a, internal_doc_a):
    version = internal_doc_a.versions.get()
    assert page(client, customer_user_a, version.get_download_url()).status_code == 404


def test_another_customers_project_and_documents_are_404(client, customer_user_a, engineer, project_b, doc_b):
    for user in (customer_user_a, engineer):
        assert page(client, user, reverse("documents:project_documents", args=[project_b.pk])).status_code == 404
        assert client.get(doc_b.get_absolute_url()).status_code == 404
        assert client.get(doc_b.versions.get().get_download_url()).status_code == 404
        assert doc_b.title not in client.get(reverse("documents:document_list")).content.decode()


def test_the_download_carries_the_original_chinese_name(client, customer_user_a, shared_doc_a):
    version = shared_doc_a.versions.get(number=1)
    response = page(client, customer_user_a, version.get_download_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PROCEDURE_V1.encode()
    assert f"filename*=utf-8''{quote('维护规程.md')}" in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")


def test_the_history_lists_every_version_with_author_note_and_diff_links(client, customer_user_a, shared_doc_a):
    body = page(client, customer_user_a, shared_doc_a.get_absolute_url()).content.decode()
    assert 'data-version="2"' in body and 'data-version="1"' in body
    assert "增加雨季清洁" in body and "初版" in body
    assert "?from=1&amp;to=2" in body


def test_the_diff_shows_a_changed_line_on_both_sides(client, customer_user_a, shared_doc_a):
    response = page(client, customer_user_a, reverse("documents:diff", args=[shared_doc_a.pk]) + "?from=1&to=2")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<td class="old">2. 每周检查录像。</td>' in body
    assert '<td class="new">2. 每周检查录像完整性。</td>' in body
    assert '<tr class="insert">' in body and "4. 雨季后增加一次清洁。" in body


def test_the_diff_escapes_the_documents_text(client, engineer, project_a):
    document = new_document(project_a, engineer, content="<b>旧</b>\n")
    services.add_version(document=document, by=engineer, version=current_version(document),
                         upload=upload("<script>alert(1)</script>\n"))
    body = page(client, engineer, reverse("documents:diff", args=[document.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_docx_versions_are_compared_through_their_text(client, engineer, project_a):
    document = new_document(project_a, engineer, content=docx_bytes(["竣工说明", "核心交换机两台"]), name="竣工.docx")
    services.add_version(document=document, by=engineer, version=current_version(document),
                         upload=upload(docx_bytes(["竣工说明", "核心交换机三台"]), name="竣工.docx"))
    body = page(client, engineer, reverse("documents:diff", args=[document.pk])).content.decode()
    assert '<td class="old">核心交换机两台</td>' in body and '<td class="new">核心交换机三台</td>' in body


def test_files_without_text_offer_both_downloads_instead_of_a_diff(client, engineer, project_a):
    document = new_document(project_a, engineer, content=pdf_bytes("a"), name="平面图.pdf")
    services.add_version(document=document, by=engineer, version=current_version(document),
                         upload=upload(pdf_bytes("b"), name="平面图.pdf"))
    body = page(client, engineer, reverse("documents:diff", args=[document.pk])).content.decode()
    assert "no-text-diff" in body
    for version in document.versions.all():
        assert version.get_download_url() in body


def test_a_diff_of_a_missing_version_is_a_404(client, engineer, shared_doc_a):
    url = reverse("documents:diff", args=[shared_doc_a.pk])
    assert page(client, engineer, url + "?from=1&to=9").status_code == 404
    assert client.get(url + "?from=x").status_code == 404


def test_uploading_a_new_version_through_the_form(client, engineer, internal_doc_a):
    client.force_login(engineer)
    response = client.post(reverse("documents:version_upload", args=[internal_doc_a.pk]),
                           {"version": current_version(internal_doc_a), "note": "第二版",
                            "file": upload(PROCEDURE_V2)})
    assert response.status_code == 302
    assert internal_doc_a.versions.get(number=2).note == "第二版"


def test_the_upload_form_explains_that_passwords_do_not_belong_here(client, engineer, internal_doc_a):
    client.force_login(engineer)
    english(client)
    url = reverse("documents:version_upload", args=[internal_doc_a.pk])
    assert "password store" in client.get(url).content.decode()
    response = client.post(url, {"version": current_version(internal_doc_a), "note": "",
                                 "file": upload(PROCEDURE_V2 + "密码：Admin@123\n")})
    body = response.content.decode()
    assert response.status_code == 200 and "looks like a password" in body
    assert internal_doc_a.versions.count() == 1


def test_a_stale_upload_form_shows_the_conflict(client, engineer, dispatcher, internal_doc_a):
    seen = current_version(internal_doc_a)
    services.add_version(document=internal_doc_a, by=dispatcher, version=seen, upload=upload(PROCEDURE_V2))
    client.force_login(engineer)
    english(client)
    response = client.post(reverse("documents:version_upload", args=[internal_doc_a.pk]),
                           {"version": seen, "file": upload(PROCEDURE_V2 + "x\n")})
    assert "Reload" in response.content.decode()
    assert internal_doc_a.versions.count() == 2


def test_creating_a_document_for_a_project(client, dispatcher, project_a):
    client.force_login(dispatcher)
    response = client.post(reverse("documents:document_create", args=[project_a.pk]),
                           {"title": "网络规划", "kind": "network", "visibility": "internal", "note": "初版",
                            "file": upload("核心交换机 10.0.0.1\n", name="网络规划.txt")})
    document = Document.objects.get()
    assert response.status_code == 302 and response["Location"] == document.get_absolute_url()
    assert (document.title, document.current_number, document.versions.get().author) == ("网络规划", 1, dispatcher)


def test_the_customer_cannot_upload_or_change_visibility(client, customer_user_a, project_a, shared_doc_a):
    client.force_login(customer_user_a)
    assert client.get(reverse("documents:document_create", args=[project_a.pk])).status_code == 403
    assert client.get(reverse("documents:version_upload", args=[shared_doc_a.pk])).status_code == 403
    response = client.post(reverse("documents:visibility", args=[shared_doc_a.pk]),
                           {"version": current_version(shared_doc_a), "visibility": "internal"})
    assert response.status_code == 403
    assert Document.objects.get(pk=shared_doc_a.pk).visibility == Visibility.SHARED


def test_staff_share_a_document_and_the_customer_then_sees_it(client, dispatcher, customer_user_a, internal_doc_a):
    client.force_login(dispatcher)
    response = client.post(reverse("documents:visibility", args=[internal_doc_a.pk]),
                           {"version": current_version(internal_doc_a), "visibility": "shared"})
    assert response.status_code == 302
    assert page(client, customer_user_a, internal_doc_a.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("n", [2, 8])
def test_pages_cost_the_same_whatever_the_number_of_documents_and_versions(n, client, engineer, project_a,
                                                                          django_assert_max_num_queries):
    documents = []
    for i in range(n):
        document = new_document(project_a, engineer, title=f"文档{i}", content=f"v1 {i}\n")
        for k in range(2, n + 1):
            services.add_version(document=document, by=engineer, version=current_version(document),
                                 upload=upload(f"v{k} {i}\n"))
        documents.append(document)
    client.force_login(engineer)
    client.get(reverse("documents:document_list"))  # warm the per-worker caches (filter choices)
    urls = [reverse("documents:document_list"), reverse("documents:project_documents", args=[project_a.pk]),
            documents[0].get_absolute_url(), reverse("documents:diff", args=[documents[0].pk])]
    for url in urls:
        with django_assert_max_num_queries(9):  # session, user, perms ×2, the page's 2-4 reads, messages
            assert client.get(url).status_code == 200, url
