"""SRQ-9: the request page shows the articles matching its devices and words (另一型号的文章不出现), at a fixed
number of queries whatever the number of articles."""

import pytest
from django.urls import reverse

from aftersales.knowledge import matching
from aftersales.service import verbs

from ..factories import DeviceFactory


@pytest.fixture
def request_a(customer_user_a, project_a, device_a):
    return verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                              title="夜间画面发白", description="红外切换异常", devices=[device_a])


def test_the_article_of_the_devices_model_appears_another_models_does_not(request_a, device_a, publish_article,
                                                                           client, engineer):
    from aftersales.assets.models import Manufacturer

    other_maker = Manufacturer.objects.create(name="宇视")
    right = publish_article(title="红外灯常亮", symptom="白天偏红", fix="恢复日夜切换", device_models=device_a.model.lower())
    wrong = publish_article(title="云台不转", symptom="控制无响应", fix="检查 RS485", device_models="IPC2124LB-SF40KM",
                            manufacturer=other_maker)
    client.force_login(engineer)
    page = client.get(request_a.get_absolute_url())
    html = page.content.decode()
    assert 'id="related-articles"' in html
    assert right.get_absolute_url() in html and wrong.get_absolute_url() not in html


def test_words_of_the_title_match_without_a_model(request_a, publish_article, engineer):
    words = publish_article(title="画面发白怎么办", symptom="夜间画面发白", fix="清洁镜头")
    unrelated = publish_article(title="门禁刷卡失败", symptom="读卡器无反应", fix="检查接线")
    found = [a.pk for a in matching.for_request(engineer, request_a)]
    assert words.pk in found and unrelated.pk not in found


def test_same_model_ranks_first(request_a, device_a, publish_article, engineer):
    by_words = publish_article(title="夜间画面发白", symptom="画面发白", fix="调整参数")
    by_model = publish_article(title="固件升级", symptom="偶发重启", fix="升级固件", device_models=device_a.model)
    assert [a.pk for a in matching.for_request(engineer, request_a)][:2] == [by_model.pk, by_words.pk]


def test_customers_are_offered_only_customer_visible_articles(request_a, device_a, publish_article, customer_user_a):
    shared = publish_article(title="夜间发白自查", symptom="画面发白", customer_visible=True, device_models=device_a.model)
    publish_article(title="夜间发白内部", symptom="画面发白", device_models=device_a.model)
    assert [a.pk for a in matching.for_request(customer_user_a, request_a)] == [shared.pk]


def test_drafts_are_never_offered(request_a, device_a, engineer):
    from aftersales.knowledge import services

    services.write_article(by=engineer, title="夜间画面发白", symptom="画面发白", fix="x", device_models=device_a.model)
    assert matching.for_request(engineer, request_a) == []


@pytest.mark.parametrize("n", [3, 30])
def test_request_page_related_list_costs_the_same_for_3_or_30_articles(n, request_a, device_a, publish_article,
                                                                     client, engineer,
                                                                     django_assert_max_num_queries):
    for i in range(n):
        publish_article(title=f"夜间画面发白 {i}", symptom="画面发白", fix="清洁", device_models=device_a.model)
    client.force_login(engineer)
    client.get(request_a.get_absolute_url())  # warm the per-user caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as page:
        client.get(request_a.get_absolute_url())
    knowledge = [q for q in page.captured_queries if "knowledge_" in q["sql"]]
    assert len(knowledge) <= 3  # the words' best articles, the matching articles, the proposal of this request


@pytest.mark.parametrize("n", [3, 30])
def test_list_page_costs_the_same_for_3_or_30_articles(n, publish_article, client, engineer,
                                                       django_assert_max_num_queries):
    for i in range(n):
        publish_article(title=f"硬盘报警 {i}", symptom="蜂鸣", fix="更换硬盘")
    client.force_login(engineer)
    client.get(reverse("knowledge:article_list"))
    with django_assert_max_num_queries(8):  # session, user, perms, the page (manufacturer joined), nav badges
        assert client.get(reverse("knowledge:article_list")).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("knowledge:article_list"), {"q": "硬盘"}).status_code == 200


@pytest.mark.parametrize("n", [3, 30])
def test_portal_form_costs_the_same_for_3_or_30_devices(n, project_a, customer_user_a, client, publish_article,
                                                       django_assert_max_num_queries):
    DeviceFactory.create_batch(n, project=project_a, model=f"M-{n}")
    publish_article(customer_visible=True, device_models=f"M-{n}")
    client.force_login(customer_user_a)
    client.get(reverse("service:submit"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as page:
        client.get(reverse("service:submit"))
    assert len([q for q in page.captured_queries if "knowledge_" in q["sql"] or "GROUP BY" in q["sql"]]) <= 3
