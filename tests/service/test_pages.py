"""The pages of service requests (SRQ-1..10): desk queue, intake, request page, engineer's phone page,
customer portal and confirmation by signed link. Scoping (SEC-1), conflicts and query budgets."""

import base64
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.core.errors import StaleObject
from aftersales.service import verbs
from aftersales.service.confirmation import confirmation_token
from aftersales.service.models import (
    Attachment, Channel, EventKind, Priority, ServiceRequest, State, TimelineEvent, WorkOrder, WorkOrderState,
)

from ..factories import StaffFactory, UserFactory, current_version

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(client):
    """English msgids, so the assertions read the same before and after the Chinese catalogue exists."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def as_user(client, user):
    client.force_login(user)
    return client


def png(name="screen.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def open_request(by, project, priority=Priority.GENERAL, **kwargs):
    return verbs.open_request(by=by, project=project, priority=priority, channel=kwargs.pop("channel", Channel.PHONE),
                              title=kwargs.pop("title", "NVR 录像丢失"), description="3 号 NVR 昨晚录像缺失", **kwargs)


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def signature_data_url() -> str:
    return "data:image/png;base64," + base64.b64encode(PNG).decode()


@pytest.fixture
def dispatcher_b(branch_b):
    return StaffFactory(username="dispatcher_b", branch=branch_b, position=Position.DISPATCHER, role=roles.DISPATCHER)


@pytest.fixture
def request_a(frozen_clock, dispatcher, project_a, device_a):
    return open_request(dispatcher, project_a, devices=[device_a])


@pytest.fixture
def request_b(frozen_clock, general_manager, project_b):
    return open_request(general_manager, project_b, title="地铁站摄像机离线")


# ------------------------------------------------------------------------------------------ who sees which page

@pytest.mark.parametrize(("role", "url_name", "expected"), [
    ("dispatcher", "service:desk", 200),
    ("general_manager", "service:desk", 200),
    ("engineer", "service:desk", 403),
    ("customer_user_a", "service:desk", 403),
    ("dispatcher", "service:intake", 200),
    ("customer_user_a", "service:intake", 403),
    ("engineer", "service:my_work", 200),
    ("manager", "service:my_work", 200),
    ("dispatcher", "service:my_work", 403),
    ("customer_user_a", "service:my_work", 403),
    ("customer_user_a", "service:request_list", 200),
    ("engineer", "service:request_list", 200),
    ("customer_user_a", "service:submit", 200),
    ("customer_user_a", "service:project_search", 403),
    ("dispatcher", "service:project_search", 200),
    ("customer_user_a", "service:device_choices", 200),
])
def test_pages_answer_by_role(role, url_name, expected, client, request, request_a):
    as_user(client, request.getfixturevalue(role))
    assert client.get(reverse(url_name)).status_code == expected


def test_anonymous_is_sent_to_the_login_page(client, request_a):
    for url in (reverse("service:desk"), reverse("service:my_work"), request_a.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_request_page_for_the_desk_shows_timeline_targets_and_desk_actions(client, dispatcher, engineer, request_a):
    response = as_user(client, dispatcher).get(request_a.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert request_a.number in page and "NVR 录像丢失" in page
    assert 'id="timeline"' in page and 'data-kind="created"' in page
    assert "Reply with a service plan" in page and 'name="version"' in page
    for action in ("reply", "dispatch", "pause", "priority", "contingency", "advisor", "comment", "cancel"):
        assert f'id="action-{action}"' in page, action
    assert 'class="countdown' not in page or "data-due" in page
    assert 'class="small text-body-secondary mt-1 timeline-changes"' in page  # the audit trail is for staff


def test_dispatch_panel_shows_each_engineers_rank_reasons(client, dispatcher, engineer, request_a):
    page = as_user(client, dispatcher).get(request_a.get_absolute_url()).content.decode()
    assert engineer.display_name in page
    assert "open requests" in page and "km from the site" in page


def test_customer_sees_their_request_without_staff_forms(client, customer_user_a, request_a):
    page = as_user(client, customer_user_a).get(request_a.get_absolute_url()).content.decode()
    assert request_a.number in page
    assert 'id="action-comment"' in page
    for action in ("reply", "dispatch", "pause", "priority", "contingency", "advisor", "cancel", "depart", "sign"):
        assert f'id="action-{action}"' not in page, action
    assert "Change history" not in page and "Warn at" not in page


def test_another_customers_request_and_its_pages_are_404(client, customer_user_b, dispatcher_b, request_a):
    attachment = Attachment.objects.create(request=request_a, file=png(), original_name="a.png", content_type="image/png",
                                           size=len(PNG), uploaded_at=request_a.created_at)
    for user in (customer_user_b, dispatcher_b):
        as_user(client, user)
        assert client.get(request_a.get_absolute_url()).status_code == 404
        assert client.get(reverse("service:attachment", args=[attachment.pk])).status_code == 404
        assert client.get(reverse("service:comment", args=[request_a.pk])).status_code == 404
        assert client.post(reverse("service:comment", args=[request_a.pk]), {"text": "看看", "version": 1}).status_code == 404
    assert not TimelineEvent.objects.filter(kind=EventKind.COMMENT).exists()


def test_attachment_is_downloaded_only_through_the_scoped_view(client, customer_user_a, engineer, request_a):
    attachment = Attachment.objects.create(request=request_a, file=png(), original_name="现场.png",
                                           content_type="image/png", size=len(PNG), uploaded_at=request_a.created_at)
    for user in (customer_user_a, engineer):
        response = as_user(client, user).get(reverse("service:attachment", args=[attachment.pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG
        assert response["Content-Type"] == "image/png" and response["Content-Security-Policy"] == "sandbox"
    page = client.get(request_a.get_absolute_url()).content.decode()
    assert reverse("service:attachment", args=[attachment.pk]) in page
    assert attachment.file.name not in page  # never the stored path or a media URL


# ------------------------------------------------------------------------------------------ desk queue

def test_desk_queue_shows_the_most_urgent_first_with_countdowns(client, frozen_clock, dispatcher, project_a):
    general = open_request(dispatcher, project_a, title="一般问题")
    emergency = open_request(dispatcher, project_a, priority=Priority.EMERGENCY, title="全部黑屏")
    page = as_user(client, dispatcher).get(reverse("service:desk")).content.decode()
    assert page.index(emergency.number) < page.index(general.number)
    assert "10 min left" in page and "2 h left" in page
    assert "text-bg-danger" in page  # the emergency badge


def test_countdown_turns_amber_past_the_warning_and_red_past_due(client, frozen_clock, dispatcher, project_a):
    request_obj = open_request(dispatcher, project_a)  # general: reply within 2 h, warned at 80 %
    as_user(client, dispatcher)

    def row_risk():
        page = client.get(reverse("service:desk")).content.decode()
        start = page.index(f'data-request="{request_obj.pk}"')
        return page[page.rindex("<tr", 0, start):start]

    assert 'class="risk-ok"' in row_risk()
    frozen_clock.shift(timedelta(minutes=100))
    assert 'class="risk-warn"' in row_risk()
    frozen_clock.shift(timedelta(minutes=30))
    assert 'class="risk-late"' in row_risk()
    verbs.pause(request=request_obj, by=dispatcher, version=current_version(request_obj), reason="业主机房钥匙未到")
    assert 'class="risk-paused"' in row_risk()
    assert "paused" in client.get(reverse("service:desk")).content.decode()


def test_desk_queue_filters_are_scoped(client, frozen_clock, dispatcher, general_manager, project_a, project_b):
    open_request(dispatcher, project_a, title="宁夏的问题")
    open_request(general_manager, project_b, title="上海的问题")
    page = as_user(client, dispatcher).get(reverse("service:desk")).content.decode()
    assert "宁夏的问题" in page and "上海的问题" not in page
    assert project_b.customer.name not in page  # not even as a filter choice
    assert 'name="branch"' not in page  # the branch filter is for see-all users
    page = as_user(client, general_manager).get(reverse("service:desk")).content.decode()
    assert "宁夏的问题" in page and "上海的问题" in page and 'name="branch"' in page
    page = client.get(reverse("service:desk"), {"customer": project_b.customer_id}).content.decode()
    assert "上海的问题" in page and "宁夏的问题" not in page
    page = client.get(reverse("service:desk"), {"priority": "emergency"}).content.decode()
    assert "上海的问题" not in page


def test_desk_queue_costs_the_same_queries_for_3_and_30_requests(client, frozen_clock, dispatcher, engineer, project_a,
                                                                django_assert_max_num_queries):
    as_user(client, dispatcher)

    def queries_for(n):
        while ServiceRequest.objects.count() < n:
            created = open_request(dispatcher, project_a, priority=Priority.SERIOUS)
            if created.pk % 3 == 0:
                verbs.dispatch(request=created, by=dispatcher, version=current_version(created), engineer=engineer)
        client.get(reverse("service:desk"))  # the worker's caches (permissions) are warm in production
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("service:desk")).status_code == 200
        return len(captured)

    assert queries_for(3) == queries_for(30)
    with django_assert_max_num_queries(5):  # session, user, COUNT, the page's rows with their targets' times, the bell
        client.get(reverse("service:desk"), {"size": 100})


def test_desk_queue_rows_show_engineer_order_escalation_and_escape_what_users_typed(client, frozen_clock, dispatcher,
                                                                                    engineer, project_a):
    typed = open_request(dispatcher, project_a, title='<img src=x onerror="alert(1)">')
    verbs.dispatch(request=typed, by=dispatcher, version=current_version(typed), engineer=engineer)
    ServiceRequest.objects.filter(pk=typed.pk).update(customer_rank=3, escalation_level=2, due_provisional=True)
    plain = open_request(dispatcher, project_a)
    page = as_user(client, dispatcher).get(reverse("service:desk")).content.decode()
    row = page[page.index(f'data-request="{typed.pk}"'):page.index("</tr>", page.index(f'data-request="{typed.pk}"'))]
    assert '&lt;img src=x onerror=&#34;alert(1)&#34;&gt;' in row and "<img" not in row  # escaped by Jinja2 (MarkupSafe)
    assert f'href="{typed.get_absolute_url()}">{typed.number}</a>' in row
    assert engineer.display_name in row and ">#3</span>" in row and ">L2</span>" in row and ">provisional</span>" in row
    assert f"{project_a.customer.name}<br>" in row and project_a.name in row and "Dispatched" in row
    row = page[page.index(f'data-request="{plain.pk}"'):page.index("</tr>", page.index(f'data-request="{plain.pk}"'))]
    assert '<td class="small">—</td><td><span class="text-muted">—</span></td>' in row  # no engineer, no escalation
    assert 'data-warn="' in row  # the countdown turns amber in the browser at the reply target's warning time


def test_desk_queue_pages_keep_the_order_asked_for(client, frozen_clock, dispatcher, project_a):
    created = []
    for _ in range(5):
        created.append(open_request(dispatcher, project_a))
        frozen_clock.shift(timedelta(minutes=1))
    as_user(client, dispatcher)
    for sort, expected in (("-created", created[::-1][2:4]), ("created", created[2:4])):
        page = client.get(reverse("service:desk"), {"sort": sort, "size": 2, "page": 2}).content.decode()
        shown = [r.pk for r in created if f'data-request="{r.pk}"' in page]
        assert sorted(shown, key=lambda pk: page.index(f'data-request="{pk}"')) == [r.pk for r in expected]


def test_desk_queue_pagination_is_bounded(client, frozen_clock, dispatcher, project_a):
    for _ in range(3):
        open_request(dispatcher, project_a)
    page = as_user(client, dispatcher).get(reverse("service:desk"), {"size": 100000}).context["page_obj"]
    assert page.paginator.per_page == 100


def test_htmx_refresh_returns_the_table_alone(client, dispatcher, request_a):
    response = as_user(client, dispatcher).get(reverse("service:desk"), **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="queue"') and "<html" not in page


# ------------------------------------------------------------------------------------------ intake

def test_project_search_finds_by_contract_number_and_phone_within_scope(client, dispatcher, project_a, project_b):
    project_a.customer.phone = "0951-6012345"
    project_a.customer.save()
    contact = UserFactory(customer=project_a.customer, phone="13995112233")
    as_user(client, dispatcher)
    search = reverse("service:project_search")
    assert project_a.name in client.get(search, {"q": project_a.contract_number}).content.decode()
    assert project_a.name in client.get(search, {"q": "6012345"}).content.decode()
    assert project_a.name in client.get(search, {"q": contact.phone[-6:]}).content.decode()
    assert project_a.name in client.get(search, {"q": "银川"}).content.decode()
    found = client.get(search, {"q": project_b.contract_number}).content.decode()
    assert project_b.name not in found and "No project matches." in found


def test_device_choices_list_only_the_chosen_visible_project(client, customer_user_a, project_a, project_b, device_a, device_b):
    as_user(client, customer_user_a)
    own = client.get(reverse("service:device_choices"), {"project": project_a.pk}).content.decode()
    assert device_a.serial_number in own and device_b.serial_number not in own
    foreign = client.get(reverse("service:device_choices"), {"project": project_b.pk}).content.decode()
    assert device_b.serial_number not in foreign and "Choose the project first" in foreign


def intake_data(project, **extra):
    return {"project": project.pk, "priority": Priority.SERIOUS, "channel": Channel.PHONE, "reporter_name": "王工",
            "reporter_phone": "13900000000", "title": "监控中心全部黑屏", "description": "解码器无输出",
            "business_impact": "值班无法看图像", **extra}


def test_phone_intake_opens_a_request_with_devices_and_attachments(client, frozen_clock, dispatcher, project_a, device_a):
    response = as_user(client, dispatcher).post(
        reverse("service:intake"), intake_data(project_a, devices=[device_a.pk], attachments=[png("1.png"), png("2.png")]))
    created = ServiceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert created.channel == Channel.PHONE and created.reporter_name == "王工" and created.priority == Priority.SERIOUS
    assert list(created.devices.all()) == [device_a]
    assert sorted(created.attachments.values_list("original_name", flat=True)) == ["1.png", "2.png"]
    assert TimelineEvent.objects.filter(request=created, kind=EventKind.CREATED).exists()


@pytest.mark.parametrize("uploads", [
    [SimpleUploadedFile("evil.exe", b"MZ\x90\x00\x03\x00\x00\x00\xff\xfe\xfd", content_type="image/png")],
    [SimpleUploadedFile("ok.png", PNG), SimpleUploadedFile("bad.bin", b"\xff\xfe\x00\x81\x82" * 10)],
])
def test_intake_with_a_bad_attachment_writes_nothing(client, frozen_clock, dispatcher, project_a, uploads):
    response = as_user(client, dispatcher).post(reverse("service:intake"), intake_data(project_a, attachments=uploads))
    assert response.status_code == 200
    assert "is not an accepted file type" in response.content.decode()
    assert not ServiceRequest.objects.exists() and not Attachment.objects.exists() and not TimelineEvent.objects.exists()
    assert media_files() == []


def test_a_failure_after_the_files_were_stored_removes_them_too(client, frozen_clock, dispatcher, project_a, monkeypatch):
    from aftersales.core.errors import DomainError
    from aftersales.service import attachments

    real_store = attachments.store
    calls = []

    def store_then_fail(request, upload, *, by):
        calls.append(upload.name)
        if len(calls) == 2:
            raise DomainError("disk full", field="attachments")
        return real_store(request, upload, by=by)

    monkeypatch.setattr(attachments, "store", store_then_fail)
    response = as_user(client, dispatcher).post(
        reverse("service:intake"), intake_data(project_a, attachments=[png("1.png"), png("2.png")]))
    assert response.status_code == 200 and "disk full" in response.content.decode()
    assert not ServiceRequest.objects.exists() and media_files() == []


def test_intake_refuses_a_project_outside_the_desks_scope(client, frozen_clock, dispatcher, project_b):
    response = as_user(client, dispatcher).post(reverse("service:intake"), intake_data(project_b))
    assert response.status_code == 200 and not ServiceRequest.objects.exists()
    assert "Select a valid choice" in response.content.decode()


def test_intake_shows_each_priority_with_the_seeds_definition(client, dispatcher):
    page = as_user(client, dispatcher).get(reverse("service:intake")).content.decode()
    assert "System unusable, business interrupted." in page
    assert "Occasional problem, use not affected, or a planned new topic." in page


def test_customer_submits_in_the_portal_only_for_their_projects(client, frozen_clock, customer_user_a, project_a,
                                                                 project_b, device_a, device_b):
    as_user(client, customer_user_a)
    page = client.get(reverse("service:submit")).content.decode()
    assert project_a.name in page and project_b.name not in page
    data = {"project": project_a.pk, "priority": Priority.EMERGENCY, "title": "全部摄像机离线", "description": "无图像",
            "devices": [device_a.pk]}
    response = client.post(reverse("service:submit"), data)
    created = ServiceRequest.objects.get()
    assert response.status_code == 302 and created.channel == Channel.PORTAL and created.reporter == customer_user_a
    response = client.post(reverse("service:submit"), {**data, "devices": [device_b.pk]})
    assert response.status_code == 200 and ServiceRequest.objects.count() == 1
    response = client.post(reverse("service:submit"), {**data, "project": project_b.pk})
    assert response.status_code == 200 and ServiceRequest.objects.count() == 1


# ------------------------------------------------------------------------------------------ desk actions

def test_reply_through_the_page(client, frozen_clock, dispatcher, request_a):
    response = as_user(client, dispatcher).post(
        reverse("service:reply", args=[request_a.pk]),
        {"version": request_a.version, "mode": "remote", "plan": "远程登录 NVR 检查硬盘"}, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == request_a.get_absolute_url()
    request_a.refresh_from_db()
    assert request_a.state == State.REPLIED and request_a.plan == "远程登录 NVR 检查硬盘"


def test_a_post_with_a_stale_version_shows_the_conflict(client, frozen_clock, dispatcher, request_a):
    seen = request_a.version
    verbs.change_priority(request=request_a, by=dispatcher, priority=Priority.SERIOUS, version=seen)
    as_user(client, dispatcher)
    conflict = str(StaleObject().message)
    url = reverse("service:reply", args=[request_a.pk])
    response = client.post(url, {"version": seen, "mode": "phone", "plan": "电话指导"}, **HTMX)
    assert response.status_code == 409 and conflict in response.content.decode()
    response = client.post(reverse("service:pause", args=[request_a.pk]), {"version": seen, "reason": "等待业主"})
    assert response.status_code == 200 and conflict in response.content.decode()
    request_a.refresh_from_db()
    assert request_a.state == State.NEW and not request_a.paused  # the first writer's change is kept, nothing else


def test_an_illegal_transition_is_a_clear_409(client, frozen_clock, dispatcher, request_a):
    verbs.reply(request=request_a, by=dispatcher, version=current_version(request_a), mode="phone", plan="电话指导")
    request_a.refresh_from_db()
    response = as_user(client, dispatcher).post(
        reverse("service:reply", args=[request_a.pk]), {"version": request_a.version, "mode": "phone", "plan": "再来"}, **HTMX)
    assert response.status_code == 409
    assert "not possible while the request is" in response.content.decode()


def test_a_domain_error_is_a_form_message_not_a_500(client, frozen_clock, dispatcher, request_a):
    response = as_user(client, dispatcher).post(reverse("service:cancel", args=[request_a.pk]),
                                                {"version": request_a.version, "reason": "   "}, **HTMX)
    assert response.status_code == 422 and "invalid-feedback" in response.content.decode()


def test_dispatch_pause_resume_priority_contingency_advisor_comment(client, frozen_clock, dispatcher, engineer, advisor,
                                                                    request_a):
    as_user(client, dispatcher)

    def post(name, **data):
        request_a.refresh_from_db()
        response = client.post(reverse(f"service:{name}", args=[request_a.pk]), {"version": request_a.version, **data}, **HTMX)
        assert response.status_code == 204, response.content.decode()

    post("dispatch", engineer=engineer.pk)
    post("pause", reason="业主机房钥匙未到")
    post("resume")
    post("priority", priority=Priority.EMERGENCY, reason="业务中断")
    post("contingency", plan="借用备用 NVR 一台")
    post("advisor", advisor=advisor.pk, note="硬盘阵列异常")
    post("comment", text="已电话告知业主")
    request_a.refresh_from_db()
    assert request_a.state == State.DISPATCHED and request_a.assignee == engineer and request_a.advisor == advisor
    assert request_a.priority == Priority.EMERGENCY and request_a.contingency_plan == "借用备用 NVR 一台"
    kinds = list(request_a.events.values_list("kind", flat=True))
    for kind in (EventKind.DISPATCHED, EventKind.PAUSED, EventKind.RESUMED, EventKind.PRIORITY_CHANGED,
                 EventKind.CONTINGENCY, EventKind.ADVISOR, EventKind.COMMENT):
        assert kind in kinds
    page = client.get(request_a.get_absolute_url()).content.decode()
    assert "借用备用 NVR 一台" in page and "已电话告知业主" in page


def test_each_action_page_renders_alone(client, dispatcher, engineer, customer_user_a, request_a):
    for user, names in ((dispatcher, ["reply", "dispatch", "pause", "resume", "priority", "contingency", "advisor",
                                      "cancel", "comment"]),
                        (engineer, ["depart", "arrive", "leave", "work_order", "sign"]),
                        (customer_user_a, ["confirm", "comment"])):
        as_user(client, user)
        for name in names:
            response = client.get(reverse(f"service:{name}", args=[request_a.pk]))
            assert response.status_code == 200, (user, name)


# ------------------------------------------------------------------------------------------ engineer and customer

@pytest.fixture
def dispatched(request_a, dispatcher, engineer):
    verbs.dispatch(request=request_a, by=dispatcher, version=current_version(request_a), engineer=engineer)
    request_a.refresh_from_db()
    return request_a


def test_engineer_departs_arrives_with_position_works_and_the_customer_signs(client, frozen_clock, engineer, dispatched):
    as_user(client, engineer)
    work = reverse("service:my_work")
    page = client.get(work).content.decode()
    assert dispatched.number in page and reverse("service:depart", args=[dispatched.pk]) in page
    assert client.post(reverse("service:depart", args=[dispatched.pk]), {"next": work})["Location"] == work
    response = client.post(reverse("service:arrive", args=[dispatched.pk]),
                           {"latitude": "38.5001", "longitude": "106.3001", "accuracy": "12", "next": work})
    assert response.status_code == 302
    arrived = TimelineEvent.objects.get(request=dispatched, kind=EventKind.ARRIVED)
    assert arrived.data["proof"] == "position" and not arrived.data["far"]
    page = client.get(dispatched.get_absolute_url()).content.decode()
    assert "m from the site" in page
    page = client.get(work).content.decode()  # SRQ-7: no leaving before the customer has confirmed
    assert reverse("service:work_order", args=[dispatched.pk]) in page
    assert reverse("service:leave", args=[dispatched.pk]) not in page

    unsolved = {"version": ServiceRequest.objects.get(pk=dispatched.pk).version, "actions": "检查交换机",
                "minutes_spent": 30, "result": "unsolved"}
    response = client.post(reverse("service:work_order", args=[dispatched.pk]), unsolved)
    assert response.status_code == 200 and "Screenshots are required" in response.content.decode()
    response = client.post(reverse("service:work_order", args=[dispatched.pk]),
                           {**unsolved, "result": "solved", "actions": "更换交换机电源", "parts_used": "电源模块 ×1"})
    assert response["Location"] == reverse("service:sign", args=[dispatched.pk])
    work_order = WorkOrder.objects.get(request=dispatched)

    sign = reverse("service:sign", args=[dispatched.pk])
    page = client.get(sign).content.decode()
    assert "更换交换机电源" in page and "signature_pad.umd.min.js" in page
    decision = {"decision": "confirm", "confirm-work_order": work_order.pk, "confirm-work_order_version": work_order.version,
                "confirm-signer_name": "李主任", "confirm-satisfaction": "5"}
    response = client.post(sign, {**decision, "confirm-signature": "data:image/png;base64,bm90IGEgcG5n"})
    assert response.status_code == 200 and "could not be read" in response.content.decode()
    response = client.post(sign, {**decision, "confirm-signature": signature_data_url()})
    assert response["Location"] == work
    work_order.refresh_from_db()
    assert work_order.state == WorkOrderState.CONFIRMED and work_order.confirmed_via == "signature"
    assert work_order.signer_name == "李主任" and work_order.satisfaction == 5 and work_order.signature
    dispatched.refresh_from_db()
    assert dispatched.state == State.CLOSED

    page = client.get(work).content.decode()  # closed, but not left yet: the card stays with 离开
    assert reverse("service:leave", args=[dispatched.pk]) in page
    client.post(reverse("service:leave", args=[dispatched.pk]), {"next": work})
    assert dispatched.number not in client.get(work).content.decode()
    page = client.get(dispatched.get_absolute_url()).content.decode()
    assert "data:image/png;base64," in page  # the signature, inline


def test_arrival_without_position_offers_photo_or_customer_confirmation(client, frozen_clock, engineer, dispatched):
    as_user(client, engineer)
    url = reverse("service:arrive", args=[dispatched.pk])
    response = client.post(url, {})
    page = response.content.decode()
    assert response.status_code == 200 and "Arrival needs proof" in page
    assert 'capture="environment"' in page and 'name="confirmed_by_customer"' in page
    response = client.post(url, {"photo": png("site.png")})
    assert response.status_code == 302
    visit = dispatched.visits.get()
    assert visit.arrival_proof == "photo" and visit.arrival_photo.original_name == "site.png"


def test_arrival_far_from_the_site_is_flagged(client, frozen_clock, engineer, dispatched):
    as_user(client, engineer)
    client.post(reverse("service:arrive", args=[dispatched.pk]), {"latitude": "38.6", "longitude": "106.3"})
    page = client.get(dispatched.get_absolute_url()).content.decode()
    assert "far from the site" in page


def test_only_the_dispatched_engineer_sees_one_tap_buttons(client, engineer, branch_a, dispatched):
    other = StaffFactory(username="engineer2", branch=branch_a, position=Position.ENGINEER, role=roles.ENGINEER)
    page = as_user(client, other).get(reverse("service:my_work")).content.decode()
    assert dispatched.number not in page
    response = client.post(reverse("service:depart", args=[dispatched.pk]))
    assert response.status_code == 200 and "You are not dispatched to this request." in response.content.decode()


@pytest.fixture
def resolved(frozen_clock, dispatcher, engineer, request_a):
    verbs.reply(request=request_a, by=dispatcher, version=current_version(request_a), mode="remote", plan="远程处理")
    return verbs.submit_work_order(request=request_a, by=engineer, version=current_version(request_a),
                                   actions="远程重启 NVR", minutes_spent=20, result="solved")


def test_customer_rejects_with_a_reason_then_confirms_in_the_portal(client, frozen_clock, customer_user_a, engineer,
                                                                    request_a, resolved):
    as_user(client, customer_user_a)
    page = client.get(request_a.get_absolute_url()).content.decode()
    assert 'id="action-confirm"' in page and "远程重启 NVR" in page
    url = reverse("service:confirm", args=[request_a.pk])
    refs = {"work_order": resolved.pk, "work_order_version": resolved.version}
    response = client.post(url, {"decision": "reject", **{f"reject-{k}": v for k, v in refs.items()}, "reject-reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    response = client.post(url, {"decision": "reject", **{f"reject-{k}": v for k, v in refs.items()},
                                 "reject-reason": "问题依旧"})
    assert response.status_code == 302
    request_a.refresh_from_db()
    assert request_a.state == State.REPLIED
    second = verbs.submit_work_order(request=request_a, by=engineer, version=current_version(request_a),
                                     actions="更换硬盘", minutes_spent=60, result="solved")
    response = client.post(url, {"decision": "confirm", "confirm-work_order": second.pk,
                                 "confirm-work_order_version": second.version, "confirm-satisfaction": "4",
                                 "confirm-comment": "及时"})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.state == WorkOrderState.CONFIRMED and second.confirmed_by == customer_user_a and second.satisfaction == 4
    request_a.refresh_from_db()
    assert request_a.state == State.CLOSED


def test_confirm_by_link_works_once_then_says_used(client, frozen_clock, request_a, resolved):
    url = reverse("service:confirm_by_link", args=[confirmation_token(resolved)])
    page = client.get(url).content.decode()
    assert "远程重启 NVR" in page and 'name="confirm-signer_name"' in page
    response = client.post(url, {"decision": "confirm", "confirm-signer_name": "张科长", "confirm-satisfaction": "5"})
    assert response.status_code == 200 and "The work is confirmed" in response.content.decode()
    resolved.refresh_from_db()
    assert resolved.state == WorkOrderState.CONFIRMED and resolved.confirmed_via == "link" and resolved.signer_name == "张科长"
    for response in (client.get(url), client.post(url, {"decision": "confirm", "confirm-signer_name": "又一次"})):
        page = response.content.decode()
        assert response.status_code == 410 and "already been used" in page and 'name="confirm-signer_name"' not in page
    assert TimelineEvent.objects.filter(request=request_a, kind=EventKind.CONFIRMED).count() == 1


def test_a_confirmation_link_opened_as_another_customers_contact_is_refused(client, frozen_clock, request_a, resolved,
                                                                            customer_user_b):
    url = reverse("service:confirm_by_link", args=[confirmation_token(resolved)])
    as_user(client, customer_user_b)
    for response in (client.get(url), client.post(url, {"decision": "confirm", "confirm-signer_name": "外人"})):
        page = response.content.decode()
        assert response.status_code == 403 and "another customer" in page and "远程重启 NVR" not in page
    resolved.refresh_from_db()
    assert resolved.state == WorkOrderState.AWAITING_CONFIRMATION


def test_confirm_by_link_rejects_and_reopens(client, frozen_clock, request_a, resolved):
    url = reverse("service:confirm_by_link", args=[confirmation_token(resolved)])
    response = client.post(url, {"decision": "reject", "reject-signer_name": "张科长", "reject-reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    client.post(url, {"decision": "reject", "reject-signer_name": "张科长", "reject-reason": "画面仍然卡顿"})
    request_a.refresh_from_db()
    assert request_a.state == State.REPLIED
    assert "画面仍然卡顿" in TimelineEvent.objects.get(request=request_a, kind=EventKind.REJECTED).text


def test_a_forged_link_shows_why_and_offers_nothing(client, db):
    response = client.get(reverse("service:confirm_by_link", args=["not-a-token"]))
    page = response.content.decode()
    assert response.status_code == 404 and "not valid" in page and "<form method=\"post\" novalidate class=\"card" not in page


def test_customer_orders_their_open_requests(client, frozen_clock, customer_user_a, customer_user_b, dispatcher,
                                             project_a, request_b):
    first = open_request(dispatcher, project_a, title="第一个")
    second = open_request(dispatcher, project_a, title="第二个")
    as_user(client, customer_user_a)
    client.post(reverse("service:request_list"), {f"rank_{first.pk}": "2", f"rank_{second.pk}": "1",
                                                  f"rank_{request_b.pk}": "1"})
    first.refresh_from_db(), second.refresh_from_db(), request_b.refresh_from_db()
    assert (first.customer_rank, second.customer_rank, request_b.customer_rank) == (2, 1, None)
    client.post(reverse("service:request_list"), {f"rank_{first.pk}": "3"})  # `second` is on another page
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.customer_rank, second.customer_rank) == (3, 1)
    page = client.get(reverse("service:request_list")).content.decode()
    assert page.index("第二个") < page.index("第一个") and request_b.title not in page
    as_user(client, dispatcher)
    assert client.post(reverse("service:request_list"), {f"rank_{first.pk}": "5"}).status_code == 403


def test_customer_comments_appear_on_the_timeline(client, frozen_clock, customer_user_a, request_a):
    as_user(client, customer_user_a)
    response = client.post(reverse("service:comment", args=[request_a.pk]), {"text": "请尽快处理", "version": 1})
    assert response.status_code == 302
    event = TimelineEvent.objects.get(request=request_a, kind=EventKind.COMMENT)
    assert event.actor == customer_user_a and event.text == "请尽快处理"


def test_customer_cannot_use_desk_actions(client, customer_user_a, request_a):
    as_user(client, customer_user_a)
    for name in ("reply", "dispatch", "pause", "cancel", "depart", "sign"):
        assert client.post(reverse(f"service:{name}", args=[request_a.pk]), {"version": 1}).status_code == 403, name


def test_desk_queue_counts_what_it_lists_for_every_filter(client, frozen_clock, dispatcher, general_manager, engineer,
                                                          project_a, project_b):
    """The desk counts with the compiled queue query unless the filter has a search; both agree with the list."""
    for i in range(4):
        request = open_request(dispatcher, project_a if i % 2 else project_b, title=f"摄像机 {i}",
                               priority=Priority.SERIOUS if i < 2 else Priority.GENERAL)
        if i == 1:
            verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    as_user(client, general_manager)
    for params, expected in (({}, 4), ({"customer": project_a.customer_id}, 2), ({"state": "dispatched"}, 1),
                             ({"branch": project_b.branch_id, "priority": "serious"}, 1), ({"q": "摄像机 3"}, 1),
                             ({"customer": project_b.customer_id, "state": "dispatched"}, 0)):
        response = client.get(reverse("service:desk"), params)
        assert response.content.decode().count('<tr class="risk-') == response.context["paginator"].count == expected, params
