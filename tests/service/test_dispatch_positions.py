"""Issue 21 §11: dispatch suggestions measure the distance from each engineer's last known position (their newest
arrival position), read in one query for all candidates, and say where it comes from; the panel states the order."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.core import clock
from aftersales.service import dispatching, verbs
from aftersales.service.models import Priority, Visit

from ..factories import ProjectFactory, StaffFactory

YINCHUAN = (Decimal("38.487200"), Decimal("106.230900"))
GUYUAN = (Decimal("36.015900"), Decimal("106.242400"))   # about 275 km south of Yinchuan
SHIZUISHAN = (Decimal("38.983600"), Decimal("106.383900"))  # about 57 km north


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def unplaced(branch_a):
    """Branch A without coordinates: an engineer with no arrival has no position at all."""
    branch_a.latitude = branch_a.longitude = None
    branch_a.save()
    return branch_a


def text(value: str) -> str:
    return value.replace("\xa0", " ")  # timesince() joins number and unit with a no-break space


@pytest.fixture
def site(project_a):
    project_a.latitude, project_a.longitude = YINCHUAN
    project_a.save()
    return project_a


def open_at(dispatcher, project):
    return verbs.open_request(by=dispatcher, project=project, priority=Priority.SERIOUS, channel="phone", title="t",
                              description="d")


def arrived(engineer, request, at, position):
    return Visit.objects.create(request=request, engineer=engineer, departed_at=at - timedelta(minutes=30), arrived_at=at,
                                left_at=at + timedelta(hours=1), arrival_latitude=position[0],
                                arrival_longitude=position[1], arrival_proof="position")


def engineer_named(username, branch):
    return StaffFactory(username=username, branch=branch, position=Position.ENGINEER, role=roles.ENGINEER)


def test_the_distance_comes_from_the_newest_arrival_and_says_so(frozen_clock, dispatcher, site, customer_a, unplaced):
    branch_a = unplaced
    now = clock.now()
    elsewhere = ProjectFactory(customer=customer_a, name="固原雪亮工程", latitude=GUYUAN[0], longitude=GUYUAN[1])
    nearby = ProjectFactory(customer=customer_a, name="石嘴山平安城市", latitude=SHIZUISHAN[0], longitude=SHIZUISHAN[1])
    travelling = engineer_named("travelling", branch_a)
    arrived(travelling, open_at(dispatcher, nearby), now - timedelta(days=3), YINCHUAN)  # older: ignored
    arrived(travelling, open_at(dispatcher, elsewhere), now - timedelta(hours=2), GUYUAN)
    engineer_named("never", branch_a)

    ranked = {s.engineer.username: s for s in dispatching.suggest(open_at(dispatcher, site), at=now)}

    s = ranked["travelling"]
    assert s.origin == "last_seen" and s.seen_project == "固原雪亮工程" and s.seen_at == now - timedelta(hours=2)
    assert 260 < s.distance_km < 290  # from Guyuan, where he was last, not from Yinchuan three days ago
    assert text(s.position_note) == "last seen at 固原雪亮工程 2 hours ago"
    assert any("last seen at 固原雪亮工程 2 hours ago" in text(reason) for reason in s.reasons)

    s = ranked["never"]  # branch_a has no coordinates either
    assert s.origin == "" and s.distance_km is None and s.position_note == "no known position"
    assert "no known position" in s.reasons


def test_without_an_arrival_the_branch_is_the_origin_and_it_says_so(frozen_clock, dispatcher, site, branch_a):
    branch_a.latitude, branch_a.longitude = SHIZUISHAN
    branch_a.save()
    local = engineer_named("local", branch_a)
    s = next(s for s in dispatching.suggest(open_at(dispatcher, site), at=clock.now()) if s.engineer == local)
    assert s.origin == "branch" and 50 < s.distance_km < 65
    assert s.position_note == f"no known position; measured from the branch {branch_a.name}"


def test_a_known_position_ranks_by_distance_and_unknown_last(frozen_clock, dispatcher, site, unplaced):
    branch_a = unplaced
    now = clock.now()
    far, near, _unknown = (engineer_named(name, branch_a) for name in ("far", "near", "unknown"))
    arrived(far, open_at(dispatcher, site), now - timedelta(days=1), GUYUAN)
    arrived(near, open_at(dispatcher, site), now - timedelta(days=1), SHIZUISHAN)
    ranked = [s.engineer.username for s in dispatching.suggest(open_at(dispatcher, site), at=now)
              if s.engineer.username in {"far", "near", "unknown"}]
    assert ranked == ["near", "far", "unknown"]


def test_a_site_without_coordinates_gives_no_distance_but_still_says_where_they_were(frozen_clock, dispatcher,
                                                                                     project_a, branch_a):
    project_a.latitude = project_a.longitude = None
    project_a.save()
    now = clock.now()
    seen = engineer_named("seen", branch_a)
    arrived(seen, open_at(dispatcher, project_a), now - timedelta(minutes=40), YINCHUAN)
    s = next(s for s in dispatching.suggest(open_at(dispatcher, project_a), at=now) if s.engineer == seen)
    assert s.distance_km is None and s.origin == "last_seen"
    assert any("the site has no coordinates" in reason and "40 minutes ago" in text(reason) for reason in s.reasons)


def queries_of_suggest(request) -> int:
    with CaptureQueriesContext(connection) as captured:
        dispatching.suggest(request, at=clock.now())
    return len(captured.captured_queries)


def test_positions_cost_one_query_whatever_the_number_of_engineers(frozen_clock, dispatcher, site, branch_a):
    now = clock.now()
    request = open_at(dispatcher, site)
    old_request = open_at(dispatcher, site)
    for n in range(2):
        engineer = engineer_named(f"e{n}", branch_a)
        for hours in (5, 30, 50):
            arrived(engineer, old_request, now - timedelta(hours=hours), GUYUAN)
    few = queries_of_suggest(request)
    for n in range(2, 9):
        engineer = engineer_named(f"e{n}", branch_a)
        for hours in (5, 30, 50):
            arrived(engineer, old_request, now - timedelta(hours=hours), SHIZUISHAN)
    many = queries_of_suggest(request)
    assert many == few <= 4  # engineers, shifts, last positions (and the project when not loaded)
    assert len(dispatching.last_positions(engineer.pk for engineer in [])) == 0


def test_last_positions_reads_the_newest_arrival_of_each_in_one_query(frozen_clock, dispatcher, site, branch_a,
                                                                      django_assert_num_queries):
    now = clock.now()
    a, b = engineer_named("a", branch_a), engineer_named("b", branch_a)
    request = open_at(dispatcher, site)
    arrived(a, request, now - timedelta(hours=9), YINCHUAN)
    arrived(a, request, now - timedelta(hours=1), GUYUAN)
    arrived(b, request, now - timedelta(hours=3), SHIZUISHAN)
    Visit.objects.create(request=request, engineer=b, arrived_at=now, arrival_proof="customer")  # no position
    with django_assert_num_queries(1):
        positions = dispatching.last_positions([a.pk, b.pk])
    assert (positions[a.pk]["latitude"], positions[a.pk]["longitude"]) == GUYUAN
    assert (positions[b.pk]["latitude"], positions[b.pk]["longitude"]) == SHIZUISHAN
    assert positions[b.pk]["arrived_at"] == now - timedelta(hours=3)


def test_the_dispatch_panel_explains_the_order_and_the_origin(client, frozen_clock, dispatcher, site, branch_a):
    now = clock.now()
    seen = engineer_named("seen", branch_a)
    arrived(seen, open_at(dispatcher, site), now - timedelta(hours=2), SHIZUISHAN)
    request = open_at(dispatcher, site)
    client.force_login(dispatcher)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = text(client.get(reverse("service:dispatch", args=[request.pk])).content.decode())
    assert "Order: on duty now first, then the request's specialty" in html.replace("&#x27;", "'")
    assert f"last seen at {site.name} 2 hours ago" in html and 'data-origin="last_seen"' in html
