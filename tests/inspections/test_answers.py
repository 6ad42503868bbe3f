"""INS-3: recording a round. Answers per (device, item) with the phone's id and time, stored once however often they
arrive; readings out of range flagged, not refused; required evidence refused with a 400 naming the field; a round
keeps the checklist version it started with; a partly done round is not done."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.core.errors import DomainError
from aftersales.inspections import services
from aftersales.inspections.models import Answer, RoundState

from ..conftest import api_as
from ..factories import current_version
from .conftest import CAMERA_ITEMS, answer, answer_all, items_of, shanghai


def answers_url(round_):
    return reverse("inspectionround-answers", args=[round_.pk])


def test_posting_the_same_client_id_twice_stores_once_and_returns_the_stored_answer(frozen_clock, started_a, engineer):
    check, items = items_of(started_a)
    body = {"client_id": str(uuid.uuid4()), "device": check.device_id, "item": items[0].pk, "passed": True,
            "answered_at": "2026-11-26T09:41:00+08:00", "latitude": 38.48721234, "longitude": 106.2309, "accuracy_m": 12.4}
    api = api_as(engineer)
    first = api.post(answers_url(started_a), body, format="json")
    assert first.status_code == 201, first.json()
    again = api.post(answers_url(started_a), {**body, "passed": False}, format="json")
    assert again.status_code == 200 and again.json() == first.json()
    stored = Answer.objects.get()
    assert stored.answered_at == shanghai(2026, 11, 26, 9, 41) and stored.received_at == shanghai(2026, 11, 26, 10, 0)
    assert (stored.latitude, stored.accuracy_m, stored.passed) == (Decimal("38.487212"), 12, True)
    check.refresh_from_db()
    assert check.checked_at == stored.answered_at and check.latitude == Decimal("38.487212")


def test_a_client_id_used_for_another_item_is_a_conflict(frozen_clock, started_a, engineer):
    check, items = items_of(started_a)
    client_id = uuid.uuid4()
    answer(started_a, engineer, items[0], client_id=client_id, passed=True)
    with pytest.raises(services.Conflict) as refused:
        answer(started_a, engineer, items[2], client_id=client_id, reading=Decimal(40))
    assert refused.value.field == "client_id"


def test_a_reading_out_of_range_is_stored_as_a_finding(frozen_clock, started_a, engineer):
    _check, items = items_of(started_a)
    low, _created = answer(started_a, engineer, items[2], reading=Decimal(12))
    assert low.finding is True and low.reading == Decimal(12)
    failed, _created = answer(started_a, engineer, items[0], passed=False, reading=Decimal("0.5"))
    assert failed.finding is True


@pytest.mark.parametrize(("position", "values", "field"), [
    (1, {"passed": False}, "photo"),  # failed: a photo or a reading
    (2, {"passed": True}, "photo"),  # evidence required
    (1, {}, "passed"),
    (3, {}, "reading"),
])
def test_missing_required_evidence_or_value_is_a_400_naming_the_field_and_writes_nothing(
        frozen_clock, started_a, engineer, position, values, field):
    check, items = items_of(started_a)
    body = {"client_id": str(uuid.uuid4()), "device": check.device_id, "item": items[position - 1].pk, **values}
    response = api_as(engineer).post(answers_url(started_a), body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not Answer.objects.exists()


def test_an_answer_with_its_photo_is_stored_through_the_storage_and_read_through_the_scoped_path(
        frozen_clock, started_a, engineer, photo, client, customer_user_a, customer_user_b):
    check, items = items_of(started_a)
    response = api_as(engineer).post(answers_url(started_a), {
        "client_id": str(uuid.uuid4()), "device": check.device_id, "item": items[1].pk, "passed": "true",
        "photo": photo()}, format="multipart")
    assert response.status_code == 201, response.json()
    stored = Answer.objects.get()
    assert stored.photo.name.startswith(f"inspections/{started_a.pk}/") and stored.photo_type == "image/png"
    client.force_login(customer_user_a)
    assert client.get(response.json()["photo_url"]).status_code == 200
    client.force_login(customer_user_b)
    assert client.get(response.json()["photo_url"]).status_code == 404


def test_a_file_that_is_not_a_photo_is_refused(frozen_clock, started_a, engineer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    check, items = items_of(started_a)
    response = api_as(engineer).post(answers_url(started_a), {
        "client_id": str(uuid.uuid4()), "device": check.device_id, "item": items[1].pk, "passed": "true",
        "photo": SimpleUploadedFile("lens.png", b"%PDF-1.4 not a photo")}, format="multipart")
    assert response.status_code == 400 and "photo" in response.json()["fields"]
    assert not Answer.objects.exists()


def test_of_two_answers_to_one_item_the_later_on_the_phone_is_current(frozen_clock, started_a, engineer):
    _check, items = items_of(started_a)
    late, _ = answer(started_a, engineer, items[2], reading=Decimal(31), answered_at=shanghai(2026, 11, 26, 9, 50))
    early, _ = answer(started_a, engineer, items[2], reading=Decimal(20), answered_at=shanghai(2026, 11, 26, 9, 10))
    assert Answer.objects.get(is_current=True).pk == late.pk and not early.is_current
    newer, _ = answer(started_a, engineer, items[2], reading=Decimal(33), answered_at=shanghai(2026, 11, 26, 9, 55))
    assert list(Answer.objects.filter(is_current=True).values_list("pk", flat=True)) == [newer.pk]


def test_a_round_keeps_the_checklist_version_it_started_with(frozen_clock, started_a, camera_checklist, engineer,
                                                            manager, photo):
    before = started_a.checks.get().checklist
    services.revise_checklist(checklist=camera_checklist, by=manager, version=current_version(camera_checklist),
                              items=[*CAMERA_ITEMS, {"kind": "text", "label": "备注"}], note="加备注")
    camera_checklist.refresh_from_db()
    assert camera_checklist.current.number == 2 and before.number == 1
    assert started_a.checks.get().checklist_id == before.pk
    answer_all(started_a, engineer, photo=photo)  # the three items of version 1 complete it
    done = services.complete_round(round=started_a, by=engineer, version=current_version(started_a))
    assert done.state == RoundState.DONE
    december = started_a.plan.rounds.get(due_on__month=12)
    assert december.state == RoundState.SCHEDULED  # not started: it will take version 2


def test_a_partly_done_round_cannot_be_completed(frozen_clock, started_a, engineer, device_a):
    _check, items = items_of(started_a)
    answer(started_a, engineer, items[0], passed=True)
    with pytest.raises(services.Incomplete):
        services.complete_round(round=started_a, by=engineer, version=current_version(started_a))
    services.skip_device(round=started_a, by=engineer, device=device_a, reason="机房上锁")
    done = services.complete_round(round=started_a, by=engineer, version=current_version(started_a),
                                   completed_at=shanghai(2026, 11, 26, 9, 58), summary="整体运行正常")
    assert done.completed_at == shanghai(2026, 11, 26, 9, 58) and done.completed_received_at == shanghai(2026, 11, 26, 10)


def test_only_the_rounds_engineer_records_it(frozen_clock, started_a, engineer2, manager):
    _check, items = items_of(started_a)
    for user in (engineer2, manager):
        with pytest.raises(DomainError):
            answer(started_a, user, items[0], passed=True)
    assert not Answer.objects.exists()


def test_the_default_checklists_are_seeded_once_per_category(db, manager):
    from aftersales.assets.models import DeviceCategory

    for code, name in [("camera", "摄像机"), ("nvr", "硬盘录像机"), ("switch", "交换机"), ("server", "服务器"),
                       ("access-control", "门禁控制器"), ("ups", "UPS电源")]:
        DeviceCategory.objects.get_or_create(code=code, defaults={"name": name})
    created = services.ensure_default_checklists(by=manager)
    assert sorted(c.category.code for c in created) == ["access-control", "camera", "nvr", "server", "switch"]
    assert services.ensure_default_checklists(by=manager) == []
    nvr = next(c for c in created if c.category.code == "nvr")
    kept = nvr.current.items.get(kind="reading")
    assert kept.min_value == 30 and kept.unit
