"""RPT-1: the reports' exports: CSV with a BOM (streamed, never truncated), XLSX (write-only), PDF; Chinese file names
in RFC 5987 `filename*`; the same fixed query budget at two data sizes."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aftersales.printing.pdf import renderer_available
from aftersales.reports.report_views import PAGE_SIZE
from aftersales.service import verbs

SH = ZoneInfo("Asia/Shanghai")


def open_requests(clock, project, by, n):
    for i in range(n):
        clock.move_to(datetime(2026, 3, 2, 8, tzinfo=SH) + timedelta(minutes=i))
        verbs.open_request(by=by, project=project, priority="general", channel="phone", title=f"故障{i}",
                           description="d")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def rows_url():
    return reverse("reports:rows", args=["sla_n"])


ROW_KEY = {"month": "2026-03", "target": "reply", "priority": "general"}


def test_csv_of_the_rows_has_a_bom_and_every_row_beyond_a_page(frozen_clock, client, dispatcher, manager, project_a):
    n = PAGE_SIZE + 7
    open_requests(frozen_clock, project_a, dispatcher, n)
    client.force_login(manager)
    response = client.get(rows_url(), {**ROW_KEY, "export": "csv"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename")
    content = body(response)
    assert content.startswith("\ufeff".encode())
    lines = content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + n  # header + every request, never truncated at the page size


def test_xlsx_of_the_rows_has_every_row(frozen_clock, client, dispatcher, manager, project_a):
    n = PAGE_SIZE + 2
    open_requests(frozen_clock, project_a, dispatcher, n)
    client.force_login(manager)
    response = client.get(rows_url(), {**ROW_KEY, "export": "xlsx"})
    assert response.status_code == 200 and response.streaming
    sheet = load_workbook(io.BytesIO(body(response))).active
    assert sheet.max_row == 1 + n


def test_report_csv_and_xlsx_carry_the_table(frozen_clock, client, dispatcher, manager, project_a):
    open_requests(frozen_clock, project_a, dispatcher, 3)
    client.force_login(manager)
    csv = body(client.get(reverse("reports:report_sla"), {"month": "2026-03", "export": "csv"})).decode("utf-8-sig")
    _header, *lines = csv.strip().splitlines()
    assert len(lines) == 4  # general × 4 target kinds
    assert lines[0].split(",")[2] == "3"  # the requests
    response = client.get(reverse("reports:report_sla"), {"month": "2026-03", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(body(response))).active
    assert [c.value for c in sheet[2]][2] == 3


def test_a_chinese_file_name_is_sent_as_rfc_5987(client, manager):
    from aftersales.reports import exports

    for response in (exports.csv_response("SLA达标率-2026-03", ["a"], [[1]]),
                     exports.xlsx_response("SLA达标率-2026-03", "表", ["a"], [[1]])):
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment") and "filename*=utf-8''SLA%E8%BE%BE" in disposition
    client.force_login(manager)
    response = client.get(reverse("reports:report_sla"), {"month": "2026-03", "export": "csv"})
    assert "2026-03.csv" in response["Content-Disposition"]


@pytest.mark.skipif(not renderer_available(), reason="WeasyPrint's system libraries are missing")
def test_the_pdf_export_is_a_pdf(frozen_clock, client, dispatcher, manager, project_a):
    open_requests(frozen_clock, project_a, dispatcher, 2)
    client.force_login(manager)
    response = client.get(reverse("reports:report_sla"), {"month": "2026-03", "export": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("attachment; filename")


def test_a_customer_exports_only_its_own_rows(frozen_clock, client, dispatcher, general_manager, customer_user_a,
                                              project_a, project_b):
    open_requests(frozen_clock, project_a, dispatcher, 1)
    open_requests(frozen_clock, project_b, general_manager, 2)
    client.force_login(customer_user_a)
    lines = body(client.get(rows_url(), {**ROW_KEY, "export": "csv"})).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2


@pytest.mark.parametrize("n", [2, 12])
def test_exports_cost_the_same_for_2_or_12_requests(n, frozen_clock, client, dispatcher, manager, project_a,
                                                    django_assert_max_num_queries):
    open_requests(frozen_clock, project_a, dispatcher, n)
    client.force_login(manager)
    client.get(reverse("reports:report_index"))
    for params, url in [({**ROW_KEY, "export": "csv"}, rows_url()), ({**ROW_KEY, "export": "xlsx"}, rows_url()),
                        ({"month": "2026-03", "export": "csv"}, reverse("reports:report_sla")),
                        ({"month": "2026-03", "export": "xlsx"}, reverse("reports:report_sla"))]:
        with django_assert_max_num_queries(13):
            response = client.get(url, params)
            body(response)


@pytest.mark.skipif(not renderer_available(), reason="WeasyPrint's system libraries are missing")
@pytest.mark.parametrize("n", [2, 12])
def test_the_pdf_costs_the_same_for_2_or_12_requests(n, frozen_clock, client, dispatcher, manager, project_a,
                                                     django_assert_max_num_queries):
    open_requests(frozen_clock, project_a, dispatcher, n)
    client.force_login(manager)
    client.get(reverse("reports:report_index"))
    with django_assert_max_num_queries(13):
        assert client.get(reverse("reports:report_sla"), {"month": "2026-03", "export": "pdf"}).status_code == 200
