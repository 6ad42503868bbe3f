"""Issue 24 §1: a home per role. Each home shows its figures, scoped to the user; each figure's link opens exactly
the rows it counts; each home costs a fixed number of queries whatever the data size; months are Asia/Shanghai's."""

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.service import verbs
from aftersales.service.models import (
    AlertKind,
    ServiceRequest,
    SlaAlert,
    Target,
    Visit,
    WorkOrder,
    WorkOrderState,
)

from ..factories import DeviceFactory, StaffFactory, current_version

SH = ZoneInfo("Asia/Shanghai")


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def open_request(by, project, *, title="录像丢失", priority="general", devices=()):
    return verbs.open_request(by=by, project=project, priority=priority, channel="phone", title=title,
                              description="三号 NVR", devices=list(devices))


def figure_href(html: str, figure: str) -> str:
    """The link of the figure marked data-figure="<figure>" (a count on the page)."""
    match = re.search(r'<a[^>]*href="([^"]+)"[^>]*data-figure="' + re.escape(figure) + '"', html)
    assert match, f"no figure {figure}"
    return match[1].replace("&amp;", "&")


def figure_value(html: str, figure: str) -> str:
    match = re.search(r'data-figure="' + re.escape(figure) + r'"[^>]*>([^<]*)<', html)
    assert match, f"no figure {figure}"
    return match[1].strip()


def numbers_on(client, url) -> set[str]:
    """The request numbers a list page shows."""
    response = client.get(url)
    assert response.status_code == 200, url
    return set(re.findall(r"SR\d{7}", response.content.decode())) & ALL_NUMBERS


ALL_NUMBERS: set[str] = set()


def remember(*requests):
    ALL_NUMBERS.update(r.number for r in requests)
    return requests


# --- desk ------------------------------------------------------------------------------------------------------


def set_target(request, kind="reply", *, due, warn=None):
    Target.objects.filter(request=request, kind=kind).update(due_at=due, warn_at=warn)
    ServiceRequest.objects.filter(pk=request.pk).update(next_due_at=due)


@pytest.fixture
def desk_requests(frozen_clock, dispatcher, engineer, project_a, project_b):
    """At 2026-11-26 10:00 Shanghai: one overdue, one past its warning time, one fine and assigned, one paused,
    and customer B's (another branch's) overdue one that the branch's desk does not see."""
    now = shanghai(2026, 11, 26, 10)
    overdue, soon, fine, paused = (open_request(dispatcher, project_a, title=t) for t in ("逾期", "将到期", "正常", "暂停"))
    other = open_request(dispatcher, project_b, title="别的分公司")
    set_target(overdue, due=now - timedelta(minutes=5), warn=now - timedelta(minutes=60))
    set_target(soon, due=now + timedelta(minutes=30), warn=now - timedelta(minutes=1))
    set_target(fine, due=now + timedelta(hours=3), warn=now + timedelta(hours=2))
    set_target(other, due=now - timedelta(hours=1))
    ServiceRequest.objects.filter(pk=paused.pk).update(paused=True, next_due_at=None)
    ServiceRequest.objects.filter(pk=fine.pk).update(assignee=engineer)
    remember(overdue, soon, fine, paused, other)
    return {"overdue": overdue, "soon": soon, "ok": fine, "paused": paused, "other": other}


def test_the_desk_home_counts_the_queue_by_risk_and_each_count_opens_its_rows(client, dispatcher, desk_requests):
    client.force_login(dispatcher)
    html = client.get(reverse("home")).content.decode()
    assert figure_value(html, "open") == "4"  # customer B's request is another branch's
    assert figure_value(html, "overdue") == "1"
    assert figure_value(html, "unassigned") == "3"
    for risk in ("overdue", "soon", "ok", "paused"):
        assert figure_value(html, f"risk-{risk}") == "1"
        assert numbers_on(client, figure_href(html, f"risk-{risk}")) == {desk_requests[risk].number}
    assert numbers_on(client, figure_href(html, "overdue")) == {desk_requests["overdue"].number}
    assert numbers_on(client, figure_href(html, "unassigned")) == {
        desk_requests[key].number for key in ("overdue", "soon", "paused")}
    chart = json.loads(re.search(r'id="desk-risk-chart"[^>]*>(.*?)</script>', html, re.DOTALL)[1])
    assert [(point["key"], point["value"]) for point in chart["series"][0]["data"]] == [
        ("overdue", 1), ("soon", 1), ("ok", 1), ("paused", 1)]
    assert chart["series"][0]["data"][0]["url"] == figure_href(html, "risk-overdue")
    assert "echarts.min.js" in html and "home-charts.js" in html and "<script>" not in html  # no inline code (CSP)


@pytest.mark.parametrize("n", [2, 12])
def test_the_desk_home_costs_the_same_for_few_or_many_requests(n, client, dispatcher, project_a, frozen_clock,
                                                              django_assert_max_num_queries):
    for _ in range(n):
        open_request(dispatcher, project_a)
    client.force_login(dispatcher)
    with django_assert_max_num_queries(8):  # session, user, permissions ×2, notifications, the one aggregate …
        assert client.get(reverse("home")).status_code == 200


# --- managers --------------------------------------------------------------------------------------------------


def met_reply(request, *, minutes, due_minutes=120):
    target = Target.objects.get(request=request, kind="reply")
    target.due_at = target.started_at + timedelta(minutes=due_minutes)
    target.met_at = target.started_at + timedelta(minutes=minutes)
    target.breached_at = target.due_at if minutes > due_minutes else None
    target.save()


@pytest.fixture
def month_data(frozen_clock, dispatcher, engineer, project_a, project_b, device_a):
    """November 2026 (Shanghai) in branch A: two requests whose reply was met (one late), one escalated, a rated
    work order, a visit of 90 minutes; October: one met reply. A device of project A named on three requests in
    the 90 days. Branch B (customer B's project): one late reply and its escalation in November."""
    frozen_clock.move_to(shanghai(2026, 10, 31, 23, 30))  # October, in Shanghai (15:30 UTC)
    october = open_request(dispatcher, project_a, title="十月", devices=[device_a])
    met_reply(october, minutes=10)
    frozen_clock.move_to(shanghai(2026, 11, 1, 0, 0))  # November, in Shanghai (16:00 UTC on 31 October)
    fast = open_request(dispatcher, project_a, title="及时", devices=[device_a])
    met_reply(fast, minutes=30)
    frozen_clock.move_to(shanghai(2026, 11, 3, 9))
    late = open_request(dispatcher, project_a, title="迟到", devices=[device_a])
    met_reply(late, minutes=200)
    SlaAlert.objects.create(request=late, target="reply", kind=AlertKind.ESCALATION, level=2,
                            fired_at=shanghai(2026, 11, 3, 11, 30))
    other = open_request(dispatcher, project_b, title="别的分公司")
    met_reply(other, minutes=300)
    SlaAlert.objects.create(request=other, target="reply", kind=AlertKind.ESCALATION, level=1,
                            fired_at=shanghai(2026, 11, 3, 14))
    ServiceRequest.objects.filter(pk__in=[fast.pk, late.pk]).update(assignee=engineer)
    WorkOrder.objects.create(request=fast, engineer=engineer, actions="重启", minutes_spent=20, result="solved",
                             state=WorkOrderState.CONFIRMED, confirmed_at=shanghai(2026, 11, 5, 10), satisfaction=4)
    Visit.objects.create(request=fast, engineer=engineer, arrived_at=shanghai(2026, 11, 4, 9),
                         left_at=shanghai(2026, 11, 4, 10, 30))
    frozen_clock.move_to(shanghai(2026, 11, 26, 10))
    remember(october, fast, late, other)
    return {"october": october, "fast": fast, "late": late, "other": other}


def test_the_department_managers_month_is_their_branchs(client, manager, month_data, engineer, device_a):
    client.force_login(manager)
    html = client.get(reverse("home")).content.decode()
    # reply · general, this month: 2 met? no: fast met, late missed → 50 %; last month: october met → 100 %
    assert figure_value(html, "sla-met-reply-general") == "1"
    assert figure_value(html, "sla-missed-reply-general") == "1"
    assert figure_value(html, "sla-reply-general") == "50.0%"
    assert figure_value(html, "escalations") == "1"  # branch B's escalation is not theirs
    assert "迟到" in html and "别的分公司" not in html
    assert figure_value(html, f"open-{engineer.pk}") == "2"
    assert figure_value(html, f"site-{engineer.pk}") == "1.5"  # 90 minutes on site
    assert figure_value(html, "satisfaction-2026-11") == "1"
    assert figure_value(html, f"repeat-device-{device_a.pk}").startswith(device_a.name)
    chart = json.loads(re.search(r'id="compliance-chart"[^>]*>(.*?)</script>', html, re.DOTALL)[1])
    assert chart["series"][1]["data"][0]["value"] == 50.0 and chart["series"][0]["data"][0]["value"] == 100.0


def test_the_general_manager_sees_every_branch(client, general_manager, month_data):
    client.force_login(general_manager)
    html = client.get(reverse("home")).content.decode()
    assert figure_value(html, "escalations") == "2"
    assert figure_value(html, "sla-missed-reply-general") == "2"


def test_the_repeat_fault_links_open_exactly_the_requests_counted(client, manager, month_data, device_a):
    client.force_login(manager)
    html = client.get(reverse("home")).content.decode()
    assert numbers_on(client, figure_href(html, f"repeat-device-{device_a.pk}")) == {
        month_data[key].number for key in ("october", "fast", "late")}
    project = device_a.project
    assert numbers_on(client, figure_href(html, f"repeat-project-{project.pk}")) == {
        month_data[key].number for key in ("october", "fast", "late")}


def test_the_workload_links_open_exactly_the_rows_counted(client, manager, month_data, engineer):
    """Open assignments: the engineer's open requests; hours on site: the visits summed (each names its request)."""
    client.force_login(manager)
    html = client.get(reverse("home")).content.decode()
    assert numbers_on(client, figure_href(html, f"open-{engineer.pk}")) == {
        month_data[key].number for key in ("fast", "late")}
    assert numbers_on(client, figure_href(html, f"site-{engineer.pk}")) == {month_data["fast"].number}


def test_the_manager_figures_link_to_their_rows(client, manager, month_data, frozen_clock):
    client.force_login(manager)
    html = client.get(reverse("home")).content.decode()
    assert numbers_on(client, figure_href(html, "sla-missed-reply-general")) == {month_data["late"].number}
    assert numbers_on(client, figure_href(html, "escalations")) == {month_data["late"].number}
    assert numbers_on(client, figure_href(html, "sla-reply-general")) == {
        month_data["fast"].number, month_data["late"].number}
    assert numbers_on(client, figure_href(html, "sla-last-reply-general")) == {month_data["october"].number}
    frozen_clock.move_to(shanghai(2026, 12, 2, 10))  # in December, November's page still links November's rows
    html = client.get(reverse("home") + "?month=2026-11").content.decode()
    assert numbers_on(client, figure_href(html, "sla-missed-reply-general")) == {month_data["late"].number}
    assert numbers_on(client, figure_href(html, "escalations")) == {month_data["late"].number}


def test_the_month_switcher_shows_october_and_its_requests_opened_at_23_30(client, manager, month_data):
    client.force_login(manager)
    html = client.get(reverse("home") + "?month=2026-10").content.decode()
    assert figure_value(html, "sla-met-reply-general") == "1"
    assert figure_value(html, "sla-missed-reply-general") == "0"
    assert 'rel="next"' in html  # November has begun
    assert 'rel="next"' not in client.get(reverse("home")).content.decode()  # December has not


@pytest.mark.parametrize("month", ["2026-13", "11-2026", "2026-1", "x"])
def test_a_month_that_is_not_yyyy_mm_is_a_400(client, manager, month):
    client.force_login(manager)
    assert client.get(reverse("home"), {"month": month}).status_code == 400


@pytest.mark.parametrize("n", [1, 6])
def test_the_managers_month_costs_the_same_for_few_or_many_requests(n, client, manager, engineer, project_a,
                                                                   frozen_clock, django_assert_max_num_queries):
    for i in range(n):
        device = DeviceFactory(project=project_a)
        for _ in range(3):
            request = open_request(manager, project_a, devices=[device])
            ServiceRequest.objects.filter(pk=request.pk).update(assignee=StaffFactory(
                branch=manager.branch, position=Position.ENGINEER, role=roles.ENGINEER) if i % 2 else engineer)
            SlaAlert.objects.create(request=request, target="reply", kind=AlertKind.ESCALATION, level=1,
                                    fired_at=shanghai(2026, 11, 20))
            Visit.objects.create(request=request, engineer=engineer, arrived_at=shanghai(2026, 11, 4, 9),
                                 left_at=shanghai(2026, 11, 4, 10))
    client.force_login(manager)
    # session, user, permissions ×2, notifications; this month's compliance (3), last month's (1), escalations (3),
    # workload (3), satisfaction (1), repeat faults (2), warranties and contracts (2), inspections (1)
    with django_assert_max_num_queries(21):
        assert client.get(reverse("home")).status_code == 200


# --- customers -------------------------------------------------------------------------------------------------


def test_the_customer_home_shows_their_own_requests_and_what_awaits_them(client, frozen_clock, customer_user_a,
                                                                         dispatcher, engineer, project_a, project_b):
    mine = open_request(customer_user_a, project_a, title="我的报修")
    theirs = open_request(dispatcher, project_b, title="别人的报修")
    remember(mine, theirs)
    verbs.reply(request=mine, by=dispatcher, version=current_version(mine), mode="remote", plan="远程")
    verbs.submit_work_order(request=mine, by=engineer, version=current_version(mine), actions="重启",
                            minutes_spent=5, result="solved")
    client.force_login(customer_user_a)
    html = client.get(reverse("home")).content.decode()
    assert "我的报修" in html and "别人的报修" not in html
    assert mine.number in html.split('id="awaiting-confirmation"')[1]
    assert figure_value(html, "open") == "1"
    assert figure_value(html, "opened") == "1"
    assert numbers_on(client, figure_href(html, "opened")) == {mine.number}
    assert numbers_on(client, figure_href(html, "open")) == {mine.number}
    assert int(figure_value(html, "met")) >= 1  # the reply at least, in time
    assert numbers_on(client, figure_href(html, "met")) == {mine.number}
    assert numbers_on(client, figure_href(html, "missed")) == set()
    assert "echarts" not in html  # no chart here: the script is not loaded


def test_the_customers_month_ends_at_shanghai_midnight(client, frozen_clock, customer_user_a, project_a):
    frozen_clock.move_to(shanghai(2026, 10, 31, 23, 59))
    october = open_request(customer_user_a, project_a, title="十月底")
    frozen_clock.move_to(shanghai(2026, 11, 1, 0, 0))
    november = open_request(customer_user_a, project_a, title="十一月初")
    remember(october, november)
    frozen_clock.move_to(shanghai(2026, 11, 26, 10))
    client.force_login(customer_user_a)
    html = client.get(reverse("home") + "?month=2026-10").content.decode()
    assert figure_value(html, "opened") == "1"
    assert numbers_on(client, figure_href(html, "opened")) == {october.number}
    html = client.get(reverse("home")).content.decode()
    assert numbers_on(client, figure_href(html, "opened")) == {november.number}


@pytest.mark.parametrize("n", [1, 8])
def test_the_customer_home_costs_the_same_for_few_or_many_requests(n, client, frozen_clock, customer_user_a,
                                                                   project_a, django_assert_max_num_queries):
    for _ in range(n):
        open_request(customer_user_a, project_a)
    client.force_login(customer_user_a)
    # session, user, permissions ×2, notifications; the month (1), open requests (1), awaiting (2), compliance (3),
    # hidden-danger reports and proposals awaiting an answer (2)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("home")).status_code == 200


def test_the_customer_home_lists_what_awaits_their_written_answer(client, customer_user_a, project_a, project_b,
                                                                 dispatcher):
    """Issue 25 §4-§5: a hidden-danger report to confirm and a proposal to choose from; drafts and another
    customer's are not there."""
    from aftersales.proposals import services as proposals

    def hazard(project, title, send=True):
        report = proposals.create_hazard_report(by=dispatcher, project=project, title=title, risk="high",
                                                description="UPS 续航不足")
        return proposals.send_hazard_report(report=report, by=dispatcher, version=report.version) if send else report

    def plan(project, title):
        proposal = proposals.create_proposal(by=dispatcher, project=project, kind="solution", title=title)
        proposals.add_option(proposal=proposal, by=dispatcher, version=proposal.version, title="原厂电池")
        return proposals.send_proposal(proposal=proposal, by=dispatcher, version=proposal.version + 1)

    mine, draft, theirs = hazard(project_a, "UPS老化"), hazard(project_a, "机房漏水", send=False), hazard(project_b, "防雷失效")
    chosen_from = plan(project_a, "更换电池")
    client.force_login(customer_user_a)
    html = client.get(reverse("home")).content.decode()
    assert mine.get_absolute_url() in html and chosen_from.get_absolute_url() in html
    assert draft.title not in html and theirs.title not in html


# --- the others ------------------------------------------------------------------------------------------------


def test_administrators_keep_the_overview_with_the_system_health(client, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("home")).content.decode()
    assert 'id="system-health"' in html


def test_engineers_get_the_overview_without_charts(client, engineer):
    client.force_login(engineer)
    response = client.get(reverse("home"))
    assert response.status_code == 200 and "echarts" not in response.content.decode()
