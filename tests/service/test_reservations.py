"""REP-2 (issue 22 §5): a work order planned with parts reserves them. Logistics set parts aside for a request (page
or API); the job uses them first (work-order part lines, the van page); what is left is released in the transaction
that ends the request — closed by the customer, cancelled by the desk, or closed by an alarm's recovery — so a
reservation never outlives its job and available stock never drifts."""

import pytest
from django.urls import reverse

from aftersales.parts import services as stock
from aftersales.parts.models import Movement, MovementKind
from aftersales.service import verbs
from aftersales.service.models import Channel, Priority
from aftersales.service.part_lines import PartLine

from ..factories import current_version
from .test_work_order_parts import (  # noqa: F401 - fixtures
    adapter, clerk, client, engineer2, hikvision, job, module, stocked, submit, van, van2,
)


def totals(part, location):
    t = stock.totals(part, location)
    return t.on_hand, t.reserved, t.available


def test_the_work_order_uses_the_units_reserved_for_its_request_and_closing_releases_the_rest(
        job, engineer, clerk, stocked, van, adapter, customer_user_a):
    reservation = stock.reserve(part=adapter, location=van, quantity=2, by=clerk, request=job)
    assert totals(adapter, van) == (3, 2, 1)
    work_order = submit(job, engineer, [PartLine(adapter, 1)])
    used = Movement.objects.get(work_order=work_order)
    assert (used.reservation, used.reserved_change) == (reservation, -1)
    assert totals(adapter, van) == (2, 1, 1)  # one left reserved for the job, the other unit still free
    verbs.confirm_work_order(work_order=work_order, by=customer_user_a, via="portal", version=current_version(work_order))
    released = Movement.objects.get(kind=MovementKind.RELEASED)
    assert (released.reservation, released.quantity, released.by, released.request) == (reservation, 1,
                                                                                           customer_user_a, job)
    assert totals(adapter, van) == (2, 0, 2) and stock.outstanding(reservation) == 0


def test_units_reserved_for_one_job_are_not_available_to_another(frozen_clock, job, engineer, clerk, dispatcher,
                                                                 project_a, stocked, van, adapter):
    stock.reserve(part=adapter, location=van, quantity=3, by=clerk, request=job)
    other = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel=Channel.PHONE,
                               title="西门无画面", description="适配器")
    other = verbs.reply(request=other, by=dispatcher, version=current_version(other), mode="remote", plan="更换")
    with pytest.raises(stock.OutOfStock) as refused:
        submit(other, engineer, [PartLine(adapter, 1)])
    assert refused.value.field == "parts.0.quantity"
    submit(job, engineer, [PartLine(adapter, 3)])
    assert totals(adapter, van) == (0, 0, 0)


def test_cancelling_the_request_releases_what_was_reserved(job, dispatcher, clerk, stocked, van, adapter):
    stock.reserve(part=adapter, location=van, quantity=2, by=clerk, request=job)
    verbs.cancel(request=job, by=dispatcher, version=current_version(job), reason="客户撤回")
    assert totals(adapter, van) == (3, 0, 3)
    assert Movement.objects.get(kind=MovementKind.RELEASED).by == dispatcher


def test_an_alarms_recovery_releases_them_with_nobody_as_the_actor(frozen_clock, dispatcher, clerk, project_a,
                                                                   stocked, van, adapter):
    opened = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel=Channel.PHONE,
                                title="离线告警", description="设备离线")
    stock.reserve(part=adapter, location=van, quantity=1, by=clerk, request=opened)
    verbs.close_as_recovered(request=opened, text="设备已恢复在线")
    released = Movement.objects.get(kind=MovementKind.RELEASED)
    assert (released.by, released.quantity) == (None, 1) and released.reason
    assert totals(adapter, van) == (3, 0, 3)


def test_logistics_reserve_from_the_request_page_and_release_on_the_movement_page(client, job, clerk, stocked, van,
                                                                                   adapter):
    client.force_login(clerk)
    page = client.get(job.get_absolute_url()).content.decode()
    reserve_url = f"{reverse('parts:reserve')}?request={job.pk}"
    assert reserve_url in page
    form = client.get(reserve_url).content.decode()
    assert f'value="{job.number}"' in form
    refused = client.post(reverse("parts:reserve"), {"request": "SR-NOPE", "part": adapter.pk, "location": van.pk,
                                                     "quantity": 1})
    assert refused.status_code == 200 and "No request of yours has this number." in refused.content.decode()
    too_many = client.post(reverse("parts:reserve"), {"request": job.number, "part": adapter.pk, "location": van.pk,
                                                      "quantity": 9})
    assert too_many.status_code == 409 and not Movement.objects.filter(kind=MovementKind.RESERVED).exists()
    response = client.post(reverse("parts:reserve"), {"request": job.number.lower(), "part": adapter.pk,
                                                      "location": van.pk, "quantity": 2})
    assert response.status_code == 302 and response["Location"].endswith("#reservations")
    reservation = Movement.objects.get(kind=MovementKind.RESERVED)
    page = client.get(job.get_absolute_url()).content.decode()
    assert f'data-movement="{reservation.pk}"' in page and "× 2" in page
    client.post(reservation.get_absolute_url(), {"release": "1", "release_reason": "计划变更"})
    assert totals(adapter, van) == (3, 0, 3)
    assert f'data-movement="{reservation.pk}"' not in client.get(job.get_absolute_url()).content.decode()
