"""REP-2 pages: logistics' stock, movements, forms of the verbs and catalogue; the engineer's van; scoping and
permissions; the stock page's fixed query count; the index the sums read (the query plan)."""

import re

import pytest
from django.db import connection
from django.db.models import Sum
from django.urls import reverse

from aftersales.parts import services
from aftersales.parts.models import Location, LocationKind, Movement, Part

from ..factories import ManufacturerFactory

pytestmark = pytest.mark.django_db


def page(client, user, name, **params):
    client.force_login(user)
    return client.get(reverse(name), params)


def test_logistics_land_on_the_stock_of_their_branch_only(client, logistics, logistics_b, hdd, warehouse_a,
                                                          warehouse_b, van_a):
    services.receive(part=hdd, location=warehouse_a, quantity=4, by=logistics)
    services.reserve(part=hdd, location=warehouse_a, quantity=1, by=logistics)
    services.receive(part=hdd, location=warehouse_b, quantity=9, by=logistics_b)
    client.force_login(logistics)
    assert client.get(reverse("landing")).headers["Location"] == reverse("parts:stock")
    response = client.get(reverse("parts:stock"))
    assert response.status_code == 200
    text = response.content.decode()
    assert warehouse_a.name in text and warehouse_b.name not in text
    row = re.search(r'<tr class="stock-row[^"]*" data-part="%d" data-location="%d">(.*?)</tr>' % (hdd.pk, warehouse_a.pk),
                    text, re.S).group(1)
    figures = dict(re.findall(r'data-figure="(\w+)">(?:<span[^>]*>[^<]*</span>)?(\d+)', row))
    assert (figures["on_hand"], figures["reserved"], figures["available"]) == ("4", "1", "3")


def test_the_low_stock_page_lists_what_to_order(client, logistics, engineer, hdd, van_a):
    services.receive(part=hdd, location=van_a, quantity=3, by=logistics)
    services.set_level(part=hdd, location=van_a, minimum=2, target=6, by=logistics)
    services.use_part(part=hdd, location=van_a, quantity=2, by=engineer)
    text = page(client, logistics, "parts:low_stock").content.decode()
    assert hdd.name in text and "low-flag" in text and "5" in text  # 6 − 1


def test_receive_transfer_and_adjust_through_the_forms(client, logistics, hdd, warehouse_a, van_a):
    client.force_login(logistics)
    response = client.post(reverse("parts:receive"), {"part": hdd.pk, "location": warehouse_a.pk, "quantity": 5,
                                                      "supplier": "宁夏信达"})
    assert response.status_code == 302
    response = client.post(reverse("parts:transfer"), {"part": hdd.pk, "source": warehouse_a.pk,
                                                       "destination": van_a.pk, "quantity": 2})
    assert response.status_code == 302
    response = client.post(reverse("parts:adjust"), {"part": hdd.pk, "location": warehouse_a.pk, "change": -1,
                                                     "reason": "盘亏"})
    assert response.status_code == 302
    assert (services.totals(hdd, warehouse_a).on_hand, services.totals(hdd, van_a).on_hand) == (2, 2)
    # a refusal comes back under its field, and nothing is written
    before = Movement.objects.count()
    response = client.post(reverse("parts:transfer"), {"part": hdd.pk, "source": warehouse_a.pk,
                                                       "destination": van_a.pk, "quantity": 3})
    assert response.status_code == 409
    assert "quantity" in response.context["form"].errors and Movement.objects.count() == before
    response = client.post(reverse("parts:adjust"), {"part": hdd.pk, "location": warehouse_a.pk, "change": 1})
    assert response.status_code == 200 and "reason" in response.context["form"].errors


def test_form_choices_hold_only_the_users_locations(client, logistics, warehouse_a, warehouse_b):
    response = page(client, logistics, "parts:receive")
    choices = {location.pk for location in response.context["form"].fields["location"].queryset}
    assert choices == {warehouse_a.pk}
    client.force_login(logistics)
    response = client.post(reverse("parts:receive"), {"part": "", "location": warehouse_b.pk, "quantity": 1})
    assert "location" in response.context["form"].errors and not Movement.objects.exists()


def test_a_movement_is_corrected_by_a_reversing_row_from_its_page(client, logistics, hdd, warehouse_a):
    wrong = services.receive(part=hdd, location=warehouse_a, quantity=7, by=logistics)
    client.force_login(logistics)
    url = reverse("parts:movement_detail", args=[wrong.pk])
    assert "Reverse" in client.get(url).content.decode() or "冲正" in client.get(url).content.decode()
    assert client.post(url, {"reason": "数量录错"}).status_code == 302
    assert services.totals(hdd, warehouse_a).on_hand == 0
    text = client.get(url).content.decode()
    reversal = Movement.objects.get(reverses=wrong)
    assert f"#{reversal.pk}" in text and 'name="reason"' not in text  # reversed once: no second form


def test_the_movement_list_pages_by_key_and_filters(client, logistics, hdd, camera_module, warehouse_a):
    for _ in range(3):
        services.receive(part=hdd, location=warehouse_a, quantity=1, by=logistics)
    client.force_login(logistics)
    response = client.get(reverse("parts:movements"), {"kind": "received"})
    assert len(response.context["movements"]) == 3 and response.context["next_before"] is None
    newest = response.context["movements"][0].pk
    older = client.get(reverse("parts:movements"), {"before": newest})
    assert [m.pk for m in older.context["movements"]] == [newest - 1, newest - 2]
    assert client.get(reverse("parts:movements"), {"part": camera_module.pk}).context["movements"] == []
    assert client.get(reverse("parts:movements"), {"date_from": "1900-01-01"}).status_code == 200


def test_the_catalogue_is_managed_by_logistics_and_read_by_engineers(client, logistics, engineer, hikvision):
    client.force_login(logistics)
    response = client.post(reverse("parts:part_create"), {
        "manufacturer": hikvision.pk, "part_number": "DS-K1101M", "name": "IC 读卡器", "unit": "piece",
        "purchase_cost": "180.00", "active": "on"})
    assert response.status_code == 302
    part = Part.objects.get(part_number="DS-K1101M")
    response = client.post(reverse("parts:part_update", args=[part.pk]), {
        "manufacturer": hikvision.pk, "part_number": "DS-K1101M", "name": "IC 读卡器", "unit": "piece",
        "purchase_cost": "-5", "active": "on"})
    assert response.status_code == 200 and "purchase_cost" in response.context["form"].errors
    client.force_login(engineer)
    assert client.get(reverse("parts:part_list")).status_code == 200
    assert client.get(part.get_absolute_url()).status_code == 200
    assert client.get(reverse("parts:part_create")).status_code == 403
    assert client.get(reverse("parts:receive")).status_code == 403


@pytest.mark.parametrize("name", ["parts:stock", "parts:low_stock", "parts:movements", "parts:part_list",
                                  "parts:receive", "parts:my_van"])
def test_customers_see_none_of_the_parts_pages(name, client, customer_user_a):
    assert page(client, customer_user_a, name).status_code == 403


# ------------------------------------------------------------------------------------------ the van

def test_an_engineer_uses_a_part_from_the_van_in_one_action(client, logistics, engineer, dispatcher, project_a, hdd,
                                                           camera_module, van_a, warehouse_a):
    from aftersales.service import verbs

    job = verbs.open_request(by=dispatcher, project=project_a, priority="serious", channel="phone", title="NVR 硬盘坏",
                             description="硬盘告警")
    from ..factories import current_version

    verbs.dispatch(request=job, by=dispatcher, version=current_version(job), engineer=engineer)
    services.receive(part=hdd, location=van_a, quantity=2, by=logistics)
    services.receive(part=hdd, location=warehouse_a, quantity=5, by=logistics)  # not in the van: not offered
    services.receive(part=camera_module, location=van_a, quantity=1, by=logistics, serials=["CM-1"])
    response = page(client, engineer, "parts:my_van")
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.fields["part"].queryset) == {hdd, camera_module}
    assert list(form.fields["request"].queryset) == [job]
    before = Movement.objects.count()
    response = client.post(reverse("parts:my_van"), {"part": hdd.pk, "quantity": 1, "request": job.pk})
    assert response.status_code == 302
    used = Movement.objects.get(kind="used")
    assert Movement.objects.count() == before + 1  # one movement
    assert (used.location, used.request, used.by, used.quantity) == (van_a, job, engineer, 1)
    # a serial-tracked part without its serial number, and more than the van holds: refused under the field
    response = client.post(reverse("parts:my_van"), {"part": camera_module.pk, "quantity": 1})
    assert response.status_code == 200 and "serials" in response.context["form"].errors
    response = client.post(reverse("parts:my_van"), {"part": hdd.pk, "quantity": 5})
    assert response.status_code == 409 and "quantity" in response.context["form"].errors
    assert Movement.objects.filter(kind="used").count() == 1


def test_an_engineer_without_a_van_is_told_so(client, engineer2):
    response = page(client, engineer2, "parts:my_van")
    assert response.status_code == 200 and response.context["van"] is None


def test_another_engineers_van_part_cannot_be_chosen(client, logistics, engineer, hdd, van_a2):
    services.receive(part=hdd, location=van_a2, quantity=2, by=logistics)
    Location.objects.create(kind=LocationKind.VAN, name="张工随车", branch=van_a2.branch, engineer=engineer)
    client.force_login(engineer)
    response = client.post(reverse("parts:my_van"), {"part": hdd.pk, "quantity": 1})
    assert "part" in response.context["form"].errors  # not in their van: not a choice
    assert not Movement.objects.filter(kind="used").exists()


# ------------------------------------------------------------------------------------------ budgets and plans

@pytest.mark.parametrize("n", [3, 30])
def test_the_stock_page_costs_the_same_for_3_or_30_rows(n, client, logistics, warehouse_a,
                                                        django_assert_max_num_queries):
    maker = ManufacturerFactory(name="大华")
    for i in range(n):
        part = Part.objects.create(manufacturer=maker, part_number=f"P{i}", name=f"备件{i}", purchase_cost=10)
        services.receive(part=part, location=warehouse_a, quantity=2, by=logistics)
        services.set_level(part=part, location=warehouse_a, minimum=1 + i % 3, target=5, by=logistics)
    client.force_login(logistics)
    client.get(reverse("parts:stock"))  # warms the per-worker caches (permissions, filter choices)
    # session, user, count, page (sums and levels as subqueries of the one page query), the branch filter's choices
    with django_assert_max_num_queries(6):
        response = client.get(reverse("parts:stock"))
    assert response.status_code == 200 and len(response.context["object_list"]) == n


@pytest.mark.parametrize("n", [3, 30])
def test_the_van_page_costs_the_same_for_3_or_30_parts(n, client, logistics, engineer, van_a,
                                                       django_assert_max_num_queries):
    maker = ManufacturerFactory(name="大华")
    for i in range(n):
        part = Part.objects.create(manufacturer=maker, part_number=f"P{i}", name=f"备件{i}", purchase_cost=10)
        services.receive(part=part, location=van_a, quantity=1, by=logistics)
    client.force_login(engineer)
    client.get(reverse("parts:my_van"))
    with django_assert_max_num_queries(9):  # session, user, van, contents, recent, part and request choices, …
        assert client.get(reverse("parts:my_van")).status_code == 200


@pytest.mark.django_db(transaction=True)  # committed rows, so that PostgreSQL's VACUUM ANALYZE counts them
def test_the_sums_read_the_location_part_index(logistics, hdd, branch_a, warehouse_a):
    """On hand, reserved and defective of a (part, location) come from the index on (location, part, the three
    changes), also next to the part's own index: the plan is read after ANALYZE on 2,000 rows of 10 parts at 20
    locations. SQLite reads the index alone (covering); PostgreSQL finds the rows by both columns of it."""
    from aftersales.core import clock

    maker = ManufacturerFactory(name="宇视")
    parts = [hdd] + [Part.objects.create(manufacturer=maker, part_number=f"L{i}", name=f"镜头{i}", purchase_cost=1)
                     for i in range(9)]
    places = [warehouse_a] + [Location.objects.create(kind="warehouse", name=f"库{i}", branch=branch_a)
                              for i in range(19)]
    now = clock.now()
    Movement.objects.bulk_create([
        Movement(part=part, location=location, kind="received", quantity=1, on_hand_change=1, reserved_change=0,
                 defective_change=0, unit_cost=1, at=now, by=logistics)
        for _ in range(10) for location in places for part in parts])  # interleaved, as a ledger grows
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE parts_movement")
    plan = (Movement.objects.filter(location=warehouse_a, part=hdd).values("location")
            .annotate(s=Sum("on_hand_change"), r=Sum("reserved_change"), d=Sum("defective_change")).explain())
    if connection.vendor == "sqlite":
        assert "USING COVERING INDEX parts_movement_sums" in plan, plan
    else:
        assert re.search(r"Index (Only )?Scan (using|on) parts_movement_sums", plan), plan
        # both columns found in the index: no row of another location read and thrown away
        assert re.search(r"Index Cond: \(\(location_id = \d+\) AND \(part_id = \d+\)\)", plan), plan
    assert services.totals(hdd, warehouse_a).on_hand == 10
