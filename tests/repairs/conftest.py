"""Repair cases (issue 22 §2-§4): the people who work them and a way to bring a case to any state through the verbs."""

import itertools
from decimal import Decimal

import pytest

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.parts import services as parts_services
from aftersales.parts.models import Location, LocationKind, Part
from aftersales.repairs import services
from aftersales.repairs.models import RepairState

from ..factories import StaffFactory, current_version

_serials = itertools.count(1)


@pytest.fixture
def logistics(branch_a):
    return StaffFactory(username="logistics", branch=branch_a, position=Position.LOGISTICS, role=roles.LOGISTICS)


def valid_input(name: str, case) -> dict:
    """Input each step accepts (the illegal-step tests send valid input, so only the state refuses them)."""
    return {
        "repair_on_site": {},
        "finish_repair": {"note": "更换电源模块"},
        "plan_replacement": {"source": "stock"},
        # from stock, a replacement names its part and location (test_replace_from_stock.py): here the customer's unit
        "replace": {"serial": f"NEW{next(_serials):06d}", "source": "customer", "from_where": "业主备件库"},
        "send_to_vendor": {"rma_number": "RMA-2026-001", "manufacturer": case.device.manufacturer,
                           "carrier": "顺丰速运", "tracking_number": "SF100200300"},
        "return_from_vendor": {"verdict": "repaired"},
        "reinstall": {},
        "rediagnose": {"note": "故障复现"},
        "close": {},
        "cancel": {"reason": "客户撤回"},
    }[name]


# The steps that bring a new case (diagnosing) to each state.
PATH_TO = {
    RepairState.DIAGNOSING: [],
    RepairState.REPAIRING: ["repair_on_site"],
    RepairState.AWAITING_UNIT: ["plan_replacement"],
    RepairState.AT_VENDOR: ["send_to_vendor"],
    RepairState.RETURNED: ["send_to_vendor", "return_from_vendor"],
    RepairState.FIXED: ["repair_on_site", "finish_repair"],
    RepairState.CLOSED: ["repair_on_site", "finish_repair", "close"],
    RepairState.CANCELLED: ["cancel"],
}
assert set(PATH_TO) == set(RepairState.values)


def take(case, name: str, by, **overrides):
    """Take step `name` with valid input, as someone who just loaded the case's page."""
    verb = getattr(services, name)
    return verb(case=case, by=by, version=current_version(case), **{**valid_input(name, case), **overrides})


def bring_to(case, state: str, by):
    for name in PATH_TO[state]:
        case = take(case, name, by)
    assert case.state == state
    return case


@pytest.fixture
def case_a(device_a, dispatcher):
    return services.open_case(by=dispatcher, device=device_a, fault="摄像机无图像")


@pytest.fixture
def case_b(device_b, general_manager):
    return services.open_case(by=general_manager, device=device_b, fault="NVR 不录像")


@pytest.fixture
def spare_camera(device_a):
    """A whole camera kept as a spare part, serial-tracked, at its purchase cost."""
    return Part.objects.create(manufacturer=device_a.manufacturer, part_number="CAM-SPARE-1", name="备用摄像机",
                               unit="unit", purchase_cost=Decimal("1280.00"), serial_tracked=True)


@pytest.fixture
def van_a(engineer, branch_a):
    return Location.objects.create(kind=LocationKind.VAN, name="张工随车", branch=branch_a, engineer=engineer)


@pytest.fixture
def stocked_van(van_a, spare_camera, logistics):
    """Two spare cameras in the engineer's van."""
    parts_services.receive(part=spare_camera, location=van_a, quantity=2, by=logistics, serials=["SP-1", "SP-2"])
    return van_a
