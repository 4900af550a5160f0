"""Geography helpers for the service-point network: distances and Shandong's divisions.

Coordinates throughout Zhinan are GCJ-02 (the "Mars" datum that WeChat location messages,
Tencent and Amap maps use). Points, user locations and the division seats below are all in
the same datum, so distances between them need no conversion.

The division table (16 prefecture-level cities and 136 county-level units with the
coordinates of their seats, current to the end of 2025) is data/shandong_places.csv, shipped
with the product and shared with the NLU (bot/language/places.py).

`match_place()` is a small matcher over that table for place mentions ("济南历下区",
"我在青岛黄岛", old names such as 莱芜/即墨/胶南). It is used by the import (to normalise
city/district columns) and by the conversation when no richer place normaliser is present.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from bot.language import places

# Redis GEO uses this Earth radius (metres) for its haversine; using the same value keeps
# our own distances identical to what GEOSEARCH reports.
EARTH_RADIUS_M = 6372797.560856

# A generous box around Shandong (incl. offshore islands) that catches swapped or foreign
# coordinates in imported files.
SHANDONG_BBOX = (114.6, 34.2, 122.8, 38.5)  # lon_min, lat_min, lon_max, lat_max


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two (lat, lon) points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def in_shandong(lat: float, lon: float) -> bool:
    lon_min, lat_min, lon_max, lat_max = SHANDONG_BBOX
    return lat_min <= lat <= lat_max and lon_min <= lon <= lon_max


# One table of Shandong's divisions for the whole project: data/shandong_places.csv, read by
# bot.language.places (which also feeds the NLU's jieba dictionary and lookups).
Division = places.Division
DIVISIONS: List[Division] = places.divisions()
CITIES: Dict[str, Division] = {d.name: d for d in DIVISIONS if d.level == "prefecture"}
# (city, district) -> Division
DISTRICTS: Dict[Tuple[str, str], Division] = {
    (d.city, d.name): d for d in DIVISIONS if d.level == "county"
}

# Former or informal names -> (city, today's county-level unit): the NLU's list, plus the bare
# "四方" that free-text search also accepts.
OLD_NAMES: Dict[str, Tuple[str, str]] = {
    **{alias: (city, district) for alias, (city, district) in places.OLD_NAMES.items() if district},
    "四方": ("青岛市", "市北区"),
}


def _short(name: str) -> Optional[str]:
    """'历下区' -> '历下'; None where the short form would be ambiguous or generic."""
    if len(name) >= 3 and name[-1] in "市区县":
        short = name[:-1]
        if short.startswith("市"):  # 市中/市南/市北 read like "city centre", "city south"
            return None
        return short
    return None


def _build_aliases() -> Tuple[Dict[str, str], Dict[str, List[Tuple[str, str]]]]:
    city_alias: Dict[str, str] = {}
    for name in CITIES:
        city_alias[name] = name
        city_alias[name[:-1]] = name
    district_alias: Dict[str, List[Tuple[str, str]]] = {}

    def add(alias: str, target: Tuple[str, str]) -> None:
        bucket = district_alias.setdefault(alias, [])
        if target not in bucket:
            bucket.append(target)

    for (city, name) in DISTRICTS:
        add(name, (city, name))
        short = _short(name)
        if short and short not in city_alias:  # '东营区' must not shadow the city '东营'
            add(short, (city, name))
    for alias, target in OLD_NAMES.items():
        add(alias, target)
    return city_alias, district_alias


CITY_ALIASES, DISTRICT_ALIASES = _build_aliases()


@dataclass(frozen=True)
class PlaceMatch:
    city: Optional[str]
    district: Optional[str]
    # Set when a district name was found but several cities have it (e.g. 市中区).
    ambiguous_district: Optional[str] = None

    @property
    def division(self) -> Optional[Division]:
        if self.city and self.district:
            return DISTRICTS.get((self.city, self.district))
        if self.city:
            return CITIES.get(self.city)
        return None


def _find_all(text: str, aliases) -> List[Tuple[int, int, str]]:
    found = []
    for alias in aliases:
        start = text.find(alias)
        while start >= 0:
            found.append((start, start + len(alias), alias))
            start = text.find(alias, start + 1)
    return found


def match_place(text: Optional[str]) -> Optional[PlaceMatch]:
    """Find a Shandong city and/or county-level unit in free text; None if there is none.

    Old names resolve to today's units (莱芜 -> 济南市莱芜区, 即墨市 -> 青岛市即墨区).
    """
    if not text:
        return None
    text = text.strip().replace(" ", "")
    city_hits = _find_all(text, CITY_ALIASES)
    cities = {CITY_ALIASES[a] for _, _, a in city_hits}
    district_hits = _find_all(text, DISTRICT_ALIASES)
    # Longest district aliases first: '黄岛区' over '黄岛'.
    district_hits.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
    ambiguous: Optional[str] = None
    for _, _, alias in district_hits:
        targets = DISTRICT_ALIASES[alias]
        if cities:
            in_city = [t for t in targets if t[0] in cities]
            if in_city:
                return PlaceMatch(in_city[0][0], in_city[0][1])
            continue
        if len(targets) == 1:
            return PlaceMatch(*targets[0])
        ambiguous = ambiguous or targets[0][1]
    if cities:
        # Several cities named: the first mentioned wins.
        first = min(city_hits, key=lambda h: h[0])
        return PlaceMatch(CITY_ALIASES[first[2]], None)
    if ambiguous:
        return PlaceMatch(None, None, ambiguous_district=ambiguous)
    return None


def normalize_city(value: str) -> Optional[str]:
    """'济南' / '济南市' -> '济南市'; None when it is not one of the 16 cities."""
    value = (value or "").strip()
    return CITY_ALIASES.get(value)


def normalize_district(city: str, value: str) -> Optional[str]:
    """A district name (or old/short name) within `city` -> today's official name."""
    value = (value or "").strip()
    for target_city, name in DISTRICT_ALIASES.get(value, []):
        if target_city == city:
            return name
    return None


def nearest_city(lat: float, lon: float) -> Optional[str]:
    """The city whose nearest county seat is closest to a point in Shandong (None outside it).

    County seats, not city seats: a point near a city's edge is nearer one of that city's own
    county seats than another city's centre, which makes this a good stand-in for a boundary lookup.
    """
    if not in_shandong(lat, lon) or not DISTRICTS:
        return None
    city, _district = min(DISTRICTS, key=lambda key: haversine_m(lat, lon, DISTRICTS[key].lat, DISTRICTS[key].lon))
    return city
