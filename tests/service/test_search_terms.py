"""Issue 21 §8: title words through the term index (service/terms.py, service/term_index.py) — Chinese by any two
consecutive characters, other words whole, every word typed really contained, the index kept current by the
database and put back after a table rebuild."""

import pytest
from django.db import connection, transaction

from aftersales.service import search, term_index, verbs
from aftersales.service.models import Channel, Priority, ServiceRequest
from aftersales.service.terms import search_terms, terms_of


@pytest.mark.parametrize("text, terms", [
    ("摄像机黑屏", ["摄像", "像机", "机黑", "黑屏"]),
    ("DS-2CD2T47G2 NVR离线", ["ds", "2cd2t47g2", "nvr", "离线"]),
    ("３号楼 屏", ["3", "号楼"]),  # full width as ASCII; one character alone has no term
    ("黑屏黑屏", ["黑屏", "屏黑", "黑屏"]),  # in order, repeats kept (a phrase on SQLite)
    ("", []), ("—— !!", []),
])
def test_terms(text, terms):
    assert terms_of(text) == terms


def test_the_column_holds_the_title_and_the_name():
    assert search_terms("NVR 录像丢失", "张伟") == "nvr 录像 像丢 丢失 张伟"


def test_the_fts_query_is_a_phrase_per_run_and_nothing_typed_is_an_operator():
    assert term_index.fts_query("摄像机黑屏 NVR") == '"摄像 像机 机黑 黑屏" "nvr"'
    assert term_index.fts_query('黑 "OR* NEAR(x) -a') == '"or" "near" "x" "a"'
    assert term_index.fts_query("屏") == ""


def open_request(by, project, title, **kwargs):
    return verbs.open_request(by=by, project=project, priority=Priority.GENERAL, channel=Channel.PHONE, title=title,
                              description="-", **kwargs)


def found(text) -> set[str]:
    return set(search.search_requests(ServiceRequest.objects.all(), text).values_list("number", flat=True))


def test_chinese_by_any_two_consecutive_characters_other_words_whole(frozen_clock, dispatcher, project_a):
    black = open_request(dispatcher, project_a, "3号楼摄像机黑屏", reporter_name="张建华")
    nvr = open_request(dispatcher, project_a, "NVR 离线", reporter_name="李工")
    nvr01 = open_request(dispatcher, project_a, "NVR01 离线")
    assert black.search_terms == search_terms("3号楼摄像机黑屏", "张建华")
    assert found("像机黑") == {black.number}
    assert found("黑屏 建华") == {black.number}  # words of the title and the name together
    assert found("nvr") == {nvr.number}  # whole words, any case
    assert found("离线") == {nvr.number, nvr01.number}
    assert found("NV") == set()


def test_every_word_must_really_be_contained(frozen_clock, dispatcher, project_a):
    both_pairs = open_request(dispatcher, project_a, "屏幕黑屏")  # has the pairs 黑屏 and 屏幕, not 黑屏幕
    open_request(dispatcher, project_a, "黑色屏幕")  # has neither pair 黑屏
    assert found("黑屏幕") == set()
    assert found("黑屏") == {both_pairs.number}


def index_is_complete():
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # raises when the index and the rows disagree
            cursor.execute(f"INSERT INTO {term_index.FTS}({term_index.FTS}, rank) VALUES ('integrity-check', 1)")


@pytest.mark.django_db(transaction=True)
def test_the_database_keeps_the_index_current(frozen_clock, dispatcher, project_a):
    first = open_request(dispatcher, project_a, "门禁读卡器失灵")
    second = open_request(dispatcher, project_a, "道闸不抬杆")
    ServiceRequest.objects.filter(pk=second.pk).update(title="道闸抬杆正常", search_terms=search_terms("道闸抬杆正常"))
    assert found("正常") == {second.number} and found("不抬") == set() and found("读卡器") == {first.number}
    ServiceRequest.objects.filter(pk=first.pk).delete()  # never done by the product; a flush does it
    assert found("读卡器") == set()
    index_is_complete()


@pytest.mark.django_db(transaction=True)
def test_the_index_exists_after_migrate_and_is_put_back_when_dropped(frozen_clock, dispatcher, project_a):
    request = open_request(dispatcher, project_a, "硬盘告警")
    assert term_index.ensure_index(connection) is False  # migrate made it
    term_index.drop_index(connection)  # what a table rebuild does to the triggers
    assert term_index.ensure_index(connection) is True
    index_is_complete()
    assert found("硬盘") == {request.number}
    later = open_request(dispatcher, project_a, "硬盘满了")
    assert found("硬盘") == {request.number, later.number}


def test_a_title_word_is_read_through_the_index(frozen_clock, dispatcher, project_a):
    for i in range(40):
        open_request(dispatcher, project_a, f"第{i}号摄像机黑屏")
    requests = ServiceRequest.objects.all()
    queryset = search.search_requests(requests, "摄像机")
    if connection.vendor == "sqlite":
        plan = queryset.explain()  # the ids come from the FTS5 table; the outer query's plan depends on the row count
        assert "VIRTUAL TABLE INDEX" in plan, plan
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            assert term_index.GIN in queryset.explain()
    assert queryset.count() == 40


def test_a_search_is_counted_up_to_a_limit_and_the_page_says_more_than(client, frozen_clock, dispatcher, project_a,
                                                                      monkeypatch):
    from django.conf import settings
    from django.urls import reverse

    from aftersales.service.views.queue import RequestList

    for i in range(4):
        open_request(dispatcher, project_a, f"硬盘告警 {i}")
    monkeypatch.setattr(RequestList, "search_count_limit", 2)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(dispatcher)
    response = client.get(reverse("service:request_list"), {"q": "硬盘", "size": 1})
    assert response.context["paginator"].count == 3 and response.context["count_over"] == 2
    assert "more than 2 records" in response.content.decode()
    assert len(response.context["page_obj"].object_list) == 1
    listed = client.get(reverse("service:request_list"), {"size": 1})  # no search: the exact count
    assert listed.context["paginator"].count == 4 and listed.context["count_over"] is None
