"""Issue 25 §7: canned replies — placeholder expansion, branch filtering, the chooser on the request page, the
management pages and the API."""

import pytest
from django.urls import reverse

from aftersales.accounts import roles
from aftersales.core import clock
from aftersales.core.errors import DomainError, StaleObject
from aftersales.replies import services
from aftersales.replies.models import CannedReply
from aftersales.replies.placeholders import PLACEHOLDERS, render
from aftersales.service import verbs

from ..conftest import api_as
from ..factories import StaffFactory


@pytest.fixture
def request_a(frozen_clock, project_a, dispatcher):
    return verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone",
                              title="三号摄像机黑屏", description="无图像", reporter_name="马红梅",
                              reporter_phone="13900000001")


@pytest.fixture
def request_b(frozen_clock, project_b, branch_b):
    desk_b = StaffFactory(username="desk_b", branch=branch_b, role=roles.DISPATCHER)
    return verbs.open_request(by=desk_b, project=project_b, priority="general", channel="phone", title="录像丢失",
                              description="无录像")


def reply(branch, title, body="{单号} 已受理", active=True, by=None):
    return CannedReply.objects.create(branch=branch, title=title, body=body, active=active)


# ------------------------------------------------------------------------------------------------ render

def test_chinese_placeholders_and_their_english_aliases_are_filled_in(request_a):
    body = "您好{报修人},{单号}({客户}·{项目})已受理,回复时限 {回复时限};ref {number} {customer}"
    text = render(body, request_a)
    due = request_a.reply_due_at.astimezone(clock.SHANGHAI)
    assert text == (f"您好马红梅,{request_a.number}(银川市公安局·银川天网工程)已受理,回复时限 {due:%m-%d %H:%M};"
                    f"ref {request_a.number} 银川市公安局")


def test_unknown_and_empty_placeholders_stay_visible(request_a):
    assert render("{工程师} 将联系您 {不存在} {单号", request_a) == "{工程师} 将联系您 {不存在} {单号"  # no engineer yet
    assert render("{ 单号 }", request_a) == request_a.number


@pytest.mark.parametrize("body", ["", None, "{}", "{{单号}}", "{" * 50, "}{", "%(x)s {0} {单号!r}", "{单号}" * 200])
def test_render_never_raises(body, request_a):
    assert isinstance(render(body, request_a), str)
    assert isinstance(render(body, None), str)


def test_every_documented_placeholder_has_a_value_or_stays(request_a):
    for name, alias, _description in PLACEHOLDERS:
        for written in (f"{{{name}}}", f"{{{alias}}}"):
            assert render(written, request_a) in (written, render(f"{{{name}}}", request_a))


# ------------------------------------------------------------------------------------------------ branches

def test_the_request_page_offers_its_branchs_and_the_all_branch_replies(request_a, branch_a, branch_b, dispatcher,
                                                                       client):
    reply(branch_a, "宁夏专用", "{单号} 备件调拨中")
    reply(branch_b, "上海专用")
    reply(None, "通用受理", "{客户} 您好,{单号} 已受理")
    reply(None, "停用的", active=False)
    client.force_login(dispatcher)
    page = client.get(request_a.get_absolute_url()).content.decode()
    assert "宁夏专用" in page and "通用受理" in page and "上海专用" not in page and "停用的" not in page
    assert f'data-text="银川市公安局 您好,{request_a.number} 已受理"' in page  # pre-expanded for this request
    assert page.count('class="canned-reply-chooser') == 2  # the reply form and the comment form
    assert page.count("replies/chooser.js") == 2 and 'data-canned-target="plan"' in page
    assert 'data-canned-target="text"' in page


def test_a_customer_gets_no_chooser(request_a, customer_user_a, client):
    reply(None, "通用受理")
    client.force_login(customer_user_a)
    page = client.get(request_a.get_absolute_url()).content.decode()
    assert "canned-reply-chooser" not in page


def test_the_request_page_costs_the_same_with_or_without_replies(request_a, dispatcher, client, branch_a):
    client.force_login(dispatcher)
    client.get(request_a.get_absolute_url())
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as without:
        client.get(request_a.get_absolute_url())
    for i in range(5):
        reply(branch_a if i % 2 else None, f"回复{i}", "{单号} {客户} {项目} {工程师}")
    with CaptureQueriesContext(connection) as with_replies:
        client.get(request_a.get_absolute_url())
    assert len(with_replies) == len(without)  # one query per chooser whatever the number of replies


# ------------------------------------------------------------------------------------------------ management

def test_a_desk_writes_its_own_branchs_replies_only(frozen_clock, dispatcher, branch_a, branch_b, client):
    client.force_login(dispatcher)
    response = client.post(reverse("replies:create"), {"title": "已派工", "body": "{工程师} 已出发", "active": "on",
                                                       "branch": branch_b.pk})  # no branch field for a branch
    assert response.status_code == 302
    assert CannedReply.objects.get().branch == branch_a
    other = reply(branch_b, "上海专用")
    assert client.get(reverse("replies:edit", args=[other.pk])).status_code == 404
    every = reply(None, "通用")
    assert client.get(reverse("replies:edit", args=[every.pk])).status_code == 404  # the general manager's
    listing = client.get(reverse("replies:list")).content.decode()
    assert "通用" in listing and "上海专用" not in listing
    with pytest.raises(DomainError):
        services.create_reply(by=dispatcher, branch=None, title="通用2", body="x")


def test_the_general_manager_writes_all_branch_replies(frozen_clock, general_manager, client):
    client.force_login(general_manager)
    assert client.post(reverse("replies:create"), {"title": "通用", "body": "{单号}", "active": "on",
                                                   "branch": ""}).status_code == 302
    assert CannedReply.objects.get().branch is None


def test_an_engineer_uses_but_does_not_write_replies(frozen_clock, engineer, client):
    client.force_login(engineer)
    assert client.get(reverse("replies:list")).status_code == 200
    assert client.get(reverse("replies:create")).status_code == 403


def test_a_stale_edit_writes_nothing(frozen_clock, dispatcher, branch_a, client):
    row = services.create_reply(by=dispatcher, branch=branch_a, title="已受理", body="{单号}")
    services.change_reply(reply=row, by=dispatcher, version=1, branch=branch_a, title="已受理(新)", body="{单号}",
                          active=True)
    with pytest.raises(StaleObject):
        services.change_reply(reply=row, by=dispatcher, version=1, branch=branch_a, title="旧", body="x", active=True)
    client.force_login(dispatcher)
    page = client.post(reverse("replies:edit", args=[row.pk]), {"version": 1, "title": "旧", "body": "x"})
    assert page.status_code == 200 and CannedReply.objects.get().title == "已受理(新)"


def test_inserting_a_reply_counts_its_use(frozen_clock, dispatcher, branch_a, branch_b, client):
    own, other = reply(branch_a, "本分公司"), reply(branch_b, "外分公司")
    client.force_login(dispatcher)
    assert client.post(reverse("replies:used", args=[own.pk])).status_code == 204
    assert client.post(reverse("replies:used", args=[other.pk])).status_code == 404
    own.refresh_from_db()
    assert own.used_count == 1


# ------------------------------------------------------------------------------------------------ API

def test_the_api_expands_the_replies_offered_for_a_request(request_a, request_b, dispatcher, customer_user_a,
                                                          branch_a, branch_b):
    reply(branch_a, "宁夏", "{单号} 宁夏")
    reply(branch_b, "上海")
    api = api_as(dispatcher)
    rows = api.get(f"/api/canned-replies/?request={request_a.pk}").json()["results"]
    assert [(row["title"], row["text"]) for row in rows] == [("宁夏", f"{request_a.number} 宁夏")]
    assert api.get(f"/api/canned-replies/?request={request_b.pk}").status_code == 404
    assert api.get("/api/canned-replies/?request=abc").status_code == 400
    assert [row["text"] for row in api.get("/api/canned-replies/").json()["results"]] == [None]
    assert api_as(customer_user_a).get("/api/canned-replies/").status_code == 403


def test_the_arrival_deadline_is_filled_in_when_known(request_a, dispatcher, engineer):
    verbs.reply(request=request_a, by=dispatcher, version=request_a.version, mode="onsite", plan="上门")
    request_a.refresh_from_db()
    arrival = request_a.targets.get(kind="arrival").due_at
    assert arrival is not None  # an on-site plan starts the arrival clock
    due = f"{arrival.astimezone(clock.SHANGHAI):%m-%d %H:%M}"
    assert render("{到场时限} {arrival_due}", request_a) == f"{due} {due}"
