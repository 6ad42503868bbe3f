"""Issue 22 §7 (SRQ-7, REP-2): the parts a work order used are lines of the spare-parts ledger — part, quantity,
serial numbers, the location they came from — written in the work order's own transaction, one movement per line at
the part's purchase cost of that moment. A line the ledger refuses refuses the whole work order: nothing is written.
The lines show wherever the work order shows, at a fixed number of queries."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.core.errors import DomainError
from aftersales.notify.models import OutboxMessage
from aftersales.parts import services as stock
from aftersales.parts.models import Location, LocationKind, Movement, MovementKind, Part
from aftersales.service import verbs
from aftersales.service.confirmation import confirmation_token
from aftersales.service.models import (
    Attachment, Channel, EventKind, Priority, ServiceRequest, State, TimelineEvent, WorkOrder,
)
from aftersales.service.part_lines import PartLine

from ..conftest import api_as
from ..factories import ManufacturerFactory, StaffFactory, current_version

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
HTMX = {"HTTP_HX_REQUEST": "true"}


# ------------------------------------------------------------------------------------------ the world

@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # English msgids in the assertions
    return client


@pytest.fixture
def clerk(branch_a):
    return StaffFactory(username="logistics", branch=branch_a, position=Position.LOGISTICS, role=roles.LOGISTICS)


@pytest.fixture
def engineer2(branch_a):
    return StaffFactory(username="engineer2", branch=branch_a, position=Position.ENGINEER, role=roles.ENGINEER)


@pytest.fixture
def hikvision(db):
    return ManufacturerFactory(name="海康威视")


@pytest.fixture
def adapter(hikvision):
    return Part.objects.create(manufacturer=hikvision, part_number="DS-2FA1202-C", name="电源适配器 12V 2A",
                               purchase_cost=Decimal("45.00"))


@pytest.fixture
def module(hikvision):
    return Part.objects.create(manufacturer=hikvision, part_number="DS-2CD3T46-MOD", name="摄像机机芯模组",
                               purchase_cost=Decimal("860.00"), serial_tracked=True, unit="unit")


@pytest.fixture
def van(engineer, branch_a):
    return Location.objects.create(kind=LocationKind.VAN, name="张工随车", branch=branch_a, engineer=engineer)


@pytest.fixture
def van2(engineer2, branch_a):
    return Location.objects.create(kind=LocationKind.VAN, name="马工随车", branch=branch_a, engineer=engineer2)


@pytest.fixture
def warehouse_b(branch_b):
    return Location.objects.create(kind=LocationKind.WAREHOUSE, name="上海仓库", branch=branch_b, is_main=True)


@pytest.fixture
def stocked(clerk, van, van2, adapter, module):
    """The engineer's van holds 3 adapters and 2 camera modules (SN-1, SN-2); the other engineer's van 5 adapters."""
    stock.receive(part=adapter, location=van, quantity=3, by=clerk)
    stock.receive(part=module, location=van, quantity=2, by=clerk, serials=["SN-1", "SN-2"])
    stock.receive(part=adapter, location=van2, quantity=5, by=clerk)


def on_hand(part, location) -> int:
    return stock.totals(part, location).on_hand


@pytest.fixture
def job(frozen_clock, dispatcher, project_a):
    """A request the desk answered remotely: a work order may be submitted now."""
    opened = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.SERIOUS, channel=Channel.PHONE,
                                title="东门摄像机无画面", description="电源适配器疑似损坏")
    return verbs.reply(request=opened, by=dispatcher, version=current_version(opened), mode="remote", plan="更换")


def submit(job, engineer, parts, **fields):
    return verbs.submit_work_order(request=job, by=engineer, version=current_version(job),
                                   actions=fields.pop("actions", "更换电源适配器"), minutes_spent=30, result="solved",
                                   parts=parts, **fields)


def written() -> tuple:
    """What a work order writes: work orders, used movements, timeline lines, outbox messages, attachments."""
    return (WorkOrder.objects.count(), Movement.objects.filter(kind=MovementKind.USED).count(),
            TimelineEvent.objects.count(), OutboxMessage.objects.count(), Attachment.objects.count())


# ------------------------------------------------------------------------------------------ the verb

def test_each_line_is_one_movement_of_the_work_order_at_the_purchase_cost_and_the_stock_goes_down(
        job, engineer, stocked, van, adapter, module):
    work_order = submit(job, engineer, [PartLine(adapter, 2), PartLine(module, 1, ("SN-2",), van)],
                        parts_used="扎带 ×10")
    adapter.purchase_cost = Decimal("50.00")  # a later price does not change what was used
    adapter.save()
    lines = list(Movement.objects.filter(work_order=work_order).order_by("pk"))
    assert [(m.kind, m.part, m.quantity, m.location, m.request_id, m.serials, m.unit_cost, m.by) for m in lines] == [
        (MovementKind.USED, adapter, 2, van, job.pk, [], Decimal("45.00"), engineer),
        (MovementKind.USED, module, 1, van, job.pk, ["SN-2"], Decimal("860.00"), engineer)]
    assert (on_hand(adapter, van), on_hand(module, van)) == (1, 1)
    assert work_order.parts_used == "扎带 ×10"
    resolved = TimelineEvent.objects.get(request=job, kind=EventKind.RESOLVED)
    assert resolved.data["parts"] == [{"movement": lines[0].pk, "part": str(adapter), "quantity": 2},
                                      {"movement": lines[1].pk, "part": str(module), "quantity": 1}]


def test_out_of_stock_refuses_the_whole_work_order_and_writes_nothing(job, engineer, stocked, van, adapter, module):
    before, version = written(), current_version(job)
    with pytest.raises(stock.OutOfStock) as refused:
        submit(job, engineer, [PartLine(module, 1, ("SN-1",)), PartLine(adapter, 4)])
    assert refused.value.field == "parts.1.quantity" and refused.value.status == 409
    assert written() == before
    job.refresh_from_db()
    assert (job.state, job.version) == (State.REPLIED, version)
    assert (on_hand(adapter, van), on_hand(module, van)) == (3, 2)


def test_a_location_the_engineer_may_not_use_is_refused(job, engineer, stocked, van2, adapter):
    before = written()
    with pytest.raises(stock.WrongLocation) as refused:
        submit(job, engineer, [PartLine(adapter, 1, (), van2)])
    assert refused.value.field == "parts.0.location" and written() == before


def test_serial_tracked_parts_need_one_serial_per_unit(job, engineer, stocked, module):
    for serials in ((), ("SN-1",)):
        with pytest.raises(DomainError) as refused:
            submit(job, engineer, [PartLine(module, 2, serials)])
        assert refused.value.field == "parts.0.serials"
    assert not WorkOrder.objects.exists()


def test_without_a_van_the_location_must_be_named(job, engineer2, stocked, adapter):
    Location.objects.filter(engineer=engineer2).update(engineer=None, kind=LocationKind.WAREHOUSE)
    with pytest.raises(DomainError) as refused:
        submit(job, engineer2, [PartLine(adapter, 1)])
    assert refused.value.field == "parts.0.location" and not WorkOrder.objects.exists()


# ------------------------------------------------------------------------------------------ the engineer's form

def form_data(job, **fields):
    return {"version": current_version(job), "actions": "更换电源适配器", "minutes_spent": 30, "result": "solved",
            **fields}


def test_the_form_offers_the_van_first_and_only_locations_the_engineer_may_use(client, job, engineer, stocked, van,
                                                                               van2, adapter, warehouse_b):
    client.force_login(engineer)
    page = client.get(reverse("service:work_order", args=[job.pk])).content.decode()
    assert 'name="part_1"' in page and 'name="part_3"' in page and "Parts note" in page
    assert "In my van" in page and "电源适配器 12V 2A · DS-2FA1202-C — 3 in the van" in page
    assert f'<option value="{van.pk}" selected>张工随车</option>' in page
    assert "马工随车" not in page and "上海仓库" not in page
    response = client.post(reverse("service:work_order", args=[job.pk]),
                           form_data(job, part_1=adapter.pk, quantity_1=1, location_1=van2.pk))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not WorkOrder.objects.exists()


def test_an_engineer_without_a_van_gets_the_note_only(client, job, engineer, adapter):
    client.force_login(engineer)
    page = client.get(reverse("service:work_order", args=[job.pk])).content.decode()
    assert 'name="part_1"' not in page and "You have no stock to take catalogue parts from" in page
    response = client.post(reverse("service:work_order", args=[job.pk]),
                           form_data(job, part_1=adapter.pk, quantity_1=1, parts_used="电源适配器 ×1(客户自备)"))
    assert response.status_code == 302
    assert WorkOrder.objects.get().parts_used == "电源适配器 ×1(客户自备)" and not Movement.objects.exists()


def test_the_form_costs_the_same_queries_for_a_small_or_a_big_catalogue(client, job, engineer, clerk, van, stocked,
                                                                      hikvision):
    client.force_login(engineer)
    pages = [reverse("service:work_order", args=[job.pk]), job.get_absolute_url()]

    def counts():
        for url in pages:
            client.get(url)  # warm
        counted = []
        for url in pages:
            with CaptureQueriesContext(connection) as captured:
                assert 'name="part_1"' in client.get(url).content.decode()
            counted.append(len(captured))
        return counted

    small = counts()
    for n in range(12):
        part = Part.objects.create(manufacturer=hikvision, part_number=f"P-{n}", name=f"备件 {n}",
                                   purchase_cost=Decimal("1.00"))
        stock.receive(part=part, location=van, quantity=1, by=clerk)
    assert counts() == small


def test_the_form_records_its_lines_and_ignores_empty_rows(client, job, engineer, stocked, van, adapter, module):
    client.force_login(engineer)
    response = client.post(reverse("service:work_order", args=[job.pk]), form_data(
        job, part_1=module.pk, quantity_1=1, location_1=van.pk, serials_1="SN-1",
        part_2="", quantity_2=1, location_2=van.pk,
        part_3=adapter.pk, quantity_3=2, location_3=van.pk, parts_used="扎带 ×10"))
    assert response.status_code == 302
    work_order = WorkOrder.objects.get()
    assert [(m.part, m.quantity, m.serials) for m in Movement.objects.filter(work_order=work_order).order_by("pk")] == [
        (module, 1, ["SN-1"]), (adapter, 2, [])]
    assert work_order.parts_used == "扎带 ×10"


def test_out_of_stock_on_the_form_is_said_under_its_line_and_nothing_is_kept(client, job, engineer, stocked, van,
                                                                            adapter, module):
    client.force_login(engineer)
    before, version = written(), current_version(job)
    screenshot = SimpleUploadedFile("after.png", PNG, content_type="image/png")
    data = form_data(job, part_1=module.pk, quantity_1=1, location_1=van.pk, serials_1="SN-1",
                     part_2=adapter.pk, quantity_2=4, location_2=van.pk, attachments=screenshot)
    response = client.post(reverse("service:work_order", args=[job.pk]), data, **HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    row = page.split('data-row="2"')[1].split('data-row="3"')[0]
    assert "Out of stock: 3 piece of 电源适配器 12V 2A DS-2FA1202-C available at 张工随车, 4 wanted." in row
    assert "border-danger" in page.split('data-row="2"')[0].rsplit("<div", 1)[1]
    assert written() == before and not ServiceRequest.objects.filter(pk=job.pk).exclude(version=version).exists()
    stored = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file() and "kept" not in p.parts]
    assert stored == []  # only the copy kept for the form's next try, never an attachment


def test_serials_missing_on_the_form_are_said_under_the_serials(client, job, engineer, stocked, van, module):
    client.force_login(engineer)
    response = client.post(reverse("service:work_order", args=[job.pk]),
                           form_data(job, part_1=module.pk, quantity_1=2, location_1=van.pk, serials_1="SN-1"))
    page = response.content.decode()
    assert response.status_code == 200 and "Give one serial number per unit: 1 for a quantity of 2." in page
    assert not WorkOrder.objects.exists()


def test_a_row_with_serials_but_no_part_or_a_part_without_quantity_is_an_error(client, job, engineer, stocked, van,
                                                                                adapter):
    client.force_login(engineer)
    response = client.post(reverse("service:work_order", args=[job.pk]),
                           form_data(job, serials_1="SN-9", part_2=adapter.pk, quantity_2="", location_2=van.pk))
    page = response.content.decode()
    assert "Choose the part these serial numbers belong to." in page and "Give the quantity." in page
    assert not WorkOrder.objects.exists()


# ------------------------------------------------------------------------------------------ where the lines show

def queries(client, url) -> tuple[int, int]:
    """The page's queries once the worker's caches are warm (as in production), and how many of them read the
    ledger: one for the lines of all the page's work orders, and on the staff's request page one more for the parts
    still reserved for the request."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    ledger = [query["sql"].count('"parts_movement"') > 0 for query in captured].count(True)
    assert ledger in (1, 2), url
    return len(captured), ledger


def test_the_lines_show_on_the_request_and_confirmation_pages_at_a_fixed_query_count(
        client, job, engineer, customer_user_a, stocked, van, adapter, module, django_assert_max_num_queries):
    first = submit(job, engineer, [PartLine(adapter, 1)], parts_used="扎带 ×10")
    pages = {
        "request page (staff)": (engineer, job.get_absolute_url()),
        "request page (customer)": (customer_user_a, job.get_absolute_url()),
        "portal confirmation": (customer_user_a, reverse("service:confirm", args=[job.pk])),
        "signature on screen": (engineer, reverse("service:sign", args=[job.pk])),
    }
    link = reverse("service:confirm_by_link", args=[confirmation_token(first)])
    few = {}
    for name, (user, url) in pages.items():
        client.force_login(user)
        few[name] = queries(client, url)
        page = client.get(url).content.decode()
        assert "电源适配器 12V 2A" in page and "×1" in page and "张工随车" in page, name
        assert "Parts note" in page and "扎带 ×10" in page, name
    client.logout()
    few["link"] = queries(client, link)
    assert "电源适配器 12V 2A" in client.get(link).content.decode()

    # more work orders with more lines: the same number of queries
    verbs.reject_work_order(work_order=first, by=customer_user_a, version=current_version(first), via="portal",
                            reason="还是不亮")
    verbs.submit_work_order(request=job, by=engineer, version=current_version(job), actions="再次更换", minutes_spent=20,
                            result="solved", parts=[PartLine(adapter, 1), PartLine(module, 2, ("SN-1", "SN-2")),
                                                    PartLine(adapter, 1)])
    second = WorkOrder.objects.latest("pk")
    for name, (user, url) in pages.items():
        client.force_login(user)
        assert queries(client, url) == few[name], name
        page = client.get(url).content.decode()
        assert "SN-1, SN-2" in page, name
    client.logout()
    link = reverse("service:confirm_by_link", args=[confirmation_token(second)])
    assert queries(client, link) == few["link"]
    assert "SN-1, SN-2" in client.get(link).content.decode()
    client.force_login(customer_user_a)
    with django_assert_max_num_queries(18):  # as measured with 1 work order of 1 line, and 2 of 1 and 3 lines; 2 for
        # their charge sheets and lines (billing.services.attach); 1 for the related knowledge (issue 25 §6)
        client.get(job.get_absolute_url())


def test_a_reversed_line_shows_as_corrected(client, job, engineer, clerk, stocked, adapter):
    work_order = submit(job, engineer, [PartLine(adapter, 1)])
    stock.reverse(movement=Movement.objects.get(work_order=work_order), by=clerk, reason="录错")
    client.force_login(engineer)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "text-decoration-line-through" in page and "corrected" in page


def test_the_timeline_names_the_parts_used(client, job, engineer, dispatcher, stocked, adapter):
    submit(job, engineer, [PartLine(adapter, 2)])
    client.force_login(dispatcher)
    assert "Parts used: 电源适配器 12V 2A DS-2FA1202-C ×2" in client.get(job.get_absolute_url()).content.decode()


# ------------------------------------------------------------------------------------------ the API

def work_orders_url(job) -> str:
    return f"/api/requests/{job.pk}/work-orders/"


def api_body(job, **fields):
    return {"version": current_version(job), "actions": "更换电源适配器", "minutes_spent": 30, "result": "solved",
            **fields}


def test_the_api_takes_part_lines_and_answers_them(job, engineer, stocked, van, adapter, module):
    answer = api_as(engineer).post(work_orders_url(job), api_body(job, parts_used="扎带 ×10", parts=[
        {"part": adapter.pk, "quantity": 2}, {"part": module.pk, "quantity": 1, "serials": ["SN-1"], "location": van.pk}]),
        format="json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["parts_used"] == "扎带 ×10"
    assert [(line["part"], line["quantity"], line["serials"], line["location"], line["location_name"])
            for line in body["parts"]] == [(adapter.pk, 2, [], van.pk, "张工随车"), (module.pk, 1, ["SN-1"], van.pk, "张工随车")]
    assert on_hand(adapter, van) == 1
    shown = api_as(engineer).get(f"/api/work-orders/{body['id']}/").json()
    assert shown["parts"] == body["parts"]


def test_the_api_refuses_out_of_stock_with_409_and_writes_nothing(job, engineer, stocked, adapter):
    before = written()
    answer = api_as(engineer).post(work_orders_url(job), api_body(job, parts=[{"part": adapter.pk, "quantity": 9}]),
                                   format="json")
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "out_of_stock" and body["fields"] == {"parts.0.quantity": [body["detail"]]}
    assert written() == before


def test_the_api_refuses_another_vans_and_another_branchs_locations(job, engineer, stocked, adapter, van2,
                                                                    warehouse_b):
    before = written()
    answer = api_as(engineer).post(work_orders_url(job), api_body(job, parts=[
        {"part": adapter.pk, "quantity": 1, "location": van2.pk}]), format="json")
    assert (answer.status_code, answer.json()["code"]) == (403, "wrong_location")
    answer = api_as(engineer).post(work_orders_url(job), api_body(job, parts=[
        {"part": adapter.pk, "quantity": 1, "location": warehouse_b.pk}]), format="json")
    assert answer.status_code == 400 and "location" in answer.json()["fields"]["parts"]["0"]
    assert written() == before


@pytest.mark.parametrize("parts", ["not json", "{}", json.dumps([{"part": "x"}]), [1], [{"quantity": 1}],
                                   [{"part": 10**30, "quantity": 1}], [{"part": 1, "quantity": 0}]])
def test_bad_part_lines_are_a_400(parts, job, engineer, stocked):
    answer = api_as(engineer).post(work_orders_url(job), api_body(job, parts=parts), format="json")
    assert answer.status_code == 400 and "parts" in answer.json()["fields"]
    assert not WorkOrder.objects.exists()


def test_multipart_takes_the_lines_as_json_text_with_the_screenshots(job, engineer, stocked, adapter, van):
    screenshot = SimpleUploadedFile("after.png", PNG, content_type="image/png")
    answer = api_as(engineer).post(work_orders_url(job), api_body(
        job, parts=json.dumps([{"part": adapter.pk, "quantity": 1}]), attachments=[screenshot]), format="multipart")
    assert answer.status_code == 201, answer.json()
    assert [line["quantity"] for line in answer.json()["parts"]] == [1] and Attachment.objects.count() == 1


def test_the_work_order_list_reads_all_lines_in_one_query(job, engineer, customer_user_a, stocked, adapter):
    api = api_as(customer_user_a)

    def listed():
        api.get("/api/work-orders/")  # warm: permissions, as in production
        with CaptureQueriesContext(connection) as captured:
            rows = api.get("/api/work-orders/").json()["results"]
        return rows, len(captured)

    first = submit(job, engineer, [PartLine(adapter, 1)])
    rows, few = listed()
    assert [len(row["parts"]) for row in rows] == [1]
    verbs.reject_work_order(work_order=first, by=customer_user_a, version=current_version(first), via="portal",
                            reason="还是不亮")
    submit(job, engineer, [PartLine(adapter, 1), PartLine(adapter, 1)])
    rows, more = listed()
    assert [len(row["parts"]) for row in rows] == [2, 1] and more == few


# ------------------------------------------------------------------------------------------ the demo

def test_the_demo_has_a_work_order_with_part_lines_written_through_the_verb(db):
    from aftersales.demo import data

    data.load(devices=20)
    event = TimelineEvent.objects.filter(kind=EventKind.RESOLVED, data__has_key="parts").get()
    work_order = WorkOrder.objects.get(pk=event.data["work_order"])
    lines = Movement.objects.filter(work_order=work_order, kind=MovementKind.USED)
    assert sorted(line["movement"] for line in event.data["parts"]) == sorted(lines.values_list("pk", flat=True))
    assert len(event.data["parts"]) == 2 and work_order.parts_used
