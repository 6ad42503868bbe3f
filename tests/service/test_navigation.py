"""Issue 21 §11: navigation links (Amap / Baidu URIs) to a project's site, from its WGS-84 coordinates converted to
GCJ-02 / BD-09, or a search for its address; on the engineer's cards and the request page."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from aftersales.service import navigation, verbs
from aftersales.service.models import Priority

from ..factories import current_version


def query(url: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


# -- the conversions: reference values of the standard public formulas (coordtransform, hutool's CoordinateUtil)

def test_wgs84_to_gcj02_matches_the_reference():
    lat, lon = navigation.wgs84_to_gcj02(39.915, 116.404)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)


def test_gcj02_to_bd09_matches_the_reference():
    lat, lon = navigation.gcj02_to_bd09(39.915, 116.404)
    assert lat == pytest.approx(39.92133699351021, abs=1e-9)
    assert lon == pytest.approx(116.41036949371029, abs=1e-9)


def test_wgs84_to_bd09_is_the_two_steps_and_outside_china_nothing_moves():
    assert navigation.wgs84_to_bd09(38.4872, 106.2309) == navigation.gcj02_to_bd09(
        *navigation.wgs84_to_gcj02(38.4872, 106.2309))
    assert navigation.wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)  # Paris: GCJ-02 is WGS-84 there
    assert navigation.out_of_china(48.8584, 2.2945) and not navigation.out_of_china(38.4872, 106.2309)


def test_the_shift_in_china_is_hundreds_of_metres_not_kilometres():
    from aftersales.service.dispatching import great_circle_m

    for lat, lon in [(38.4872, 106.2309), (31.1690, 121.4020), (22.5431, 114.0579), (45.8038, 126.5349)]:
        g_lat, g_lon = navigation.wgs84_to_gcj02(lat, lon)
        assert 50 < great_circle_m(lat, lon, g_lat, g_lon) < 1000


def test_decimals_from_the_database_are_accepted():
    from decimal import Decimal

    assert navigation.wgs84_to_gcj02(Decimal("39.915000"), Decimal("116.404000")) == navigation.wgs84_to_gcj02(39.915, 116.404)


# -- the links

def test_with_coordinates_amap_routes_to_the_gcj02_point_and_baidu_marks_the_bd09_point():
    amap, baidu = navigation.site_links(name="银川天网工程", address="银川市金凤区", latitude=38.4872, longitude=106.2309)
    g_lat, g_lon = navigation.wgs84_to_gcj02(38.4872, 106.2309)
    b_lat, b_lon = navigation.wgs84_to_bd09(38.4872, 106.2309)

    assert amap.provider == "amap" and amap.exact and amap.url.startswith(navigation.AMAP_NAVIGATION + "?")
    params = query(amap.url)
    assert params["to"] == f"{g_lon:.6f},{g_lat:.6f},银川天网工程"  # Amap: lon,lat[,name]
    assert params["coordinate"] == "gaode" and params["callnative"] == "1" and params["mode"] == "car"

    assert baidu.provider == "baidu" and baidu.exact and baidu.url.startswith(navigation.BAIDU_MARKER + "?")
    params = query(baidu.url)
    assert params["location"] == f"{b_lat:.6f},{b_lon:.6f}"  # Baidu: lat,lng
    assert params["coord_type"] == "bd09ll" and params["output"] == "html" and params["src"]
    assert params["title"] == "银川天网工程" and params["content"] == "银川市金凤区"


def test_a_comma_in_the_name_cannot_break_amaps_to_parameter():
    amap, _baidu = navigation.site_links(name="一期,二期", latitude=38.5, longitude=106.2)
    assert query(amap.url)["to"].count(",") == 2


def test_without_coordinates_the_address_is_searched():
    amap, baidu = navigation.site_links(name="银川天网工程", address="宁夏银川市金凤区北京中路 1 号")
    assert not amap.exact and not baidu.exact
    assert amap.url.startswith(navigation.AMAP_SEARCH + "?")
    assert query(amap.url)["keyword"] == "宁夏银川市金凤区北京中路 1 号"
    assert baidu.url.startswith(navigation.BAIDU_GEOCODER + "?")
    assert query(baidu.url)["address"] == "宁夏银川市金凤区北京中路 1 号"


def test_without_coordinates_or_address_there_is_no_link():
    assert navigation.site_links(name="银川天网工程", address="  ") == []
    assert navigation.project_links(None) == []


def test_a_latitude_without_longitude_is_not_a_position():
    links = navigation.site_links(address="银川", latitude=38.5, longitude=None)
    assert links and not links[0].exact


# -- on the pages

@pytest.fixture
def assigned(frozen_clock, dispatcher, engineer, project_a):
    project_a.site_address, project_a.latitude, project_a.longitude = "银川市金凤区", 38.4872, 106.2309
    project_a.save()
    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.SERIOUS, channel="phone",
                                 title="主干光纤中断", description="东区全部离线")
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    return request


def test_the_engineers_card_and_the_request_page_link_to_the_site(client, assigned, engineer):
    client.force_login(engineer)
    expected = navigation.project_links(assigned.project)
    for url in (reverse("service:my_work"), assigned.get_absolute_url()):
        html = client.get(url).content.decode()
        assert 'class="map-links' in html
        for link in expected:
            assert link.url.replace("&", "&amp;") in html
        assert 'rel="noopener noreferrer"' in html


def test_a_site_with_an_address_only_offers_a_search(client, assigned, engineer):
    project = assigned.project
    project.latitude = project.longitude = None
    project.save()
    client.force_login(engineer)
    html = client.get(reverse("service:my_work")).content.decode()
    assert navigation.AMAP_SEARCH in html and navigation.BAIDU_GEOCODER in html
