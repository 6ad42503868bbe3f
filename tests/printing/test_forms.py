"""RPT-2: every printable form as a PDF — its Chinese labels and its record's values come back out of the PDF's text,
it draws, its hash is stable for the same record and changes with the record, it stays small and fast, a signature
block is never split across pages, it is scoped like the record's page, and it costs a fixed number of queries."""

import time

import pytest
from django.urls import reverse

from aftersales.printing import pdf
from aftersales.service import verbs

from ..factories import DeviceFactory, StaffFactory, current_version
from .conftest import lines, open_and_work
from .pdftools import page_count, png_pages, text_of, text_of_page

pytestmark = pytest.mark.django_db


def fetch(client, user, url, **params):
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"] == "application/pdf"
    return response


def flat(content: bytes) -> str:
    """The PDF's text without the layout's spaces and line breaks (Chinese has no spaces to lose)."""
    return "".join(text_of(content).split())


def page_texts(content: bytes) -> list[str]:
    return ["".join(text_of_page(content, n).split()) for n in range(1, page_count(content) + 1)]


# ------------------------------------------------------------------------------------------------ each form's text

def test_the_signed_work_order_shows_the_request_the_work_and_the_signature(client, customer_user_a,
                                                                             signed_work_order, tmp_path):
    response = fetch(client, customer_user_a, reverse("printing:work_order", args=[signed_work_order.pk]))
    text = flat(response.content)
    for expected in ("售后服务报告单", "客户", "银川市公安局", "项目名称", "银川天网工程", "项目合同号",
                     signed_work_order.request.number, "3号摄像机无图像", "处理过程", "更换电源适配器", "王建国",
                     "满意度", "处理及时", "客户签字", "签字人:张三", "服务工程师", "内容哈希"):
        assert expected.replace(" ", "") in text, expected
    assert response["Content-Disposition"].startswith("inline; filename*=UTF-8''")
    assert response["ETag"].strip('"') in text  # the hash printed on the form is the ETag
    pages = png_pages(response.content, tmp_path)
    assert len(pages) == 1 and pages[0].stat().st_size > 10_000  # drawn, with the signature picture


def test_an_unsigned_work_order_leaves_lines_to_sign_by_hand(client, customer_user_a, work_order):
    text = flat(fetch(client, customer_user_a, reverse("printing:work_order", args=[work_order.pk])).content)
    assert "客户签字" in text and "签字:" in text and "日期:" in text and "签字人" not in text  # lines to fill in


def test_the_incident_report_states_cause_impact_fix_and_prevention(client, customer_user_a, incident_report):
    text = flat(fetch(client, customer_user_a, reverse("printing:incident_report", args=[incident_report.pk])).content)
    for expected in ("事故报告", "原因", "电源适配器老化损坏", "影响", "事件经过", "处理措施", "预防措施",
                     "巡检时检查电源温度", "客户签字"):
        assert expected in text, expected


def test_a_draft_incident_report_is_not_the_customers_to_print(client, customer_user_a, admin_user, work_order):
    report = verbs.save_incident_report(request=work_order.request, by=admin_user, version=None, cause="电源",
                                        impact="中断", timeline="09:00", fix="更换", prevention="巡检")
    client.force_login(customer_user_a)
    assert client.get(reverse("printing:incident_report", args=[report.pk])).status_code == 404
    fetch(client, admin_user, reverse("printing:incident_report", args=[report.pk]))


def test_the_inspection_report_lists_results_findings_and_the_signature(client, customer_user_a, inspection_round):
    text = flat(fetch(client, customer_user_a, reverse("printing:inspection_report", args=[inspection_round.pk])).content)
    for expected in ("巡检报告", inspection_round.number, "月度巡检", "评价及改进建议", "系统运行良好",
                     "建议每季度清洁镜头", "各设备检查结果", "图像清晰", "合格", "镜头清洁", "不合格", "镜头有污渍",
                     "签字人:李四"):
        assert expected in text, expected


def test_the_survey_is_the_seeds_form_in_its_order(client, customer_user_a, survey):
    text = flat(fetch(client, customer_user_a, reverse("printing:survey", args=[survey.pk])).content)
    labels = ["项目名称", "项目合同号", "调查时间", "设备使用情况", "系统运行情况", "系统稳定性情况", "是否有异常",
              "异常描述", "服务响应满意度", "备注"]
    positions = [text.index(label) for label in labels]
    assert positions == sorted(positions)
    for expected in ("售后系统运行调查表", survey.project_name, "系统运行平稳", "■是", "□否", "夜间偶有花屏", "■满意"):
        assert expected in text, expected
    assert "年" in text and "时" in text and "分" in text  # 20 年 月 日 时 分, as on the paper


def test_the_training_feedback_carries_attendees_and_the_signed_feedback(client, customer_user_a, training_session):
    text = flat(fetch(client, customer_user_a, reverse("printing:training_feedback", args=[training_session.pk])).content)
    for expected in ("培训反馈", "视频监控平台使用培训", "参训人员", "李强", "赵敏", "评价", "讲解清楚", "意见和建议",
                     "希望增加实操时间", "签字人:李强", "海康王工"):
        assert expected in text, expected


def test_the_staff_roster_is_the_seeds_table(client, customer_user_a, project_a, roster_staff):
    text = flat(fetch(client, customer_user_a, reverse("printing:staff_roster", args=[project_a.pk])).content)
    assert "售后服务人员" in text and "岗位姓名专业联系电话" in text
    for expected in ("工程师刘德明系统集成13900000000", "后勤保障陈晓机电13900000001", "工程师周强计算机13900000002"):
        assert expected in text, expected
    assert text.index("周强") < text.index("陈晓")  # engineers first, as in the seed


def test_the_label_sheet_prints_a_qr_code_per_device(client, dispatcher, project_a, device_a, tmp_path):
    DeviceFactory(project=project_a, name="2 号杆摄像机", location="东门")
    response = fetch(client, dispatcher, reverse("printing:label_sheet", args=[project_a.pk]))
    text = flat(response.content)
    assert text.count("扫码报修") == 2 and "2号杆摄像机" in text and device_a.serial_number in text
    assert len(png_pages(response.content, tmp_path)) == 1


def test_the_charge_sheet_shows_our_cost_to_staff_only(client, customer_user_a, our_engineer, project_a,
                                                       stock, manager):
    work_order = open_and_work(project_a, customer_user_a, our_engineer, part_lines=lines(stock, 2))
    url = reverse("printing:work_order_charges", args=[work_order.pk])
    customer_text = flat(fetch(client, customer_user_a, url).content)
    assert "费用单" in customer_text and "您应付（元）" in customer_text and "电源适配器12V型号0" in customer_text
    assert "我方成本" not in customer_text
    staff_text = flat(fetch(client, manager, url).content)
    assert "我方成本（元）" in staff_text and "内部联" in staff_text
    copy_text = flat(fetch(client, manager, url, copy="customer").content)
    assert "我方成本" not in copy_text
    work_order_text = flat(fetch(client, manager, reverse("printing:work_order", args=[work_order.pk])).content)
    assert "我方成本" not in work_order_text  # the work order is the customer's paper, whoever prints it


# ------------------------------------------------------------------------------------------------ hash, size, speed

def test_the_hash_is_stable_and_follows_the_record(client, customer_user_a, work_order):
    url = reverse("printing:work_order", args=[work_order.pk])
    first, again = fetch(client, customer_user_a, url), fetch(client, customer_user_a, url)
    assert first["ETag"] == again["ETag"]
    work_order.request.project.name = "银川天网工程二期"
    work_order.request.project.save(update_fields=["name"])
    assert fetch(client, customer_user_a, url)["ETag"] != first["ETag"]


def test_a_browser_that_has_the_form_gets_a_304(client, customer_user_a, work_order):
    url = reverse("printing:work_order", args=[work_order.pk])
    etag = fetch(client, customer_user_a, url)["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("name", ["work_order", "survey", "staff_roster"])
def test_a_one_page_form_is_small_and_fast(name, client, admin_user, signed_work_order, survey, project_a,
                                          roster_staff):
    pk = {"work_order": signed_work_order.pk, "survey": survey.pk, "staff_roster": project_a.pk}[name]
    url = reverse(f"printing:{name}", args=[pk])
    fetch(client, admin_user, url)  # the first form of a process loads the fonts
    started = time.perf_counter()
    response = fetch(client, admin_user, url)
    assert time.perf_counter() - started < 2
    assert page_count(response.content) == 1 and len(response.content) < 300_000


# ------------------------------------------------------------------------------------------------ the signature block

@pytest.mark.parametrize("paragraphs", [18, 27, 30, 33, 42])
def test_a_long_work_order_keeps_its_signature_block_on_one_page(paragraphs, client, customer_user_a, our_engineer,
                                                                 project_a, stock, signature):
    from django.core.files.base import ContentFile

    actions = "\n".join(f"{n}. 检查 {n} 号摄像机的电源、网络与录像，清洁镜头并重新对焦，记录结果。" for n in range(paragraphs))
    work_order = open_and_work(project_a, customer_user_a, our_engineer, actions=actions, part_lines=lines(stock, 20))
    verbs.confirm_work_order(work_order=work_order, by=customer_user_a, version=current_version(work_order),
                             via="signature", signer_name="张三", signature=ContentFile(signature, name="s.png"))
    content = fetch(client, customer_user_a, reverse("printing:work_order", args=[work_order.pk])).content
    texts = page_texts(content)
    assert len(texts) >= 2
    block = ["客户签字", "签字人:张三", "确认方式", "服务工程师"]
    holding = [n for n, text in enumerate(texts) if any(part in text for part in block)]
    assert len(holding) == 1, holding  # the whole block on one page
    assert all(part in texts[holding[0]] for part in block)
    if paragraphs == 30:  # the block would start at the foot of page 2: it moves to page 3 whole, leading the page
        assert (len(texts), holding[0]) == (3, 2) and texts[2].startswith("客户签字")


# ------------------------------------------------------------------------------------------------ scope

FORMS = ["work_order", "work_order_charges", "incident_report", "inspection_report", "survey", "training_feedback",
         "staff_roster", "label_sheet"]


def records(name, request):
    fixture = {"work_order": "work_order", "work_order_charges": "work_order", "incident_report": "incident_report",
               "inspection_report": "inspection_round", "survey": "survey", "training_feedback": "training_session",
               "staff_roster": "project_a", "label_sheet": "project_a"}[name]
    return request.getfixturevalue(fixture)


@pytest.mark.parametrize("name", FORMS)
def test_another_customers_form_is_a_404_like_a_missing_one(name, client, customer_user_b, request):
    record = records(name, request)
    client.force_login(customer_user_b)
    assert client.get(reverse(f"printing:{name}", args=[record.pk])).status_code == 404
    assert client.get(reverse(f"printing:{name}", args=[10 ** 6])).status_code == 404


def test_a_form_without_the_engine_is_a_503_not_a_500(client, customer_user_a, work_order, monkeypatch):
    def broken(*args, **kwargs):
        raise pdf.RendererUnavailable("libpango-1.0-0 missing")

    monkeypatch.setattr(pdf, "render", broken)
    client.force_login(customer_user_a)
    response = client.get(reverse("printing:work_order", args=[work_order.pk]))
    assert response.status_code == 503 and "PDF" in response.content.decode()


# ------------------------------------------------------------------------------------------------ queries

@pytest.mark.parametrize("count", [1, 12])
def test_a_work_order_costs_the_same_queries_for_1_or_12_part_lines(count, client, customer_user_a, our_engineer,
                                                                    project_a, stock,
                                                                    django_assert_max_num_queries):
    work_order = open_and_work(project_a, customer_user_a, our_engineer, part_lines=lines(stock, count))
    client.force_login(customer_user_a)
    with django_assert_max_num_queries(9):  # session, user, perms ×2, work order (joined), devices, visits, lines, …
        assert client.get(reverse("printing:work_order", args=[work_order.pk])).status_code == 200


@pytest.mark.parametrize("count", [1, 15])
def test_a_label_sheet_and_a_roster_cost_the_same_queries_whatever_their_size(count, client, manager, project_a,
                                                                             branch_a, django_assert_max_num_queries):
    for n in range(count):
        DeviceFactory(project=project_a, name=f"{n} 号杆摄像机")
        StaffFactory(username=f"member{n}", branch=branch_a, position="engineer", full_name=f"工程师{n}")
    client.force_login(manager)
    for name in ("label_sheet", "staff_roster"):
        with django_assert_max_num_queries(7):  # session, user, perms ×2, project (joined), devices or staff
            assert client.get(reverse(f"printing:{name}", args=[project_a.pk])).status_code == 200


@pytest.mark.parametrize("name", FORMS)
def test_each_form_costs_a_fixed_handful_of_queries(name, client, admin_user, request,
                                                    django_assert_max_num_queries):
    record = records(name, request)
    client.force_login(admin_user)
    with django_assert_max_num_queries(16):
        assert client.get(reverse(f"printing:{name}", args=[record.pk])).status_code == 200
