"""Inspections (issue 23 §1, §3): a camera checklist, a monthly plan of customer A's project and the engineer who
does its rounds, and a way to bring a round to a started state through the verbs."""

import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.core import clock
from aftersales.inspections import services
from aftersales.inspections.models import ItemKind

from ..factories import DeviceFactory, StaffFactory, current_version


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=clock.SHANGHAI)


CAMERA_ITEMS = [
    {"kind": ItemKind.PASS_FAIL, "label": "图像清晰"},
    {"kind": ItemKind.PASS_FAIL, "label": "镜头已清洁", "evidence_required": True},
    {"kind": ItemKind.READING, "label": "录像保存天数", "unit": "天", "min_value": Decimal(30), "max_value": None},
]


@pytest.fixture
def camera_checklist(device_a, manager):
    return services.create_checklist(by=manager, category=device_a.category, name="摄像机巡检", items=CAMERA_ITEMS)


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def photo():
    """A maker of small PNG uploads (each upload is read once)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return lambda name="lens.png": SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def engineer_b(branch_b):
    return StaffFactory(username="engineer_b", branch=branch_b, position=Position.ENGINEER, role=roles.ENGINEER)


@pytest.fixture
def engineer2(branch_a):
    return StaffFactory(username="engineer2", branch=branch_a, position=Position.ENGINEER, role=roles.ENGINEER)


def make_plan(project, checklist, engineers, by, **extra):
    values = {"name": "月度巡检", "cadence": "monthly", "starts_on": date(2026, 11, 1), **extra}
    return services.create_plan(by=by, project=project, checklists=[checklist], engineers=engineers, **values)


@pytest.fixture
def plan_a(frozen_clock, project_a, device_a, camera_checklist, engineer, manager):
    return make_plan(project_a, camera_checklist, [engineer], manager)


@pytest.fixture
def round_a(plan_a):
    """November 2026's round (due 1 November, window the whole month; the clock says 26 November)."""
    return plan_a.rounds.get(period_start=date(2026, 11, 1))


@pytest.fixture
def started_a(round_a, engineer):
    return services.start_round(round=round_a, by=engineer, version=current_version(round_a),
                                started_at=shanghai(2026, 11, 26, 9, 0))


@pytest.fixture
def plan_b(frozen_clock, project_b, device_b, camera_checklist, engineer_b, general_manager):
    return make_plan(project_b, camera_checklist, [engineer_b], general_manager)


@pytest.fixture
def round_b(plan_b):
    return plan_b.rounds.get(period_start=date(2026, 11, 1))


def items_of(round_):
    check = round_.checks.get()
    return check, list(check.checklist.items.order_by("position"))


def answer(round_, by, item, device=None, **values):
    device = device or round_.checks.get().device
    values.setdefault("client_id", uuid.uuid4())
    return services.record_answer(round=round_, by=by, device=device, item=item, **values)


def answer_all(round_, by, photo=None, at=None):
    for check in round_.checks.all():
        for item in check.checklist.items.order_by("position"):
            values = {"passed": True} if item.kind == ItemKind.PASS_FAIL else {"reading": Decimal(45)}
            if item.evidence_required:
                values["photo"] = photo()
            if at is not None:
                values["answered_at"] = at
            answer(round_, by, item, device=check.device, **values)


def more_cameras(project, n):
    return [DeviceFactory(project=project) for _ in range(n)]
