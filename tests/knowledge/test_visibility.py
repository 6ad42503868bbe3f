"""SRQ-9: customers read only published customer-visible articles — never an internal one or a draft: not in the
list, not by its page, not in the API, not in the portal's suggestions (a 404, like a missing article)."""

import pytest
from django.urls import reverse

from aftersales.knowledge import services
from aftersales.knowledge.selectors import visible_articles

from ..conftest import api_as


@pytest.fixture
def three(publish_article, engineer):
    shared = publish_article(title="摄像机黑屏自查", symptom="画面黑屏", customer_visible=True)
    internal = publish_article(title="黑屏内部处理", symptom="黑屏,需登录设备后台")
    draft = services.write_article(by=engineer, title="黑屏草稿", symptom="黑屏", fix="待写", customer_visible=True)
    return shared, internal, draft


def test_customer_list_shows_only_the_shared_article(three, client, customer_user_a):
    shared, _internal, _draft = three
    client.force_login(customer_user_a)
    for params in ({}, {"q": "黑屏"}, {"state": "draft"}):
        page = client.get(reverse("knowledge:article_list"), params)
        assert [a.pk for a in page.context["articles"]] == [shared.pk]
        assert "黑屏内部处理" not in page.content.decode()


def test_customer_gets_404_for_internal_and_draft_pages(three, client, customer_user_a):
    shared, internal, draft = three
    client.force_login(customer_user_a)
    assert client.get(shared.get_absolute_url()).status_code == 200
    assert client.get(internal.get_absolute_url()).status_code == 404
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_customer_api_lists_and_reads_only_the_shared_article(three, customer_user_a):
    shared, internal, draft = three
    api = api_as(customer_user_a)
    assert [row["id"] for row in api.get("/api/articles/").json()["results"]] == [shared.pk]
    assert [row["id"] for row in api.get("/api/articles/", {"q": "黑屏"}).json()["results"]] == [shared.pk]
    assert api.get(f"/api/articles/{internal.pk}/").status_code == 404
    assert api.get(f"/api/articles/{draft.pk}/").status_code == 404
    assert "author" not in api.get(f"/api/articles/{shared.pk}/").json()


def test_portal_suggestions_hold_only_the_shared_article(three, client, customer_user_a):
    shared, _internal, _draft = three
    client.force_login(customer_user_a)
    body = client.get(reverse("knowledge:suggest"), {"q": "摄像机黑屏"}).json()
    assert [row["id"] for row in body["articles"]] == [shared.pk]


def test_portal_report_form_offers_the_shared_article_for_the_customers_models(publish_article, client,
                                                                                customer_user_a, device_a):
    publish_article(title="夜视失效", symptom="夜间无图像", customer_visible=True, device_models=device_a.model)
    publish_article(title="夜视内部", symptom="夜间无图像", device_models=device_a.model)  # internal
    client.force_login(customer_user_a)
    page = client.get(reverse("service:submit")).content.decode()
    assert 'id="try-first"' in page and "夜视失效" in page and "夜视内部" not in page
    assert "knowledge/try_first.js" in page


def test_staff_see_every_state_and_nobody_else_sees_anything(three, engineer):
    from django.contrib.auth.models import AnonymousUser

    assert visible_articles(engineer).count() == 3
    assert visible_articles(AnonymousUser()).count() == 0


def test_desk_intake_form_has_no_try_first_block(client, dispatcher, publish_article):
    publish_article(customer_visible=True)
    client.force_login(dispatcher)
    assert 'id="try-first"' not in client.get(reverse("service:intake")).content.decode()
