"""Issue 11 §4 over the API: the triage lists (mail from unknown senders, unverified label reporters), the
unmatched alarms and the integration keys. Scoped like the pages, answered in Chinese by default."""

import hashlib
import re
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.intake.alarms import keys
from aftersales.intake.mail import ingest
from aftersales.intake.models import AlarmEvent, AlarmOutcome, DeviceAlias, InboundMail, IntegrationKey, MailState
from aftersales.service import verbs
from aftersales.service.models import Channel, EventKind, ServiceRequest, TimelineEvent

from ..conftest import api_as
from ..factories import CustomerFactory, DeviceFactory, ProjectFactory, StaffFactory

HAN = re.compile(r"[\u4e00-\u9fff]")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ALARMS_URL = "/api/alarms/events/"


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.DEFAULT_FROM_EMAIL = "售后服务 <service@integrator.example>"
    settings.AFTERSALES_SERVICE_ADDRESS = "service@integrator.example"


@pytest.fixture
def desk_b(branch_b):
    return StaffFactory(username="desk_b", branch=branch_b, position=Position.DISPATCHER, role=roles.DISPATCHER)


def message(*, sender="陌生人 <stranger@elsewhere.example>", subject="摄像机离线",
            body="三号杆摄像机没有图像。", attachments=()) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@integrator.example"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="elsewhere.example")
    msg.set_content(body)
    for name, content, maintype, subtype in attachments:
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def waiting_mail_of(contact, project, subject) -> InboundMail:
    """A known contact's mail the desk must place: the customer has two projects and the mail names neither."""
    contact.email = f"{contact.username}@customer.example"
    contact.save(update_fields=["email"])
    if project.customer.projects.count() < 2:
        ProjectFactory(customer=project.customer, name="第二期")
    stored = ingest.ingest(message(sender=contact.email, subject=subject))
    assert stored.state == MailState.TRIAGE and stored.customer_id == project.customer_id
    return stored


@pytest.fixture
def unknown_mail(db):
    stored = ingest.ingest(message(attachments=[("现场.png", PNG, "image", "png")]))
    assert stored.state == MailState.TRIAGE and stored.customer is None
    return stored


@pytest.fixture
def mail_a(customer_user_a, project_a):
    return waiting_mail_of(customer_user_a, project_a, "一号机房 NVR 报警")


@pytest.fixture
def mail_b(customer_user_b, project_b):
    return waiting_mail_of(customer_user_b, project_b, "地铁站台摄像机花屏")


def mail_url(stored, verb=None) -> str:
    return reverse(f"triage-mail-{verb}", args=[stored.pk]) if verb else reverse("triage-mail-list")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# ------------------------------------------------------------------------------------------ triage: mail

def test_the_desk_lists_waiting_mail_scoped_like_the_page(dispatcher, desk_b, general_manager, unknown_mail, mail_a,
                                                          mail_b):
    # the unknown sender's mail is every desk's; a known customer's mail is its branch's only
    assert ids(api_as(dispatcher).get(mail_url(None))) == [unknown_mail.pk, mail_a.pk]  # oldest first
    assert ids(api_as(desk_b).get(mail_url(None))) == [unknown_mail.pk, mail_b.pk]
    assert set(ids(api_as(general_manager).get(mail_url(None)))) == {unknown_mail.pk, mail_a.pk, mail_b.pk}
    row = api_as(dispatcher).get(mail_url(None)).json()["results"][0]
    assert row["sender"] == "stranger@elsewhere.example" and row["sender_name"] == "陌生人"
    assert row["title"] == "摄像机离线" and "没有图像" in row["text"] and row["files"] == ["现场.png"]
    assert row["state"] == "triage" and row["customer"] is None and row["readable"] and "raw" not in row


def test_handled_mail_leaves_the_list(dispatcher, unknown_mail, mail_a):
    mail_a.state = MailState.IGNORED
    mail_a.save(update_fields=["state"])
    assert ids(api_as(dispatcher).get(mail_url(None))) == [unknown_mail.pk]


def test_the_desk_opens_a_request_from_a_waiting_mail_once(dispatcher, unknown_mail, project_a):
    api = api_as(dispatcher)
    response = api.post(mail_url(unknown_mail, "create-request"), {"project": project_a.pk, "priority": "serious",
                                                                    "title": "三号杆摄像机离线"}, format="json")
    assert response.status_code == 201, response.content
    unknown_mail.refresh_from_db()
    request = unknown_mail.request
    assert unknown_mail.state == MailState.CREATED and request.project == project_a and request.priority == "serious"
    assert request.channel == Channel.EMAIL and request.title == "三号杆摄像机离线"
    assert request.reporter_name == "陌生人"
    assert request.attachments.count() == 1
    body = response.json()
    assert body["request"]["number"] == request.number and body["mail"]["state"] == "created"
    assert body["detail"] == f"已根据邮件创建请求 {request.number}。"  # Chinese by default
    # handled once: a second call (another tab, a colleague) is a 409 and changes nothing
    again = api.post(mail_url(unknown_mail, "create-request"), {"project": project_a.pk}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    assert ServiceRequest.objects.count() == 1


def test_the_default_priority_and_title_come_from_the_page(dispatcher, unknown_mail, project_a):
    response = api_as(dispatcher).post(mail_url(unknown_mail, "create-request"), {"project": project_a.pk},
                                       format="json")
    assert response.status_code == 201
    request = ServiceRequest.objects.get()
    assert request.priority == "general" and request.title == "摄像机离线"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "project"),
    ({"project": "x"}, "project"),
    ({"project": None}, "project"),
    ({"priority": "urgent!"}, "priority"),
    ({"title": "长" * 201}, "title"),
])
def test_bad_input_is_400_with_field_messages_and_writes_nothing(body, field, dispatcher, unknown_mail, project_a):
    body = {"project": project_a.pk, **body} if field != "project" else body
    response = api_as(dispatcher).post(mail_url(unknown_mail, "create-request"), body, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.content
    assert HAN.search(response.json()["fields"][field][0])  # DRF's own messages speak Chinese too
    unknown_mail.refresh_from_db()
    assert unknown_mail.state == MailState.TRIAGE and not ServiceRequest.objects.exists()


def test_another_branchs_project_is_a_400_and_its_mail_a_404(dispatcher, unknown_mail, mail_b, project_b, project_a):
    api = api_as(dispatcher)
    response = api.post(mail_url(unknown_mail, "create-request"), {"project": project_b.pk}, format="json")
    assert response.status_code == 400 and "project" in response.json()["fields"]
    for verb, body in (("create-request", {"project": project_a.pk}), ("dismiss", {}), ("append", {})):
        assert api.post(mail_url(mail_b, verb), body, format="json").status_code == 404
    assert api.post(reverse("triage-mail-dismiss", args=[999999]), {}, format="json").status_code == 404
    mail_b.refresh_from_db()
    assert mail_b.state == MailState.TRIAGE and not ServiceRequest.objects.exists()


def test_a_known_customers_mail_needs_a_project_of_that_customer(dispatcher, mail_a, branch_a):
    # a project the desk sees, of another customer than the mail's
    neighbour = ProjectFactory(customer=CustomerFactory(name="银川市交警支队", branch=branch_a))
    response = api_as(dispatcher).post(mail_url(mail_a, "create-request"), {"project": neighbour.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["project"] == ["请选择此邮件所涉客户的项目。"]
    mail_a.refresh_from_db()
    assert mail_a.state == MailState.TRIAGE and not ServiceRequest.objects.exists()


def test_the_desk_adds_a_waiting_mail_to_a_request(dispatcher, customer_user_a, project_a, unknown_mail):
    request = verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                                 title="录像丢失", description="三号 NVR")
    response = api_as(dispatcher).post(mail_url(unknown_mail, "append"), {"request": request.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["request"]["id"] == request.pk and response.json()["mail"]["state"] == "appended"
    unknown_mail.refresh_from_db()
    assert unknown_mail.state == MailState.APPENDED and unknown_mail.request == request
    assert TimelineEvent.objects.filter(request=request, kind=EventKind.MAIL).exists()


def test_a_mail_is_added_only_to_a_request_the_caller_sees_of_its_customer(dispatcher, customer_user_b, project_b, mail_a,
                                                                           branch_a):
    foreign = verbs.open_request(by=customer_user_b, project=project_b, priority="general", channel="portal",
                                 title="花屏", description="站台")
    neighbour = ProjectFactory(customer=CustomerFactory(branch=branch_a))
    other = verbs.open_request(by=None, project=neighbour, priority="general", channel="phone", title="x",
                               description="y")
    api = api_as(dispatcher)
    assert api.post(mail_url(mail_a, "append"), {"request": foreign.pk}, format="json").status_code == 400
    response = api.post(mail_url(mail_a, "append"), {"request": other.pk}, format="json")
    assert response.status_code == 400 and response.json()["fields"]["request"] == ["请选择此邮件所涉客户的请求。"]
    mail_a.refresh_from_db()
    assert mail_a.state == MailState.TRIAGE


def test_the_desk_dismisses_a_mail_with_a_reason(dispatcher, unknown_mail):
    api = api_as(dispatcher)
    response = api.post(mail_url(unknown_mail, "dismiss"), {"reason": "广告"}, format="json")
    assert response.status_code == 200 and response.json()["detail"] == "邮件已搁置。"
    unknown_mail.refresh_from_db()
    assert unknown_mail.state == MailState.IGNORED and "广告" in unknown_mail.reason
    assert dispatcher.display_name in unknown_mail.reason
    assert api.post(mail_url(unknown_mail, "dismiss"), {}, format="json").status_code == 409
    assert api.post(mail_url(unknown_mail, "dismiss"), {"reason": "长" * 501}, format="json").status_code == 400


def test_mail_triage_is_for_the_desk_only(engineer, customer_user_a, unknown_mail, project_a):
    for user in (engineer, customer_user_a):
        api = api_as(user)
        assert api.get(mail_url(None)).status_code == 403
        for verb, body in (("create-request", {"project": project_a.pk}), ("append", {}), ("dismiss", {})):
            assert api.post(mail_url(unknown_mail, verb), body, format="json").status_code == 403
    assert APIClient().get(mail_url(None)).status_code in (401, 403)
    unknown_mail.refresh_from_db()
    assert unknown_mail.state == MailState.TRIAGE


# ------------------------------------------------------------------------------------------ triage: label reports

def label_report(project, device, name="保安老张"):
    return verbs.open_request(by=None, project=project, priority="general", channel="label", title="摄像机黑屏",
                              description="扫码报修", devices=[device], reporter_name=name,
                              reporter_phone="13900000000", reporter_verified=False)


def test_the_desk_lists_and_confirms_unverified_reporters(dispatcher, project_a, project_b, device_a, device_b,
                                                          customer_user_a):
    report = label_report(project_a, device_a)
    foreign = label_report(project_b, device_b, name="站务员")
    verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                       title="verified", description="x")
    api = api_as(dispatcher)
    listing = api.get(reverse("triage-unverified-list"))
    assert ids(listing) == [report.pk]
    row = listing.json()["results"][0]
    assert row["reporter_name"] == "保安老张" and row["devices"][0]["id"] == device_a.pk
    assert row["project_name"] == project_a.name and row["number"] == report.number
    url = reverse("triage-unverified-confirm-reporter", args=[report.pk])
    response = api.post(url)
    assert response.status_code == 200 and response.json()["detail"] == f"{report.number} 的报修人已核实。"
    report.refresh_from_db()
    assert report.reporter_verified
    assert TimelineEvent.objects.get(request=report, kind=EventKind.REPORTER_VERIFIED).actor == dispatcher
    assert ids(api.get(reverse("triage-unverified-list"))) == []
    assert api.post(url).status_code == 404  # as on the page: only a waiting report can be confirmed
    assert api.post(reverse("triage-unverified-confirm-reporter", args=[foreign.pk])).status_code == 404
    foreign.refresh_from_db()
    assert not foreign.reporter_verified


def test_unverified_reporters_are_for_the_desk_only(engineer, customer_user_a, project_a, device_a):
    report = label_report(project_a, device_a)
    for user in (engineer, customer_user_a):
        api = api_as(user)
        assert api.get(reverse("triage-unverified-list")).status_code == 403
        assert api.post(reverse("triage-unverified-confirm-reporter", args=[report.pk])).status_code == 403
    report.refresh_from_db()
    assert not report.reporter_verified


# ------------------------------------------------------------------------------------------ unmatched alarms

def make_key(customer, admin, *, project=None, name="Zabbix 天网机房") -> str:
    _key, plain = keys.create_key(by=admin, customer=customer, project=project, name=name)
    return plain


def raise_alarm(plain, device_name: dict, *, time="2026-11-26T10:00:00+08:00"):
    response = APIClient().post(ALARMS_URL, {"device": device_name, "type": "offline", "state": "raised", "time": time},
                                format="json", HTTP_AUTHORIZATION=f"Bearer {plain}")
    return response


@pytest.fixture
def key_a(customer_a, admin_user):
    return make_key(customer_a, admin_user)


@pytest.fixture
def key_b(customer_b, admin_user):
    return make_key(customer_b, admin_user)


@pytest.fixture
def unmatched_a(key_a):
    assert raise_alarm(key_a, {"external_id": "zbx-10084"}).status_code == 422
    return AlarmEvent.objects.get(payload__device__external_id="zbx-10084")


@pytest.fixture
def unmatched_b(key_b):
    assert raise_alarm(key_b, {"serial": "MISSING-B"}).status_code == 422
    return AlarmEvent.objects.get(payload__device__serial="MISSING-B")


def event_url(event, verb=None) -> str:
    return reverse(f"alarm-unmatched-{verb}", args=[event.pk]) if verb else reverse("alarm-unmatched-list")


def test_unmatched_alarms_are_listed_scoped_with_the_reason(dispatcher, desk_b, general_manager, unmatched_a,
                                                            unmatched_b):
    listing = api_as(dispatcher).get(event_url(None))
    assert ids(listing) == [unmatched_a.pk]
    row = listing.json()["results"][0]
    assert row["device"] == {"external_id": "zbx-10084"} and row["alarm_type"] == "offline"
    assert row["alarm_type_label"] == "离线" and row["key_name"] == "Zabbix 天网机房"
    assert "zbx-10084" in row["reason"]
    assert ids(api_as(desk_b).get(event_url(None))) == [unmatched_b.pk]
    assert set(ids(api_as(general_manager).get(event_url(None)))) == {unmatched_a.pk, unmatched_b.pk}
    assert ids(api_as(dispatcher).get(event_url(None), {"customer": unmatched_a.customer_id})) == [unmatched_a.pk]
    # another branch's customer is not a choice of the filter
    assert api_as(dispatcher).get(event_url(None), {"customer": unmatched_b.customer_id}).status_code == 400


def test_mapping_an_external_id_replays_its_events(dispatcher, unmatched_a, project_a, key_a):
    nvr = DeviceFactory(project=project_a, name="NVR-01", serial_number="NVR0001")
    raise_alarm(key_a, {"external_id": "zbx-10084"}, time="2026-11-26T10:05:00+08:00")  # a second one waits too
    response = api_as(dispatcher).post(event_url(unmatched_a, "map"), {"device": nvr.pk}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["external_id"] == "zbx-10084" and body["device"] == nvr.pk
    assert [r["outcome"] for r in body["results"]] == ["opened", "appended"]
    assert body["detail"].startswith("“zbx-10084”现已关联到 NVR-01")
    assert DeviceAlias.objects.get().device == nvr
    request = ServiceRequest.objects.get()
    assert request.channel == Channel.ALARM and list(request.devices.all()) == [nvr]
    assert ids(api_as(dispatcher).get(event_url(None))) == []
    # the event is handled now: acting on it again is a 409
    assert api_as(dispatcher).post(event_url(unmatched_a, "map"), {"device": nvr.pk}, format="json").status_code == 409


def test_mapping_without_replay_sets_the_events_aside(dispatcher, unmatched_a, project_a):
    nvr = DeviceFactory(project=project_a)
    response = api_as(dispatcher).post(event_url(unmatched_a, "map"), {"device": nvr.pk, "replay": False},
                                       format="json")
    assert response.status_code == 200 and [r["outcome"] for r in response.json()["results"]] == ["ignored"]
    assert not ServiceRequest.objects.exists()


def test_the_device_choice_is_scoped_and_must_be_reachable_by_the_key(dispatcher, admin_user, customer_a, project_a,
                                                                      device_b):
    other_project = ProjectFactory(customer=customer_a, name="二期")
    plain = make_key(customer_a, admin_user, project=project_a, name="一期平台")
    raise_alarm(plain, {"external_id": "cam-9"})
    event = AlarmEvent.objects.get()
    api = api_as(dispatcher)
    response = api.post(event_url(event, "map"), {"device": device_b.pk}, format="json")  # another branch's device
    assert response.status_code == 400 and "device" in response.json()["fields"]
    unreachable = DeviceFactory(project=other_project)  # the customer's, but not the key's project
    response = api.post(event_url(event, "map"), {"device": unreachable.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["device"] == ["此事件的接入密钥无权上报该设备。"]
    assert api.post(event_url(event, "map"), {}, format="json").status_code == 400
    assert not DeviceAlias.objects.exists()
    event.refresh_from_db()
    assert event.outcome == AlarmOutcome.UNMATCHED


def test_a_serial_registered_later_is_found_by_replay(unmatched_b, desk_b, project_b):
    api = api_as(desk_b)
    still = api.post(event_url(unmatched_b, "replay"))
    assert still.status_code == 200 and still.json()["outcome"] == "unmatched" and still.json()["request"] is None
    DeviceFactory(project=project_b, serial_number="MISSING-B")
    found = api.post(event_url(unmatched_b, "replay"))
    assert found.status_code == 200 and found.json()["outcome"] == "opened"
    assert found.json()["request"]["number"] == ServiceRequest.objects.get().number


def test_an_unmatched_event_is_set_aside_once(dispatcher, unmatched_a):
    api = api_as(dispatcher)
    response = api.post(event_url(unmatched_a, "dismiss"))
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert response.json()["detail"] == "事件已搁置，记录仍予保留。"
    unmatched_a.refresh_from_db()
    assert unmatched_a.outcome == AlarmOutcome.IGNORED and dispatcher.display_name in unmatched_a.reason
    again = api.post(event_url(unmatched_a, "dismiss"))
    assert again.status_code == 409 and again.json()["detail"] == "此事件已处理过。"


def test_another_branchs_event_is_a_404(dispatcher, unmatched_b, device_a):
    api = api_as(dispatcher)
    for verb, body in (("dismiss", {}), ("replay", {}), ("map", {"device": device_a.pk})):
        assert api.post(event_url(unmatched_b, verb), body, format="json").status_code == 404
    unmatched_b.refresh_from_db()
    assert unmatched_b.outcome == AlarmOutcome.UNMATCHED


def test_unmatched_alarms_need_the_desk_and_acting_on_them_the_mapping_permission(
        engineer, customer_user_a, general_manager, unmatched_a, device_a):
    for user in (engineer, customer_user_a):
        assert api_as(user).get(event_url(None)).status_code == 403
    api = api_as(general_manager)  # sees the list, like on the page, but may not map (intake.add_devicealias)
    assert ids(api.get(event_url(None))) == [unmatched_a.pk]
    for user in (engineer, customer_user_a, general_manager):
        for verb, body in (("dismiss", {}), ("replay", {}), ("map", {"device": device_a.pk})):
            assert api_as(user).post(event_url(unmatched_a, verb), body, format="json").status_code == 403
    unmatched_a.refresh_from_db()
    assert unmatched_a.outcome == AlarmOutcome.UNMATCHED


# ------------------------------------------------------------------------------------------ integration keys

KEYS_URL = "/api/integration-keys/"


def test_an_administrator_creates_a_key_shown_once_and_only_its_hash_is_stored(admin_user, customer_a, project_a):
    device = DeviceFactory(project=project_a, serial_number="NVR0001")
    api = api_as(admin_user)
    response = api.post(KEYS_URL, {"customer": customer_a.pk, "project": project_a.pk, "name": "海康平台",
                                   "auto_close_recovered": False}, format="json")
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    plain = body["key"]
    assert plain.startswith("ask_") and body["prefix"] == plain[:12] and body["endpoint"].endswith(ALARMS_URL)
    key = IntegrationKey.objects.get(name="海康平台")
    assert key.key_hash == hashlib.sha256(plain.encode()).hexdigest() and key.project == project_a
    assert not key.auto_close_recovered and key.created_by == admin_user
    assert plain not in str(list(IntegrationKey.objects.values()))  # only the hash is stored
    listing = api.get(KEYS_URL)
    assert listing.status_code == 200 and plain not in listing.content.decode()
    assert "key_hash" not in listing.json()["results"][0] and key.key_hash not in listing.content.decode()
    # it works, until it is deactivated
    assert raise_alarm(plain, {"serial": device.serial_number}).status_code == 201
    deactivated = api.post(reverse("integration-key-deactivate", args=[key.pk]))
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    assert raise_alarm(plain, {"serial": device.serial_number}, time="2026-11-26T10:05:00+08:00").status_code == 401
    assert api.post(reverse("integration-key-deactivate", args=[key.pk])).status_code == 200  # twice: no change


def test_key_input_is_checked(admin_user, customer_a, project_b):
    api = api_as(admin_user)
    response = api.post(KEYS_URL, {"customer": customer_a.pk, "project": project_b.pk, "name": "x"}, format="json")
    assert response.status_code == 400 and response.json()["fields"]["project"] == ["项目必须属于该客户。"]
    response = api.post(KEYS_URL, {"customer": customer_a.pk, "name": "  "}, format="json")
    assert response.status_code == 400 and "name" in response.json()["fields"]
    assert api.post(KEYS_URL, {"name": "x"}, format="json").status_code == 400
    assert not IntegrationKey.objects.exists()


@pytest.fixture
def key_admin_a(branch_a):
    """A branch's administrator of keys (not a superuser): scoped to branch A."""
    user = StaffFactory(username="keys_a", branch=branch_a, position=Position.DISPATCHER, role=roles.DISPATCHER)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="intake", codename__in=["view_integrationkey", "add_integrationkey",
                                                        "change_integrationkey"]))
    return user


def test_keys_are_scoped(key_admin_a, admin_user, customer_a, customer_b):
    make_key(customer_a, admin_user, name="天网 A")
    make_key(customer_b, admin_user, name="地铁 B")
    own, foreign = IntegrationKey.objects.get(name="天网 A"), IntegrationKey.objects.get(name="地铁 B")
    api = api_as(key_admin_a)
    assert ids(api.get(KEYS_URL)) == [own.pk]
    assert api.post(reverse("integration-key-deactivate", args=[foreign.pk])).status_code == 404
    assert IntegrationKey.objects.get(pk=foreign.pk).active
    response = api.post(KEYS_URL, {"customer": customer_b.pk, "name": "越权"}, format="json")
    assert response.status_code == 400 and "customer" in response.json()["fields"]
    assert api.post(KEYS_URL, {"customer": customer_a.pk, "name": "天网 A2"}, format="json").status_code == 201
    assert ids(api_as(admin_user).get(KEYS_URL, {"customer": customer_b.pk})) == [foreign.pk]


def test_keys_are_for_administrators(dispatcher, engineer, customer_user_a, admin_user, customer_a):
    make_key(customer_a, admin_user)
    key = IntegrationKey.objects.get()
    for user in (dispatcher, engineer, customer_user_a):
        api = api_as(user)
        assert api.get(KEYS_URL).status_code == 403
        assert api.post(KEYS_URL, {"customer": customer_a.pk, "name": "x"}, format="json").status_code == 403
        assert api.post(reverse("integration-key-deactivate", args=[key.pk])).status_code == 403
    assert IntegrationKey.objects.count() == 1 and IntegrationKey.objects.get().active


# ------------------------------------------------------------------------------------------ schema

@pytest.mark.django_db
def test_the_openapi_schema_documents_the_endpoints_and_their_errors(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    for path, method, codes in [
        ("/api/triage/mail/", "get", {"200", "403"}),
        ("/api/triage/mail/{id}/create-request/", "post", {"201", "400", "403", "404", "409"}),
        ("/api/triage/mail/{id}/append/", "post", {"200", "400", "403", "404", "409"}),
        ("/api/triage/mail/{id}/dismiss/", "post", {"200", "400", "403", "404", "409"}),
        ("/api/triage/unverified/", "get", {"200", "403"}),
        ("/api/triage/unverified/{id}/confirm-reporter/", "post", {"200", "403", "404"}),
        ("/api/alarms/unmatched/", "get", {"200", "403"}),
        ("/api/alarms/unmatched/{id}/map/", "post", {"200", "400", "403", "404", "409"}),
        ("/api/alarms/unmatched/{id}/replay/", "post", {"200", "403", "404", "409"}),
        ("/api/alarms/unmatched/{id}/dismiss/", "post", {"200", "403", "404", "409"}),
        ("/api/integration-keys/", "get", {"200", "403"}),
        ("/api/integration-keys/", "post", {"201", "400", "403"}),
        ("/api/integration-keys/{id}/deactivate/", "post", {"200", "403", "404"}),
    ]:
        assert codes <= set(paths[path][method]["responses"]), (path, method)
    created = paths["/api/integration-keys/"]["post"]["responses"]["201"]
    assert "no-store" in created["description"]
    assert "/api/triage/mail/{id}/" not in paths  # no object is read by id: the lists are the pages' lists
