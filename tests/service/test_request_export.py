"""Issue 12 (RPT-1): the request list exported as CSV (streamed) and .xlsx, scoped and filtered like the list."""

import csv
import io
from datetime import datetime, timedelta

import openpyxl
import pytest
from django.conf import settings
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from aftersales.service import exporting, sweep, verbs
from aftersales.service.models import Channel, Priority, State

from ..factories import current_version

CSV_URL = reverse("service:request_export_csv")
XLSX_URL = reverse("service:request_export_xlsx")
CHINESE_HEADERS = ["编号", "提交时间", "客户", "项目", "优先级", "渠道", "状态", "标题", "报修人", "工程师",
                   "答复截止时间", "答复时间", "答复超时", "解决截止时间", "解决时间", "解决超时", "升级级别", "满意度", "临时处理恢复服务时间"]


def open_request(by, project, priority=Priority.GENERAL, title="NVR 录像丢失", channel=Channel.PHONE):
    return verbs.open_request(by=by, project=project, priority=priority, channel=channel, title=title,
                              description="3 号 NVR 昨晚录像缺失")


def export(client, query=None, url=CSV_URL):
    response = client.get(url, query or {})
    assert response.status_code == 200, response.content[:500]
    return response


def rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def numbers(response) -> set[str]:
    return {row[0] for row in rows(response)[1:]}


@pytest.fixture
def history(frozen_clock, dispatcher, engineer, customer_user_a, general_manager, project_a, project_b):
    """In customer A: a serious request whose reply was missed (escalated), then a general one replied, resolved
    and confirmed in time with satisfaction 4. In customer B: one request."""
    late = open_request(dispatcher, project_a, Priority.SERIOUS, title="=HYPERLINK(\"http://x\") 监控黑屏")
    frozen_clock.shift(timedelta(minutes=16))  # 10:16, the serious reply (15 min) is missed
    sweep.sweep()
    good = open_request(dispatcher, project_a)
    frozen_clock.shift(timedelta(minutes=30))  # 10:46
    verbs.reply(request=good, by=dispatcher, version=current_version(good), mode="remote", plan="远程登录 NVR 检查硬盘")
    frozen_clock.shift(timedelta(hours=3))  # 13:46
    work_order = verbs.submit_work_order(request=good, by=engineer, version=current_version(good), actions="更换硬盘",
                                         minutes_spent=90, result="solved")
    verbs.confirm_work_order(work_order=work_order, by=customer_user_a, version=current_version(work_order),
                             via="portal", satisfaction=4)
    other = open_request(general_manager, project_b, title="地铁站摄像机离线")
    return late, good, other


# ------------------------------------------------------------------------------------------ content


def test_csv_streams_the_visible_requests_with_a_bom_and_chinese_headers(client, dispatcher, history):
    late, good, other = history
    client.force_login(dispatcher)
    response = export(client)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    with translation.override("en"):  # the rows are read after the view returned, in whatever language is active then
        header, *lines = rows(response)
    assert header == CHINESE_HEADERS
    by_number = {line[0]: line for line in lines}
    assert set(by_number) == {late.number, good.number}  # the other branch's request is not visible
    assert by_number[good.number] == [
        good.number, "2026-11-26 10:16", "银川市公安局", "银川天网工程", "一般", "电话", "已关闭", "NVR 录像丢失",
        dispatcher.display_name, "", "2026-11-26 12:16", "2026-11-26 10:46", "否", "2026-11-26 18:16",
        "2026-11-26 13:46", "否", "0", "4", "",
    ]
    late_row = by_number[late.number]
    assert late_row[1] == "2026-11-26 10:00"  # local time, not UTC
    assert late_row[7].startswith("'=HYPERLINK")  # neutralised for spreadsheets
    assert late_row[10:13] == ["2026-11-26 10:15", "", "是"]  # reply missed
    assert late_row[15] == ""  # resolution still running: undecided
    assert late_row[16] == "1" and late_row[17] == ""
    assert [line[0] for line in lines] == [good.number, late.number]  # newest first, as the list


def test_headers_follow_the_chosen_language(client, dispatcher, history):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(dispatcher)
    header = rows(export(client))[0]
    assert header[:3] == ["Number", "Opened", "Customer"] and "Reply target missed" in header


def test_engineer_and_customer_see_the_assignee_and_their_own_rows(client, customer_user_a, dispatcher, engineer, history):
    late, good, other = history
    verbs.dispatch(request=late, by=dispatcher, version=current_version(late), engineer=engineer)
    client.force_login(customer_user_a)
    lines = rows(export(client))[1:]
    assert {line[0] for line in lines} == {late.number, good.number}
    assert next(line for line in lines if line[0] == late.number)[9] == engineer.display_name


def test_xlsx_has_the_same_columns_with_dates_as_dates_and_text_as_text(client, dispatcher, history):
    late, good, other = history
    client.force_login(dispatcher)
    response = export(client, url=XLSX_URL)
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[1]] == CHINESE_HEADERS
    assert sheet.max_row == 3
    good_row = [c for c in sheet[2]]
    assert good_row[0].value == good.number
    assert good_row[1].value == datetime(2026, 11, 26, 10, 16)  # local, tz-naive
    assert good_row[17].value == 4
    assert sheet.cell(row=3, column=8).data_type == "s"  # the formula-like title is text


def test_too_many_rows_for_one_sheet_sends_the_user_back_to_the_list_with_a_message(client, dispatcher, history,
                                                                                      monkeypatch):
    monkeypatch.setattr(exporting, "XLSX_MAX_ROWS", 0)
    client.force_login(dispatcher)
    response = client.get(XLSX_URL, {"priority": "general"}, follow=True)
    assert response.redirect_chain == [(f"{reverse('service:request_list')}?priority=general", 302)]
    assert "请求数量超出单个 Excel 工作表的容量" in response.content.decode()


# ------------------------------------------------------------------------------------------ filters and scope


def test_export_honours_the_list_filters(client, frozen_clock, dispatcher, project_a, history):
    late, good, other = history
    second_project = type(project_a).objects.create(customer=project_a.customer, branch=project_a.branch, name="第二期",
                                                     contract_number="HT-2")
    frozen_clock.shift(timedelta(days=2))  # 2026-11-28
    later = open_request(dispatcher, second_project, title="门禁离线")
    client.force_login(dispatcher)
    assert numbers(export(client, {"project": second_project.pk})) == {later.number}
    assert numbers(export(client, {"state": State.CLOSED})) == {good.number}
    assert numbers(export(client, {"priority": Priority.SERIOUS})) == {late.number}
    assert numbers(export(client, {"q": "门禁"})) == {later.number}
    assert numbers(export(client, {"created_from": "2026-11-27"})) == {later.number}
    assert numbers(export(client, {"created_to": "2026-11-26"})) == {late.number, good.number}
    assert numbers(export(client, {"created_from": "2026-11-26", "created_to": "2026-11-26", "priority": "general"})) == {good.number}
    lines = rows(export(client, {"sort": "created"}))[1:]
    assert [line[0] for line in lines] == [late.number, good.number, later.number]


def test_the_list_page_filters_by_the_same_days(client, frozen_clock, dispatcher, history):
    late, good, other = history
    client.force_login(dispatcher)
    page = client.get(reverse("service:request_list"), {"created_from": "2026-11-27"}).content.decode()
    assert late.number not in page
    page = client.get(reverse("service:request_list"), {"created_from": "2026-11-26"}).content.decode()
    assert late.number in page


def test_customer_b_cannot_export_customer_a_requests_even_naming_customer_a(client, customer_user_b, project_a, history):
    late, good, other = history
    client.force_login(customer_user_b)
    # A customer's list has no customer filter: the value is ignored and B sees only B's own requests, as on the page.
    assert numbers(export(client, {"customer": project_a.customer_id})) == {other.number}
    page = client.get(reverse("service:request_list"), {"customer": project_a.customer_id}).content.decode()
    assert other.number in page and late.number not in page
    # A foreign project is not a valid choice: the list shows nothing, the export is a 400 that names the filter.
    response = client.get(CSV_URL, {"project": project_a.pk})
    assert response.status_code == 400 and late.number.encode() not in response.content
    assert late.number not in client.get(reverse("service:request_list"), {"project": project_a.pk}).content.decode()


def test_staff_naming_another_branch_customer_get_a_400_not_its_rows(client, dispatcher, project_b, history):
    late, good, other = history
    client.force_login(dispatcher)
    response = client.get(CSV_URL, {"customer": project_b.customer_id})
    assert response.status_code == 400 and other.number.encode() not in response.content
    assert other.number not in client.get(reverse("service:request_list"), {"customer": project_b.customer_id}).content.decode()


@pytest.mark.parametrize("query", [
    {"created_from": "garbage"}, {"created_from": "0001-01-01"}, {"created_to": "9999-12-31"}, {"state": "bogus"},
    {"customer": "x"}, {"project": "99999999999999999999"}, {"priority": "urgent"},
])
def test_bad_filter_values_are_a_400_not_a_500(client, dispatcher, query):
    client.force_login(dispatcher)
    assert client.get(CSV_URL, query).status_code == 400
    assert client.get(XLSX_URL, query).status_code == 400
    assert client.get(reverse("service:request_list"), query).status_code == 200


def test_anonymous_is_sent_to_login(client):
    for url in (CSV_URL, XLSX_URL):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_request_list_offers_the_export_with_its_current_filters(client, dispatcher, project_a):
    client.force_login(dispatcher)
    page = client.get(reverse("service:request_list"), {"project": project_a.pk, "sort": "created", "page": "1"}).content.decode()
    assert f'{CSV_URL}?project={project_a.pk}&amp;sort=created"' in page
    assert f'{XLSX_URL}?project={project_a.pk}&amp;sort=created"' in page


# ------------------------------------------------------------------------------------------ cost


def export_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        b"".join(export(client, {"customer": "", "state": ""}).streaming_content)
    return len(ctx.captured_queries)


def test_export_costs_the_same_queries_for_3_or_30_requests(client, frozen_clock, dispatcher, engineer, customer_user_a,
                                                           project_a, django_assert_max_num_queries):
    client.force_login(dispatcher)
    made = [open_request(dispatcher, project_a) for _ in range(3)]
    verbs.dispatch(request=made[0], by=dispatcher, version=current_version(made[0]), engineer=engineer)
    verbs.reply(request=made[1], by=dispatcher, version=current_version(made[1]), mode="remote", plan="远程")
    work_order = verbs.submit_work_order(request=made[1], by=engineer, version=current_version(made[1]), actions="重启",
                                         minutes_spent=5, result="solved")
    verbs.confirm_work_order(work_order=work_order, by=customer_user_a, version=current_version(work_order),
                             via="portal", satisfaction=5)
    export_queries(client)  # warm: permissions may be cached between requests
    small = export_queries(client)
    for _ in range(27):
        opened = open_request(dispatcher, project_a)
        verbs.dispatch(request=opened, by=dispatcher, version=current_version(opened), engineer=engineer)
    assert len(rows(export(client))) == 31
    assert export_queries(client) == small
    # user, the user's and their groups' permissions (when not cached), the export itself (targets joined, satisfaction
    # a subquery): no query per row
    with django_assert_max_num_queries(4):
        b"".join(export(client).streaming_content)
