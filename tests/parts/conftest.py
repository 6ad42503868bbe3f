"""The stock world of the parts tests: a manufacturer's catalogue, branch A's main warehouse and its engineer's van,
branch B's warehouse, and logistics clerks of both branches."""

from decimal import Decimal

import pytest

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.parts.models import Location, LocationKind, Part

from ..factories import ManufacturerFactory, StaffFactory


@pytest.fixture
def logistics(branch_a):
    return StaffFactory(username="logistics", branch=branch_a, position=Position.LOGISTICS, role=roles.LOGISTICS)


@pytest.fixture
def logistics_b(branch_b):
    return StaffFactory(username="logistics_b", branch=branch_b, position=Position.LOGISTICS, role=roles.LOGISTICS)


@pytest.fixture
def engineer2(branch_a):
    return StaffFactory(username="engineer2", branch=branch_a, position=Position.ENGINEER, role=roles.ENGINEER)


@pytest.fixture
def hikvision(db):
    return ManufacturerFactory(name="海康威视")


@pytest.fixture
def hdd(hikvision):
    return Part.objects.create(manufacturer=hikvision, part_number="ST4000VX015", name="监控硬盘 4TB",
                               purchase_cost=Decimal("520.00"))


@pytest.fixture
def camera_module(hikvision):
    return Part.objects.create(manufacturer=hikvision, part_number="DS-2CD3T46-MOD", name="摄像机机芯模组",
                               purchase_cost=Decimal("860.00"), serial_tracked=True, unit="unit")


@pytest.fixture
def warehouse_a(branch_a):
    return Location.objects.create(kind=LocationKind.WAREHOUSE, name="银川仓库", branch=branch_a, is_main=True)


@pytest.fixture
def warehouse_b(branch_b):
    return Location.objects.create(kind=LocationKind.WAREHOUSE, name="上海仓库", branch=branch_b, is_main=True)


@pytest.fixture
def van_a(engineer, branch_a):
    return Location.objects.create(kind=LocationKind.VAN, name="张工随车", branch=branch_a, engineer=engineer)


@pytest.fixture
def van_a2(engineer2, branch_a):
    return Location.objects.create(kind=LocationKind.VAN, name="马工随车", branch=branch_a, engineer=engineer2)
