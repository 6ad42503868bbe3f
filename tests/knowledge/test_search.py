"""SRQ-9: the knowledge base is searched in Chinese by any two consecutive characters, in the order typed, by model
number; a word no article holds finds nothing. On SQLite through FTS5 (bm25), on PostgreSQL through the GIN index."""

import pytest
from django.urls import reverse

from aftersales.knowledge import selectors
from aftersales.knowledge.models import Article

from ..conftest import api_as


@pytest.fixture
def articles(publish_article):
    return {
        "black": publish_article(title="海康摄像机夜间黑屏", symptom="夜间画面全黑,白天正常", fix="检查红外灯\n更换补光灯",
                                 device_models="DS-2CD3T46WDV3-I3"),
        "disk": publish_article(title="NVR 硬盘报警", symptom="录像机蜂鸣,提示硬盘异常", fix="更换硬盘\n重建阵列",
                                device_models="DS-9632N-I16"),
        "offline": publish_article(title="交换机端口离线", symptom="多台摄像机同时离线", fix="检查交换机端口与网线",
                                   cause="交换机 PoE 供电不足"),
    }


def found(text):
    return [a.pk for a in selectors.search_articles(Article.objects.all(), text)]


def test_a_two_character_word_finds_the_article(articles):
    assert found("黑屏") == [articles["black"].pk]
    assert found("硬盘") == [articles["disk"].pk]


def test_a_word_in_the_cause_or_fix_is_found_too(articles):
    assert found("补光") == [articles["black"].pk]
    assert found("供电") == [articles["offline"].pk]


def test_a_four_character_phrase_is_found_only_in_its_order(articles):
    assert found("夜间黑屏") == [articles["black"].pk]
    assert found("黑屏夜间") == []  # the same characters in another order are another phrase


def test_a_model_number_finds_its_article_whatever_the_case(articles):
    assert found("ds-9632n-i16") == [articles["disk"].pk]
    assert found("DS-2CD3T46WDV3-I3") == [articles["black"].pk]


def test_a_word_no_article_holds_finds_nothing(articles):
    assert found("花屏") == []
    assert found("门禁") == []


def test_two_articles_sharing_a_word_are_both_found_the_better_first(articles, publish_article):
    more = publish_article(title="黑屏黑屏 黑屏", symptom="黑屏", fix="黑屏时重启")
    hits = found("黑屏")
    assert set(hits) == {articles["black"].pk, more.pk}
    assert hits[0] == more.pk  # bm25 / title first: the article about it ranks first


def test_one_character_is_looked_for_by_contains(articles):
    assert found("蜂") == [articles["disk"].pk]


def test_the_list_page_and_the_api_search_the_same_way(articles, client, engineer):
    client.force_login(engineer)
    page = client.get(reverse("knowledge:article_list"), {"q": "黑屏"})
    assert page.status_code == 200
    assert [a.pk for a in page.context["articles"]] == [articles["black"].pk]
    body = api_as(engineer).get("/api/articles/", {"q": "硬盘"}).json()
    assert [row["id"] for row in body["results"]] == [articles["disk"].pk]


def test_editing_an_article_moves_its_index(articles, advisor):
    from aftersales.knowledge import services

    black = articles["black"]
    services.edit_article(article=black, by=advisor, version=black.version, title="摄像机花屏", symptom="画面花屏",
                          fix="更换网线")
    assert found("花屏") == [black.pk]
    assert found("黑屏") == []


def test_the_index_is_in_place_after_migrate(db):
    from django.db import connection

    from aftersales.knowledge.index import drop_index, ensure_index

    assert ensure_index(connection) is False  # nothing missing: the migration and post_migrate built it
    drop_index(connection)
    assert ensure_index(connection) is True  # a rebuilt table's lost triggers come back


def test_a_search_text_cannot_become_an_fts_operator(articles):
    assert found('黑屏" OR "硬盘') == []  # quotes and OR are no operators: every word must be there
    assert found("NEAR(黑屏 硬盘)") == []
