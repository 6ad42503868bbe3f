"""Issue 22 §3: a replacement unit from our stock leaves the parts ledger in the replace step's own transaction: one
"used" movement linked to the case, at the part's purchase cost, naming the new serial. Out of stock, or from a
location the user may not use, the whole step is refused and nothing is written."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.assets.models import Device
from aftersales.parts import services as parts_services
from aftersales.parts.models import Location, LocationKind, Movement, MovementKind, Part
from aftersales.repairs import services
from aftersales.repairs.models import DeviceReplacement, RepairState, RepairStep

from ..conftest import api_as
from ..factories import StaffFactory, current_version


def url(case):
    return f"/api/repairs/{case.pk}/replace/"


def snapshot():
    """Everything the replace step writes."""
    return (Device.objects.count(), sorted(Device.objects.values_list("pk", "label_code")),
            RepairStep.objects.count(), Movement.objects.count(), DeviceReplacement.objects.count())


@pytest.fixture
def fuse(device_a):
    """A part not tracked by serial number."""
    return Part.objects.create(manufacturer=device_a.manufacturer, part_number="PSU-12V", name="电源模块",
                               purchase_cost=Decimal("45.50"))


@pytest.fixture
def van_a2(branch_a):
    other = StaffFactory(username="engineer2", branch=branch_a, position=Position.ENGINEER, role=roles.ENGINEER)
    return Location.objects.create(kind=LocationKind.VAN, name="马工随车", branch=branch_a, engineer=other)


def test_a_replacement_from_the_van_writes_one_used_movement_linked_to_the_case(case_a, engineer, stocked_van,
                                                                                 spare_camera):
    case = services.replace(case=case_a, by=engineer, version=current_version(case_a), serial="CAM-NEW-1",
                            source="stock", part=spare_camera)  # no location: the engineer's own van
    assert case.state == RepairState.FIXED
    movement = Movement.objects.get(repair_case=case)
    assert (movement.kind, movement.part, movement.location, movement.quantity, movement.unit_cost, movement.serials,
            movement.by, movement.on_hand_change) == (MovementKind.USED, spare_camera, stocked_van, 1,
                                                      Decimal("1280.00"), ["CAM-NEW-1"], engineer, -1)
    assert parts_services.totals(spare_camera, stocked_van).on_hand == 1
    step = RepairStep.objects.get(case=case, kind="replace")
    assert (step.data["movement"], step.data["part"], step.data["location"]) == (movement.pk, spare_camera.pk,
                                                                                 stocked_van.pk)
    assert DeviceReplacement.objects.get(case=case).from_where == stocked_van.name


def test_over_the_api_a_part_not_tracked_by_serial(case_a, engineer, logistics, van_a, fuse):
    parts_services.receive(part=fuse, location=van_a, quantity=3, by=logistics)
    response = api_as(engineer).post(url(case_a), {"version": current_version(case_a), "serial": "NEW-PSU-1",
                                                   "source": "stock", "part": fuse.pk, "location": van_a.pk},
                                     format="json")
    assert response.status_code == 200, response.json()
    movement = Movement.objects.get(repair_case=case_a)
    assert (movement.location, movement.unit_cost, movement.serials) == (van_a, Decimal("45.50"), [])
    assert parts_services.totals(fuse, van_a).on_hand == 2
    row = api_as(logistics).get(f"/api/stock-movements/{movement.pk}/").json()
    assert row["repair_case"] == case_a.pk


def test_out_of_stock_refuses_the_whole_step_and_writes_nothing(case_a, engineer, van_a, spare_camera):
    before, version = snapshot(), current_version(case_a)
    with pytest.raises(parts_services.OutOfStock):
        services.replace(case=case_a, by=engineer, version=version, serial="CAM-NEW-2", source="stock",
                         part=spare_camera, location=van_a)
    assert snapshot() == before
    response = api_as(engineer).post(url(case_a), {"version": version, "serial": "CAM-NEW-2", "source": "stock",
                                                   "part": spare_camera.pk}, format="json")
    body = response.json()
    assert (response.status_code, body["code"], list(body["fields"])) == (409, "out_of_stock", ["part"])
    assert snapshot() == before
    case_a.refresh_from_db()
    assert (case_a.state, case_a.version, case_a.replaced_by) == (RepairState.DIAGNOSING, version, None)


def test_a_location_the_user_may_not_use_is_refused(case_a, engineer, spare_camera, logistics, van_a2):
    parts_services.receive(part=spare_camera, location=van_a2, quantity=1, by=logistics, serials=["SP-9"])
    before = snapshot()
    response = api_as(engineer).post(url(case_a), {"version": current_version(case_a), "serial": "CAM-NEW-3",
                                                   "source": "stock", "part": spare_camera.pk,
                                                   "location": van_a2.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "wrong_location")
    assert snapshot() == before
    assert parts_services.totals(spare_camera, van_a2).on_hand == 1


@pytest.mark.parametrize(("extra", "field"), [
    ({"source": "customer", "part": True}, "part"),
    ({"source": "vendor", "location": True}, "location"),
    ({"source": "stock"}, "part"),  # from stock, the part is required
])
def test_part_and_location_only_from_stock(extra, field, case_a, engineer, stocked_van, spare_camera):
    body = {"version": current_version(case_a), "serial": "CAM-NEW-4", **extra}
    if body.get("part"):
        body["part"] = spare_camera.pk
    if body.get("location"):
        body["location"] = stocked_van.pk
    before = snapshot()
    response = api_as(engineer).post(url(case_a), body, format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, [field]), response.json()
    assert snapshot() == before


def test_stock_without_a_van_or_location_names_the_location(case_a, dispatcher, spare_camera):
    with pytest.raises(services.DomainError) as refused:
        services.replace(case=case_a, by=dispatcher, version=current_version(case_a), serial="CAM-NEW-5",
                         source="stock", part=spare_camera)
    assert refused.value.field == "location"


def test_the_pages_link_the_case_and_its_movement(client, case_a, engineer, logistics, customer_user_a, stocked_van,
                                                  spare_camera):
    client.force_login(engineer)
    form = client.get(reverse("repairs:replace", args=[case_a.pk])).content.decode()
    assert "张工随车" in form  # the own van is the default
    response = client.post(reverse("repairs:replace", args=[case_a.pk]), {
        "version": current_version(case_a), "serial": "CAM-NEW-6", "source": "stock", "part": spare_camera.pk})
    assert response.status_code == 302, response.content.decode()
    movement = Movement.objects.get(repair_case=case_a)
    client.force_login(logistics)
    case_page = client.get(case_a.get_absolute_url()).content.decode()
    assert f'data-movement="{movement.pk}"' in case_page and movement.get_absolute_url() in case_page
    assert "1280.00" in case_page
    movement_page = client.get(movement.get_absolute_url()).content.decode()
    assert case_a.get_absolute_url() in movement_page and case_a.number in movement_page
    client.force_login(customer_user_a)
    customer_page = client.get(case_a.get_absolute_url()).content.decode()
    assert spare_camera.name in customer_page and "¥1280.00" not in customer_page  # the movement without our cost
    sheet = case_a.charge_sheet  # the customer's charge sheet, without our cost column
    assert f'data-total="{sheet.customer_total}"' in customer_page and "我方成本" not in customer_page
    assert "我方成本" in case_page


def test_the_form_refuses_a_part_when_the_unit_is_not_from_stock(client, case_a, engineer, spare_camera):
    client.force_login(engineer)
    before = snapshot()
    response = client.post(reverse("repairs:replace", args=[case_a.pk]), {
        "version": current_version(case_a), "serial": "CAM-NEW-7", "source": "customer", "part": spare_camera.pk})
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()  # the form, with its error
    assert snapshot() == before
