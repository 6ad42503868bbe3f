"""Issue 21 §8: search that finds a caller — by number, phone, contact phone, serial, contract number, name and title;
within the user's scope, at a fixed number of queries, indexed, and never a 500."""

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.service import search, verbs
from aftersales.service.models import Channel, Priority, ServiceRequest

from ..factories import DeviceFactory, ProjectFactory

LIST = reverse("service:request_list")
TOP = reverse("service:search")


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def as_user(client, user):
    client.force_login(user)
    return client


def open_request(by, project, title="NVR 录像丢失", **kwargs):
    return verbs.open_request(by=by, project=project, priority=Priority.GENERAL, channel=Channel.PHONE, title=title,
                              description="3 号 NVR 昨晚录像缺失", **kwargs)


def numbers(response) -> set[str]:
    assert response.status_code == 200
    return {r.number for r in response.context["page_obj"].object_list}


# ------------------------------------------------------------------------------------------ the rules


@pytest.mark.parametrize("text, number", [
    ("SR0000123", "SR0000123"), ("sr123", "SR0000123"), ("SR 0000123", "SR0000123"), ("123", "SR0000123"),
    ("0000123", "SR0000123"), ("１２３", None), ("SR12345678", "SR12345678"), ("SR0", None), ("SR-12", None),
    ("12a", None), ("", None),
])
def test_request_number(text, number):
    assert search.request_number(text) == number or (text == "１２３" and search.request_number(search.normalize(text)) == "SR0000123")


@pytest.mark.parametrize("text, keys", [
    ("139 0001 2345", ["13900012345", "8613900012345", "008613900012345"]),
    ("+86 139-0001-2345", ["8613900012345", "13900012345"]),
    ("0086 13900012345", ["008613900012345", "13900012345"]),
    ("(0951) 5012345", ["09515012345"]),
    ("123456", []), ("139x0001", []), ("1" * 21, []), ("王工", []),
])
def test_phone_keys(text, keys):
    assert search.phone_keys(text) == keys


def test_normalize_makes_full_width_ascii_and_collapses_space():
    assert search.normalize("  １３９　０００１\t2345 ") == "139 0001 2345"


# ------------------------------------------------------------------------------------------ finding


def test_phone_finds_the_reporter_however_the_number_was_written(client, frozen_clock, dispatcher, project_a):
    typed = [open_request(dispatcher, project_a, reporter_name="王工", reporter_phone=phone)
             for phone in ("139 0001 2345", "139-0001-2345", "+86 13900012345", "13900012345")]
    other = open_request(dispatcher, project_a, reporter_name="李工", reporter_phone="13900012346")
    as_user(client, dispatcher)
    wanted = {r.number for r in typed}
    for query in ("13900012345", "139 0001 2345", "+86 139-0001-2345", "８６１３９０００１２３４５"):
        assert numbers(client.get(LIST, {"q": query})) == wanted, query
    assert numbers(client.get(LIST, {"q": "1390001234"})) == set()  # a phone matches whole, not by its prefix
    assert numbers(client.get(LIST, {"q": "13900012346"})) == {other.number}
    assert numbers(client.get(reverse("service:desk"), {"q": "139-0001-2345"})) == wanted  # the desk queue too


def test_contact_phone_finds_the_requests_the_contact_reported(client, frozen_clock, dispatcher, customer_user_a, project_a):
    customer_user_a.phone = "138 1111 2222"
    customer_user_a.save()
    reported = open_request(customer_user_a, project_a)
    ServiceRequest.objects.filter(pk=reported.pk).update(reporter_phone="")  # e.g. the contact's phone changed since
    open_request(dispatcher, project_a)
    assert numbers(as_user(client, dispatcher).get(LIST, {"q": "13811112222"})) == {reported.number}


def test_serial_contract_name_and_title(client, frozen_clock, dispatcher, project_a, customer_a):
    device = DeviceFactory(project=project_a, serial_number="DS-2CD2T47G2-L-0042")
    with_device = open_request(dispatcher, project_a, devices=[device])
    other_project = ProjectFactory(customer=customer_a, contract_number="NX-2026-017")
    in_other = open_request(dispatcher, other_project, title="东门道闸不抬杆", reporter_name="张建华")
    as_user(client, dispatcher)
    assert numbers(client.get(LIST, {"q": "DS-2CD2T47G2-L-0042"})) == {with_device.number}
    assert numbers(client.get(LIST, {"q": "ds-2cd2t47g2-l-0042"})) == {with_device.number}  # typed in lower case
    assert numbers(client.get(LIST, {"q": "DS-2CD2T47G2"})) == set()  # a serial matches whole
    assert numbers(client.get(LIST, {"q": "NX-2026-017"})) == {in_other.number}
    assert numbers(client.get(LIST, {"q": "张建华"})) == {in_other.number}
    assert numbers(client.get(LIST, {"q": "道闸"})) == {in_other.number}
    assert numbers(client.get(LIST, {"q": "建华"})) == {in_other.number}  # part of a name, among the newest requests
    assert numbers(client.get(LIST, {"q": "100%"})) == set() and numbers(client.get(LIST, {"q": "_"})) == set()


def test_title_words_find_requests_of_any_age_one_character_only_the_newest(client, frozen_clock, dispatcher, project_a,
                                                                           monkeypatch):
    old = open_request(dispatcher, project_a, title="旧的硬盘告警", reporter_phone="13900000001")
    newer = [open_request(dispatcher, project_a, title=f"新的问题 {i}") for i in range(3)]
    as_user(client, dispatcher)
    monkeypatch.setattr(search, "TITLE_SCAN_LIMIT", 3)
    assert numbers(client.get(LIST, {"q": "硬盘"})) == {old.number}  # through the term index: any age
    assert numbers(client.get(LIST, {"q": "盘"})) == set()  # one character has no term: the newest 3 only
    assert numbers(client.get(LIST, {"q": "新的问题"})) == {r.number for r in newer}
    assert numbers(client.get(LIST, {"q": "13900000001"})) == {old.number}  # number, phone, serial: any age
    assert numbers(client.get(LIST, {"q": old.number})) == {old.number}
    monkeypatch.setattr(search, "TITLE_SCAN_LIMIT", 10)
    assert numbers(client.get(LIST, {"q": "盘"})) == {old.number}


# ------------------------------------------------------------------------------------------ scope


def test_another_scope_is_never_found_not_even_by_number(client, frozen_clock, dispatcher, general_manager,
                                                         customer_user_a, customer_user_b, project_a, project_b):
    device = DeviceFactory(project=project_b, serial_number="SH-0001")
    theirs = open_request(general_manager, project_b, title="上海的问题", reporter_name="赵六", reporter_phone="13700001111",
                          devices=[device])
    ours = open_request(dispatcher, project_a, title="宁夏的问题", reporter_phone="13700001111")
    queries = [theirs.number, str(theirs.pk), "13700001111", "SH-0001", project_b.contract_number, "赵六", "上海的问题"]
    for user in (dispatcher, customer_user_a):
        as_user(client, user)
        for query in queries:
            assert theirs.number not in numbers(client.get(LIST, {"q": query})), (user, query)
            response = client.get(TOP, {"q": query})
            assert response.status_code == 302 and response.url != theirs.get_absolute_url(), (user, query)
    assert numbers(as_user(client, customer_user_b).get(LIST, {"q": "13700001111"})) == {theirs.number}
    assert numbers(as_user(client, general_manager).get(LIST, {"q": "13700001111"})) == {theirs.number, ours.number}


# ------------------------------------------------------------------------------------------ the top bar


def test_top_bar_goes_to_the_request_a_number_names(client, frozen_clock, dispatcher, project_a):
    request = open_request(dispatcher, project_a, reporter_phone="13900012345")
    open_request(dispatcher, project_a, reporter_phone="13900012345")
    as_user(client, dispatcher)
    for query in (request.number, request.number.lower(), str(request.pk), f" {request.number} "):
        response = client.get(TOP, {"q": query})
        assert response.status_code == 302 and response.url == request.get_absolute_url(), query
    response = client.get(TOP, {"q": "139 0001 2345"})  # two hits: the list with the search
    assert response.status_code == 302 and response.url == f"{LIST}?q=139+0001+2345"
    only = open_request(dispatcher, project_a, title="唯一的标题")
    assert client.get(TOP, {"q": "唯一的标题"}).url == only.get_absolute_url()  # one hit: straight to it
    assert client.get(TOP, {"q": "   "}).url == LIST and client.get(TOP).url == LIST  # nothing typed: the list


def test_too_long_a_search_is_refused_with_a_message(client, frozen_clock, dispatcher, project_a):
    open_request(dispatcher, project_a)
    as_user(client, dispatcher)
    response = client.get(LIST, {"q": "x" * (search.MAX_LENGTH + 1)})
    assert response.status_code == 200 and numbers(response) == set()
    assert "at most 100 characters" in response.content.decode()
    response = client.get(TOP, {"q": "x" * 10_000}, follow=True)
    assert response.status_code == 200 and "Search for at most 100 characters." in response.content.decode()
    assert len(numbers(client.get(LIST, {"q": "   "}))) == 1  # white space only: no search


@pytest.mark.parametrize("query", [
    "x" * 10_240, "' OR 1=1 --", "\"; DROP TABLE service_servicerequest; --", "%", "_", "%_%", "\\", "\\%", "a\x00b",
    "SR99999999999999999999", "9" * 20, "9" * 40, "+" * 50, "()", "😀", "<script>alert(1)</script>", "ＳＲ０００１",
    "\u202e\u200b", "SR" + "0" * 90 + "1",
])
def test_no_500_for_any_input(client, frozen_clock, dispatcher, project_a, query):
    open_request(dispatcher, project_a)
    as_user(client, dispatcher)
    for url in (LIST, TOP, reverse("service:desk")):
        assert client.get(url, {"q": query}).status_code in (200, 302), (url, query)
    assert client.get(reverse("service:request_export_csv"), {"q": query}).status_code in (200, 400)  # 400: too long


# ------------------------------------------------------------------------------------------ the budget


@pytest.mark.parametrize("query", ["13900012345", "DS-0001", "NVR", "the first request's number"])
def test_search_costs_the_same_queries_for_3_and_30_hits(client, frozen_clock, dispatcher, project_a, query,
                                                         django_assert_max_num_queries):
    device = DeviceFactory(project=project_a, serial_number="DS-0001")
    first = open_request(dispatcher, project_a, reporter_phone="139 0001 2345", devices=[device])
    query = first.number if query == "the first request's number" else query
    as_user(client, dispatcher)

    def queries_for(n):
        while ServiceRequest.objects.count() < n:
            open_request(dispatcher, project_a, reporter_phone="139 0001 2345", devices=[device])
        client.get(LIST, {"q": query})  # the worker's caches (permissions, filter choices) are warm in production
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST, {"q": query}).status_code == 200
        return len(captured)

    plain = queries_for(3)
    assert plain == queries_for(30)
    with CaptureQueriesContext(connection) as captured:
        client.get(LIST)
    assert plain == len(captured)  # what the list costs without a search
    with django_assert_max_num_queries(len(captured)):
        client.get(LIST, {"q": query, "size": 100})


# ------------------------------------------------------------------------------------------ the plans


def plan_of(queryset) -> str:
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows: the planner would rightly scan them
            return queryset.explain()
    return queryset.explain()


def test_phone_serial_contract_and_number_are_read_through_indexes(frozen_clock, dispatcher, project_a, general_manager):
    for i in range(40):  # a few distinct callers, and statistics that say so (else a scan of nothing looks cheapest)
        open_request(dispatcher, project_a, reporter_name=f"报修人{i}", reporter_phone=f"139 0000 {i:04d}")
    # Enough devices that a serial number is selective: with two, PostgreSQL may as well walk the primary key.
    DeviceFactory.create_batch(60, project=project_a)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    requests = ServiceRequest.objects.all()
    phone = plan_of(search.search_requests(requests, "139 0001 2345"))
    assert "srq_reporter_phone_key" in phone, phone
    serial = plan_of(search.search_requests(requests, "DS-0001"))
    assert "device_serial" in serial and "srq_reporter_name" in serial, serial
    number = plan_of(search.search_requests(requests, "SR0000001"))
    assert ("(number=?)" if connection.vendor == "sqlite" else "number") in number, number  # the unique index


def test_the_api_searches_like_the_pages(dispatcher, project_a):
    from ..conftest import api_as

    request = verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone",
                                 title="门禁读卡器失灵", description="-", reporter_name="王师傅",
                                 reporter_phone="138 0013 8000")
    api = api_as(dispatcher)
    for query in ("+86 138-0013-8000", request.number, "读卡器"):
        found = api.get("/api/requests/", {"q": query}).json()["results"]
        assert [row["id"] for row in found] == [request.pk], query
    assert api.get("/api/requests/", {"q": "x" * 500}).status_code == 400
