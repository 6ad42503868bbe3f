"""REP-2 over the API: the verbs as actions, their refusals in the one error body (code, detail, fields), the stock
computed per request, the ledger read in keyset pages, and the scoping: a branch's staff see their branch's
locations, see-all roles everything, customers nothing."""

from decimal import Decimal

import pytest

from aftersales.parts import services
from aftersales.parts.models import Movement, Part

from ..conftest import api_as

pytestmark = pytest.mark.django_db

MOVE = "/api/stock-movements/"


def post(user, path, body):
    return api_as(user).post(path, body, format="json")


def test_receive_then_use_through_the_api(logistics, engineer, hdd, van_a):
    received = post(logistics, f"{MOVE}receive/", {"part": hdd.pk, "location": van_a.pk, "quantity": 3,
                                                   "unit_cost": "510.00", "supplier": "宁夏信达"})
    assert received.status_code == 201, received.json()
    assert (received.json()["kind"], received.json()["unit_cost"], received.json()["on_hand_change"]) == (
        "received", "510.00", 3)
    used = post(engineer, f"{MOVE}use/", {"part": hdd.pk, "location": van_a.pk, "quantity": 2})
    assert used.status_code == 201
    body = used.json()
    assert (body["kind"], body["quantity"], body["unit_cost"], body["total_cost"], body["by"]) == (
        "used", 2, "520.00", "1040.00", engineer.pk)
    stock = api_as(logistics).get("/api/stock/", {"location": van_a.pk}).json()["results"]
    assert [(row["on_hand"], row["reserved"], row["available"]) for row in stock] == [(1, 0, 1)]


def test_out_of_stock_is_a_409_with_code_detail_and_field(logistics, engineer, hdd, van_a):
    services.receive(part=hdd, location=van_a, quantity=1, by=logistics)
    answer = post(engineer, f"{MOVE}use/", {"part": hdd.pk, "location": van_a.pk, "quantity": 2})
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "out_of_stock"
    assert "1" in body["detail"] and body["fields"] == {"quantity": [body["detail"]]}
    assert Movement.objects.filter(kind="used").count() == 0


@pytest.mark.parametrize("quantity", [0, -2, "x", 1.5, None])
def test_a_bad_quantity_is_a_400_naming_the_field(quantity, logistics, hdd, warehouse_a):
    answer = post(logistics, f"{MOVE}receive/", {"part": hdd.pk, "location": warehouse_a.pk, "quantity": quantity})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid" and "quantity" in answer.json()["fields"]
    assert not Movement.objects.exists()


def test_a_location_outside_the_callers_scope_does_not_exist_for_them(logistics, hdd, warehouse_b):
    answer = post(logistics, f"{MOVE}receive/", {"part": hdd.pk, "location": warehouse_b.pk, "quantity": 1})
    assert answer.status_code == 400 and "location" in answer.json()["fields"]
    assert not Movement.objects.exists()


def test_an_engineer_using_a_warehouse_part_is_refused_wrong_location(logistics, engineer, hdd, warehouse_a):
    services.receive(part=hdd, location=warehouse_a, quantity=2, by=logistics)
    answer = post(engineer, f"{MOVE}use/", {"part": hdd.pk, "location": warehouse_a.pk, "quantity": 1})
    assert (answer.status_code, answer.json()["code"]) == (403, "wrong_location")
    assert list(answer.json()["fields"]) == ["location"]


def test_an_inactive_part_is_refused_inactive_part(logistics, hdd, warehouse_a):
    Part.objects.filter(pk=hdd.pk).update(active=False)
    answer = post(logistics, f"{MOVE}receive/", {"part": hdd.pk, "location": warehouse_a.pk, "quantity": 1})
    assert (answer.status_code, answer.json()["code"], list(answer.json()["fields"])) == (409, "inactive_part", ["part"])


def test_engineers_and_the_desk_cannot_run_logistics_verbs(engineer, dispatcher, hdd, warehouse_a):
    for user in (engineer, dispatcher):
        answer = post(user, f"{MOVE}receive/", {"part": hdd.pk, "location": warehouse_a.pk, "quantity": 1})
        assert (answer.status_code, answer.json()["code"]) == (403, "permission_denied")
    answer = post(dispatcher, f"{MOVE}use/", {"part": hdd.pk, "location": warehouse_a.pk, "quantity": 1})
    assert answer.status_code == 403


def test_customers_see_nothing_of_the_stock(customer_user_a, logistics, hdd, warehouse_a):
    services.receive(part=hdd, location=warehouse_a, quantity=1, by=logistics)
    client = api_as(customer_user_a)
    for path in ("/api/parts/", "/api/stock-locations/", "/api/stock/", "/api/stock/low/", MOVE,
                 f"/api/parts/{hdd.pk}/", f"{MOVE}{Movement.objects.get().pk}/"):
        answer = client.get(path)
        assert (answer.status_code, answer.json()["code"]) == (403, "permission_denied"), path


def test_a_branch_sees_its_own_locations_and_stock_and_a_see_all_role_everything(
        logistics, logistics_b, general_manager, hdd, warehouse_a, warehouse_b):
    services.receive(part=hdd, location=warehouse_a, quantity=1, by=logistics)
    services.receive(part=hdd, location=warehouse_b, quantity=2, by=logistics_b)
    names = {row["name"] for row in api_as(logistics).get("/api/stock-locations/").json()["results"]}
    assert names == {warehouse_a.name}
    assert [row["on_hand"] for row in api_as(logistics).get("/api/stock/").json()["results"]] == [1]
    assert len(api_as(logistics).get(MOVE).json()["results"]) == 1
    foreign = Movement.objects.get(location=warehouse_b)
    assert api_as(logistics).get(f"{MOVE}{foreign.pk}/").status_code == 404
    assert len(api_as(general_manager).get("/api/stock/").json()["results"]) == 2


def test_transfer_reserve_release_and_reverse(logistics, hdd, warehouse_a, van_a):
    services.receive(part=hdd, location=warehouse_a, quantity=5, by=logistics)
    moved = post(logistics, f"{MOVE}transfer/", {"part": hdd.pk, "source": warehouse_a.pk, "destination": van_a.pk,
                                                 "quantity": 2})
    assert moved.status_code == 201
    out, into = moved.json()
    assert (out["kind"], out["location"], into["kind"], into["location"], into["pair"]) == (
        "transfer_out", warehouse_a.pk, "transfer_in", van_a.pk, out["id"])
    reserved = post(logistics, f"{MOVE}reserve/", {"part": hdd.pk, "location": warehouse_a.pk, "quantity": 3})
    assert reserved.status_code == 201
    short = post(logistics, f"{MOVE}reserve/", {"part": hdd.pk, "location": warehouse_a.pk, "quantity": 1})
    assert (short.status_code, short.json()["code"]) == (409, "out_of_stock")
    released = post(logistics, f"{MOVE}release/", {"reservation": reserved.json()["id"], "quantity": 1})
    assert (released.status_code, released.json()["reserved_change"]) == (201, -1)
    reversed_rows = post(logistics, f"{MOVE}{into['id']}/reverse/", {"reason": "调错车"})
    assert reversed_rows.status_code == 201 and {r["kind"] for r in reversed_rows.json()} == {"reversal"}
    again = post(logistics, f"{MOVE}{into['id']}/reverse/", {"reason": "again"})
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")
    no_reason = post(logistics, f"{MOVE}{out['id']}/reverse/", {"reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]


def test_adjust_needs_a_reason_and_cannot_take_reserved_units(logistics, hdd, warehouse_a):
    services.receive(part=hdd, location=warehouse_a, quantity=2, by=logistics)
    services.reserve(part=hdd, location=warehouse_a, quantity=2, by=logistics)
    no_reason = post(logistics, f"{MOVE}adjust/", {"part": hdd.pk, "location": warehouse_a.pk, "change": -1})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    zero = post(logistics, f"{MOVE}adjust/", {"part": hdd.pk, "location": warehouse_a.pk, "change": 0, "reason": "盘点"})
    assert zero.status_code == 400 and "change" in zero.json()["fields"]
    taken = post(logistics, f"{MOVE}adjust/", {"part": hdd.pk, "location": warehouse_a.pk, "change": -1,
                                               "reason": "盘亏"})
    assert (taken.status_code, taken.json()["code"], list(taken.json()["fields"])) == (409, "out_of_stock", ["change"])


def test_defective_units_and_the_rma(logistics, engineer, hdd, van_a):
    kept = post(engineer, f"{MOVE}return-defective/", {"part": hdd.pk, "location": van_a.pk, "quantity": 1,
                                                       "reference": "客户拆回"})
    assert (kept.status_code, kept.json()["defective_change"]) == (201, 1)
    shipped = post(logistics, f"{MOVE}send-to-rma/", {"part": hdd.pk, "location": van_a.pk, "quantity": 1,
                                                      "reference": "RMA-88"})
    assert (shipped.status_code, shipped.json()["defective_change"]) == (201, -1)
    none_left = post(logistics, f"{MOVE}send-to-rma/", {"part": hdd.pk, "location": van_a.pk, "quantity": 1})
    assert (none_left.status_code, none_left.json()["code"]) == (409, "out_of_stock")


def test_the_low_stock_list_and_the_level_action(logistics, engineer, hdd, van_a):
    services.receive(part=hdd, location=van_a, quantity=4, by=logistics)
    level = post(logistics, "/api/stock/level/", {"part": hdd.pk, "location": van_a.pk, "minimum": 5, "target": 9})
    assert level.status_code == 200
    assert (level.json()["is_low"], level.json()["to_order"]) == (True, 5)
    low = api_as(logistics).get("/api/stock/low/").json()["results"]
    assert [(row["part"], row["location"], row["to_order"]) for row in low] == [(hdd.pk, van_a.pk, 5)]
    bad = post(logistics, "/api/stock/level/", {"part": hdd.pk, "location": van_a.pk, "minimum": 5, "target": 1})
    assert bad.status_code == 400 and "target" in bad.json()["fields"]
    assert post(engineer, "/api/stock/level/", {"part": hdd.pk, "location": van_a.pk, "minimum": 1,
                                                "target": 2}).status_code == 403


def test_the_movement_list_is_keyset_paged_and_filtered(logistics, hdd, camera_module, warehouse_a):
    for _ in range(3):
        services.receive(part=hdd, location=warehouse_a, quantity=1, by=logistics)
    services.adjust(part=hdd, location=warehouse_a, change=-1, reason="盘亏", by=logistics)
    client = api_as(logistics)
    first = client.get(MOVE, {"page_size": 2}).json()
    assert [row["kind"] for row in first["results"]] == ["adjusted", "received"] and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and "count" not in second
    assert {row["kind"] for row in client.get(MOVE, {"kind": "adjusted"}).json()["results"]} == {"adjusted"}
    assert client.get(MOVE, {"part": camera_module.pk}).json()["results"] == []


def test_logistics_add_and_edit_parts_and_engineers_read_them(logistics, engineer, hikvision):
    body = {"manufacturer": hikvision.pk, "part_number": "DS-2FA1202", "name": "电源适配器 12V", "unit": "piece",
            "purchase_cost": "45.00", "serial_tracked": False}
    created = post(logistics, "/api/parts/", body)
    assert created.status_code == 201, created.json()
    twice = post(logistics, "/api/parts/", body)
    assert twice.status_code == 400  # one part number per manufacturer
    negative = post(logistics, "/api/parts/", {**body, "part_number": "X", "purchase_cost": "-1"})
    assert negative.status_code == 400 and "purchase_cost" in negative.json()["fields"]
    pk = created.json()["id"]
    assert api_as(logistics).patch(f"/api/parts/{pk}/", {"purchase_cost": "48.00"}, format="json").status_code == 200
    assert Part.objects.get(pk=pk).purchase_cost == Decimal("48.00")
    assert api_as(engineer).get(f"/api/parts/{pk}/").status_code == 200
    assert post(engineer, "/api/parts/", {**body, "part_number": "Y"}).status_code == 403
    assert api_as(logistics).delete(f"/api/parts/{pk}/").status_code == 403  # nobody deletes a part: the ledger
    assert Part.objects.filter(pk=pk).exists()                               # names it; it becomes inactive
