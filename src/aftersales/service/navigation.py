"""Issue 21 §11: navigation links to a project's site, for the engineer's phone (my work) and the request page.

Pure: coordinates and an address in, URLs out; no ORM, no network. The links use Amap's (高德) and Baidu's documented
web URI schemes, which open the map app when it is installed and the web map otherwise.

Coordinate systems. The project's stored latitude/longitude are **WGS-84**, the system of a phone's GPS: arrival
positions come from the browser's Geolocation API (core/static/aftersales/geo.js), which reports WGS-84, and
service/verbs/field.py measures the great-circle distance between such a position and the project's coordinates
directly, so both must be in the same system. Chinese maps do not use WGS-84: Amap draws in GCJ-02 and Baidu in BD-09
(GCJ-02 shifted once more); a WGS-84 point given to them as their own lands a few hundred metres off. So the links
convert: WGS-84 -> GCJ-02 for Amap, WGS-84 -> GCJ-02 -> BD-09 for Baidu, with the standard public formulas below, and
say which system they send (Amap `coordinate=gaode`, Baidu `coord_type=bd09ll`)."""

from dataclasses import dataclass
from math import atan2, cos, pi, sin, sqrt
from urllib.parse import urlencode

from django.utils.translation import gettext_lazy as _

AMAP_NAVIGATION = "https://uri.amap.com/navigation"  # route from where the phone is to `to`
AMAP_SEARCH = "https://uri.amap.com/search"          # keyword search: a site with an address only
BAIDU_MARKER = "https://api.map.baidu.com/marker"
BAIDU_GEOCODER = "https://api.map.baidu.com/geocoder"  # an address shown on the map
AMAP_SOURCE = "aftersales"
BAIDU_SOURCE = "webapp.aftersales.field"  # Baidu asks for webapp.<company>.<app>

# Krasovsky 1940 ellipsoid, as the GCJ-02 formulas use it
KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
BD_X_PI = pi * 3000.0 / 180.0


@dataclass(frozen=True)
class MapLink:
    provider: str  # "amap" / "baidu"
    label: str
    url: str
    exact: bool    # True: to the coordinates; False: a search for the address


def out_of_china(lat: float, lon: float) -> bool:
    """GCJ-02 shifts only points inside China's bounding box; elsewhere the maps use WGS-84 as it is."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
    ret += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    ret += (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
    ret += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    ret += (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """WGS-84 (GPS) -> GCJ-02 (Amap, Tencent); (lat, lon) in and out."""
    lat, lon = float(lat), float(lon)
    if out_of_china(lat, lon):
        return lat, lon
    dlat = _shift_lat(lon - 105.0, lat - 35.0)
    dlon = _shift_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * pi
    magic = 1 - KRASOVSKY_EE * sin(radlat) ** 2
    sqrtmagic = sqrt(magic)
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrtmagic * cos(radlat) * pi)
    return lat + dlat, lon + dlon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 -> BD-09 (Baidu); (lat, lon) in and out."""
    lat, lon = float(lat), float(lon)
    z = sqrt(lon * lon + lat * lat) + 0.00002 * sin(lat * BD_X_PI)
    theta = atan2(lat, lon) + 0.000003 * cos(lon * BD_X_PI)
    return z * sin(theta) + 0.006, z * cos(theta) + 0.0065


def wgs84_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def _coord(value: float) -> str:
    return f"{value:.6f}"


def site_links(*, name: str = "", address: str = "", latitude=None, longitude=None) -> list[MapLink]:
    """Links that open Amap and Baidu at the site: with WGS-84 coordinates, a route (Amap) and a marker (Baidu);
    with an address only, a search for it; with neither, none."""
    label = (name or address or "").replace(",", " ").strip()[:60]  # Amap's `to` is "lon,lat,name"
    if latitude is not None and longitude is not None:
        g_lat, g_lon = wgs84_to_gcj02(latitude, longitude)
        b_lat, b_lon = gcj02_to_bd09(g_lat, g_lon)
        amap = urlencode({"to": f"{_coord(g_lon)},{_coord(g_lat)},{label}", "mode": "car", "coordinate": "gaode",
                          "callnative": "1", "src": AMAP_SOURCE})
        baidu = urlencode({"location": f"{_coord(b_lat)},{_coord(b_lon)}", "title": name or address or "-",
                           "content": address or name or "-", "coord_type": "bd09ll", "output": "html",
                           "src": BAIDU_SOURCE})
        return [MapLink("amap", str(_("Amap")), f"{AMAP_NAVIGATION}?{amap}", True),
                MapLink("baidu", str(_("Baidu Maps")), f"{BAIDU_MARKER}?{baidu}", True)]
    if address.strip():
        amap = urlencode({"keyword": address.strip(), "callnative": "1", "src": AMAP_SOURCE})
        baidu = urlencode({"address": address.strip(), "output": "html", "src": BAIDU_SOURCE})
        return [MapLink("amap", str(_("Amap")), f"{AMAP_SEARCH}?{amap}", False),
                MapLink("baidu", str(_("Baidu Maps")), f"{BAIDU_GEOCODER}?{baidu}", False)]
    return []


def project_links(project) -> list[MapLink]:
    """The links to a customers.Project's site (its name, site_address and WGS-84 latitude/longitude)."""
    if project is None:
        return []
    return site_links(name=project.name, address=project.site_address or "", latitude=project.latitude,
                      longitude=project.longitude)
