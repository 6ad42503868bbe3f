"""REP-2, low stock: when available (on hand − reserved) falls below the minimum of a (part, location), one alert
goes to the logistics staff of that branch through the outbox, stating on hand, reserved, minimum, target and the
quantity to order (target − available). Further movements below the minimum add nothing; the alert is re-armed only
once the level is back at the minimum (GLPI never re-arms a sent alert, glpi-project/glpi #4571)."""

import pytest

from aftersales.notify.models import OutboxMessage
from aftersales.parts import services
from aftersales.parts.models import StockSlot

pytestmark = pytest.mark.django_db


def alerts(user=None):
    rows = OutboxMessage.objects.filter(event="low_stock", channel="inapp")
    return list(rows.filter(recipient_user=user) if user is not None else rows)


@pytest.fixture
def stocked_van(logistics, hdd, van_a):
    services.receive(part=hdd, location=van_a, quantity=5, by=logistics)
    services.set_level(part=hdd, location=van_a, minimum=3, target=8, by=logistics)
    return van_a


def test_crossing_below_the_minimum_alerts_the_branchs_logistics_once_with_the_figures(
        frozen_clock, logistics, logistics_b, engineer, hdd, stocked_van):
    services.use_part(part=hdd, location=stocked_van, quantity=2, by=engineer)  # 3 left: at the minimum, no alert
    assert alerts() == []
    services.reserve(part=hdd, location=stocked_van, quantity=1, by=logistics)  # available 2 < 3: the crossing
    alert, = alerts()
    assert alert.recipient_user == logistics  # not branch B's logistics, not the engineer
    assert alerts(logistics_b) == [] and alerts(engineer) == []
    for figure in ("3", "1", "2", "8", "6"):  # on hand, reserved, available, target, to order; minimum 3
        assert figure in alert.body
    assert alert.payload == {"part": hdd.pk, "location": stocked_van.pk, "on_hand": 3, "reserved": 1, "available": 2,
                             "minimum": 3, "target": 8, "to_order": 6}
    assert "硬盘" in alert.subject and stocked_van.name in alert.subject
    # further movements below the minimum: still one alert
    services.use_part(part=hdd, location=stocked_van, quantity=1, by=engineer)
    services.adjust(part=hdd, location=stocked_van, change=-1, reason="盘亏", by=logistics)
    assert len(alerts()) == 1


def test_the_alert_is_re_armed_only_after_restocking_to_the_minimum(logistics, engineer, hdd, stocked_van):
    services.use_part(part=hdd, location=stocked_van, quantity=3, by=engineer)  # 2 < 3: alert 1
    assert len(alerts()) == 1
    services.receive(part=hdd, location=stocked_van, quantity=1, by=logistics)  # 3: back at the minimum
    assert not StockSlot.objects.get(part=hdd, location=stocked_van).low  # re-armed
    services.use_part(part=hdd, location=stocked_van, quantity=1, by=engineer)  # 2 < 3 again: alert 2
    assert len(alerts()) == 2


def test_a_restock_that_stays_below_the_minimum_does_not_re_arm(logistics, engineer, hdd, stocked_van):
    services.use_part(part=hdd, location=stocked_van, quantity=5, by=engineer)  # 0: alert
    services.receive(part=hdd, location=stocked_van, quantity=2, by=logistics)  # 2: still below
    services.use_part(part=hdd, location=stocked_van, quantity=1, by=engineer)
    assert len(alerts()) == 1 and StockSlot.objects.get(part=hdd, location=stocked_van).low


def test_a_minimum_set_above_what_is_available_alerts_at_once_and_a_lower_one_re_arms(logistics, hdd, stocked_van):
    services.set_level(part=hdd, location=stocked_van, minimum=6, target=10, by=logistics)
    alert, = alerts()
    assert alert.payload["to_order"] == 5
    services.set_level(part=hdd, location=stocked_van, minimum=6, target=12, by=logistics)  # still low: no second
    assert len(alerts()) == 1
    services.set_level(part=hdd, location=stocked_van, minimum=2, target=12, by=logistics)
    assert not StockSlot.objects.get(part=hdd, location=stocked_van).low


def test_without_a_minimum_nothing_alerts(logistics, engineer, hdd, van_a):
    services.receive(part=hdd, location=van_a, quantity=1, by=logistics)
    services.use_part(part=hdd, location=van_a, quantity=1, by=engineer)
    assert alerts() == []


def test_a_transfer_alerts_at_the_end_it_empties(logistics, hdd, warehouse_a, van_a):
    services.receive(part=hdd, location=warehouse_a, quantity=4, by=logistics)
    services.set_level(part=hdd, location=warehouse_a, minimum=2, target=6, by=logistics)
    services.transfer(part=hdd, source=warehouse_a, destination=van_a, quantity=3, by=logistics)
    alert, = alerts()
    assert alert.payload["location"] == warehouse_a.pk and alert.payload["to_order"] == 5


def test_the_level_is_a_setting_refused_when_the_target_is_below_the_minimum(logistics, hdd, warehouse_a):
    from aftersales.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        services.set_level(part=hdd, location=warehouse_a, minimum=5, target=4, by=logistics)
    assert refused.value.field == "target"
