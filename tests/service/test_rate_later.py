"""Issue 21 §4: a customer who confirmed the work without the stars rates it later, once."""

import pytest
from django.urls import reverse

from aftersales.core.errors import IllegalTransition
from aftersales.service import verbs
from aftersales.service.models import EventKind, TimelineEvent, WorkOrder

from ..factories import current_version


@pytest.fixture
def confirmed_without_stars(frozen_clock, customer_user_a, dispatcher, engineer, project_a):
    request_obj = verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                                     title="录像丢失", description="三号 NVR")
    verbs.reply(request=request_obj, by=dispatcher, version=current_version(request_obj), mode="remote", plan="远程")
    work_order = verbs.submit_work_order(request=request_obj, by=engineer, version=current_version(request_obj),
                                         actions="重启", minutes_spent=5, result="solved")
    return verbs.confirm_work_order(work_order=work_order, by=customer_user_a, version=work_order.version,
                                    via="portal")


def test_the_customer_rates_later_from_the_request_page(client, confirmed_without_stars, customer_user_a):
    work_order = confirmed_without_stars
    request_obj = work_order.request
    client.force_login(customer_user_a)
    page = client.get(request_obj.get_absolute_url()).content.decode()
    assert 'class="rate-form"' in page
    url = reverse("service:rate", args=[request_obj.pk])
    refused = client.post(url, {"work_order": work_order.pk, "work_order_version": work_order.version})
    assert refused.status_code == 200 and 'class="rate-form"' in refused.content.decode()  # the stars are the point
    work_order.refresh_from_db()
    assert work_order.satisfaction is None
    response = client.post(url, {"work_order": work_order.pk, "work_order_version": work_order.version,
                                 "satisfaction": "4", "comment": "响应很快"})
    assert response.status_code == 302
    work_order.refresh_from_db()
    assert work_order.satisfaction == 4 and "响应很快" in work_order.customer_comment
    event = TimelineEvent.objects.get(request=request_obj, kind=EventKind.RATED)
    assert event.actor == customer_user_a and event.data["satisfaction"] == 4
    assert 'class="rate-form"' not in client.get(request_obj.get_absolute_url()).content.decode()
    again = client.post(url, {"work_order": work_order.pk, "work_order_version": work_order.version,
                              "satisfaction": "1"})
    assert again.status_code in (200, 403, 409) and 'class="rate-form"' not in again.content.decode()
    work_order.refresh_from_db()
    assert work_order.satisfaction == 4  # a rating is not edited


def test_only_the_customer_rates(confirmed_without_stars, dispatcher, customer_user_b, client):
    work_order = WorkOrder.objects.get(pk=confirmed_without_stars.pk)
    with pytest.raises(IllegalTransition):
        verbs.rate_work_order(work_order=work_order, by=dispatcher, version=work_order.version, satisfaction=5)
    client.force_login(dispatcher)
    assert 'class="rate-form"' not in client.get(work_order.request.get_absolute_url()).content.decode()
    client.force_login(customer_user_b)  # another customer's user does not even see the request
    assert client.get(reverse("service:rate", args=[work_order.request_id])).status_code == 404
