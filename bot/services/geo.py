"""Geography helpers for the service-point network: distances and Shandong's divisions.

Coordinates throughout Zhinan are GCJ-02 (the "Mars" datum that WeChat location messages,
Tencent and Amap maps use). Points, user locations and the division seats below are all in
the same datum, so distances between them need no conversion.

The division table (16 prefecture-level cities and 136 county-level units with the
coordinates of their seats, current to the end of 2025) is copied into the product here so
that nothing reads the development-only reference data at run time.

`match_place()` is a small matcher over that table for place mentions ("济南历下区",
"我在青岛黄岛", old names such as 莱芜/即墨/胶南). It is used by the import (to normalise
city/district columns) and by the conversation when no richer place normaliser is present.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

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


@dataclass(frozen=True)
class Division:
    adcode: str
    name: str  # e.g. "历下区" or "济南市"
    city: str  # the prefecture-level city, e.g. "济南市"
    lon: float
    lat: float

    @property
    def is_city(self) -> bool:
        return self.name == self.city


# adcode,name,city,lon,lat (seat coordinates)
_TABLE = """\
370100,济南市,济南市,117.120098,36.651200
370102,历下区,济南市,117.076441,36.666465
370103,市中区,济南市,116.997845,36.651335
370104,槐荫区,济南市,116.901224,36.651441
370105,天桥区,济南市,116.987153,36.678589
370112,历城区,济南市,117.065230,36.680259
370113,长清区,济南市,116.751843,36.553710
370114,章丘区,济南市,117.526228,36.681258
370115,济阳区,济南市,117.173524,36.978537
370116,莱芜区,济南市,117.659884,36.203179
370117,钢城区,济南市,117.811354,36.058572
370124,平阴县,济南市,116.456006,36.289251
370126,商河县,济南市,117.157232,37.309041
370200,青岛市,青岛市,120.382621,36.067131
370202,市南区,青岛市,120.412392,36.075651
370203,市北区,青岛市,120.374701,36.087600
370211,黄岛区,青岛市,120.198055,35.960933
370212,崂山区,青岛市,120.468956,36.107538
370213,李沧区,青岛市,120.432922,36.145519
370214,城阳区,青岛市,120.396256,36.307559
370215,即墨区,青岛市,120.447158,36.389408
370281,胶州市,青岛市,120.033382,36.264680
370283,平度市,青岛市,119.988420,36.776357
370285,莱西市,青岛市,120.517690,36.889084
370300,淄博市,淄博市,118.055019,36.813546
370302,淄川区,淄博市,117.966723,36.643452
370303,张店区,淄博市,118.017938,36.806669
370304,博山区,淄博市,117.861851,36.494701
370305,临淄区,淄博市,118.309118,36.826981
370306,周村区,淄博市,117.869886,36.803072
370321,桓台县,淄博市,118.097922,36.959804
370322,高青县,淄博市,117.826924,37.170979
370323,沂源县,淄博市,118.170855,36.185038
370400,枣庄市,枣庄市,117.323725,34.810488
370402,市中区,枣庄市,117.556139,34.863554
370403,薛城区,枣庄市,117.263164,34.795062
370404,峄城区,枣庄市,117.590816,34.773263
370405,台儿庄区,枣庄市,117.734414,34.562440
370406,山亭区,枣庄市,117.461517,35.099528
370481,滕州市,枣庄市,117.165824,35.114155
370500,东营市,东营市,118.674614,37.433963
370502,东营区,东营市,118.582184,37.448964
370503,河口区,东营市,118.525543,37.886162
370505,垦利区,东营市,118.575228,37.573054
370522,利津县,东营市,118.255287,37.490328
370523,广饶县,东营市,118.407107,37.053555
370600,烟台市,烟台市,121.447852,37.464539
370602,芝罘区,烟台市,121.400445,37.541475
370611,福山区,烟台市,121.267741,37.498246
370612,牟平区,烟台市,121.600455,37.387061
370613,莱山区,烟台市,121.445301,37.511291
370614,蓬莱区,烟台市,120.758848,37.810661
370681,龙口市,烟台市,120.477813,37.646107
370682,莱阳市,烟台市,120.711672,36.978941
370683,莱州市,烟台市,119.942274,37.177129
370685,招远市,烟台市,120.434071,37.355469
370686,栖霞市,烟台市,120.849675,37.335123
370687,海阳市,烟台市,121.173793,36.688000
370700,潍坊市,潍坊市,119.161748,36.706962
370702,潍城区,潍坊市,119.024835,36.728100
370703,寒亭区,潍坊市,119.211157,36.755623
370704,坊子区,潍坊市,119.166485,36.654448
370705,奎文区,潍坊市,119.132482,36.707590
370724,临朐县,潍坊市,118.542982,36.512506
370725,昌乐县,潍坊市,118.829992,36.706964
370781,青州市,潍坊市,118.479654,36.684789
370782,诸城市,潍坊市,119.410103,35.995654
370783,寿光市,潍坊市,118.790739,36.855760
370784,安丘市,潍坊市,119.218978,36.478493
370785,高密市,潍坊市,119.755597,36.382594
370786,昌邑市,潍坊市,119.403069,36.843319
370800,济宁市,济宁市,116.587282,35.414982
370811,任城区,济宁市,116.606103,35.444028
370812,兖州区,济宁市,116.783833,35.553144
370826,微山县,济宁市,117.128827,34.806554
370827,鱼台县,济宁市,116.650608,35.012749
370828,金乡县,济宁市,116.311532,35.066619
370829,嘉祥县,济宁市,116.342449,35.408824
370830,汶上县,济宁市,116.497080,35.712298
370831,泗水县,济宁市,117.251195,35.664323
370832,梁山县,济宁市,116.096044,35.802306
370881,曲阜市,济宁市,116.986526,35.581108
370883,邹城市,济宁市,117.007453,35.402680
370900,泰安市,泰安市,117.087614,36.200252
370902,泰山区,泰安市,117.135354,36.192083
370911,岱岳区,泰安市,117.041581,36.187989
370921,宁阳县,泰安市,116.805796,35.758786
370923,东平县,泰安市,116.470304,35.937102
370982,新泰市,泰安市,117.767952,35.909032
370983,肥城市,泰安市,116.768358,36.182571
371000,威海市,威海市,122.120282,37.513412
371002,环翠区,威海市,122.123443,37.501990
371003,文登区,威海市,122.057670,37.193735
371082,荣成市,威海市,122.486657,37.165160
371083,乳山市,威海市,121.539764,36.919816
371100,日照市,日照市,119.526925,35.416734
371102,东港区,日照市,119.462267,35.425480
371103,岚山区,日照市,119.318928,35.121884
371121,五莲县,日照市,119.213619,35.760228
371122,莒县,日照市,118.837063,35.579868
371300,临沂市,临沂市,118.356414,35.104673
371302,兰山区,临沂市,118.347842,35.051804
371311,罗庄区,临沂市,118.284786,34.996741
371312,河东区,临沂市,118.402893,35.089916
371321,沂南县,临沂市,118.465221,35.550217
371322,郯城县,临沂市,118.367215,34.613586
371323,沂水县,临沂市,118.627917,35.790450
371324,兰陵县,临沂市,118.070650,34.857149
371325,费县,临沂市,117.977325,35.265960
371326,平邑县,临沂市,117.640352,35.505943
371327,莒南县,临沂市,118.835163,35.174846
371328,蒙阴县,临沂市,117.953621,35.719396
371329,临沭县,临沂市,118.650781,34.919851
371400,德州市,德州市,116.359381,37.436657
371402,德城区,德州市,116.299470,37.450804
371403,陵城区,德州市,116.576092,37.335794
371422,宁津县,德州市,116.800306,37.652189
371423,庆云县,德州市,117.385256,37.775349
371424,临邑县,德州市,116.866799,37.189797
371425,齐河县,德州市,116.762893,36.784158
371426,平原县,德州市,116.434032,37.165323
371427,夏津县,德州市,116.001726,36.948371
371428,武城县,德州市,116.069302,37.213311
371481,乐陵市,德州市,117.231934,37.729907
371482,禹城市,德州市,116.638327,36.933812
371500,聊城市,聊城市,115.985389,36.456684
371502,东昌府区,聊城市,115.988349,36.434669
371503,茌平区,聊城市,116.255270,36.580688
371521,阳谷县,聊城市,115.791820,36.114392
371522,莘县,聊城市,115.671191,36.233598
371524,东阿县,聊城市,116.247579,36.334917
371525,冠县,聊城市,115.442739,36.484009
371526,高唐县,聊城市,116.230160,36.846762
371581,临清市,聊城市,115.704881,36.838277
371600,滨州市,滨州市,117.970699,37.381980
371602,滨城区,滨州市,118.019326,37.430724
371603,沾化区,滨州市,118.098902,37.699260
371621,惠民县,滨州市,117.509921,37.489877
371622,阳信县,滨州市,117.603339,37.632433
371623,无棣县,滨州市,117.625696,37.770260
371625,博兴县,滨州市,118.110709,37.154570
371681,邹平市,滨州市,117.743109,36.862989
371700,菏泽市,菏泽市,115.480656,35.233750
371702,牡丹区,菏泽市,115.417826,35.252512
371703,定陶区,菏泽市,115.573020,35.070995
371721,曹县,菏泽市,115.542328,34.825508
371722,单县,菏泽市,116.107428,34.778808
371723,成武县,菏泽市,115.889764,34.952459
371724,巨野县,菏泽市,116.062394,35.388925
371725,郓城县,菏泽市,115.938900,35.575135
371726,鄄城县,菏泽市,115.510192,35.563408
371728,东明县,菏泽市,115.107404,35.276162
"""

DIVISIONS: List[Division] = []
for _line in _TABLE.strip().splitlines():
    _code, _name, _city, _lon, _lat = _line.split(",")
    DIVISIONS.append(Division(_code, _name, _city, float(_lon), float(_lat)))

CITIES: Dict[str, Division] = {d.name: d for d in DIVISIONS if d.is_city}
# (city, district) -> Division
DISTRICTS: Dict[Tuple[str, str], Division] = {
    (d.city, d.name): d for d in DIVISIONS if not d.is_city
}

# Former or informal names -> (city, today's county-level unit).
OLD_NAMES: Dict[str, Tuple[str, str]] = {
    "莱芜市": ("济南市", "莱芜区"),
    "莱芜": ("济南市", "莱芜区"),
    "莱城区": ("济南市", "莱芜区"),
    "莱城": ("济南市", "莱芜区"),
    "章丘市": ("济南市", "章丘区"),
    "济阳县": ("济南市", "济阳区"),
    "长清县": ("济南市", "长清区"),
    "即墨市": ("青岛市", "即墨区"),
    "胶南市": ("青岛市", "黄岛区"),
    "胶南": ("青岛市", "黄岛区"),
    "西海岸新区": ("青岛市", "黄岛区"),
    "西海岸": ("青岛市", "黄岛区"),
    "四方区": ("青岛市", "市北区"),
    "四方": ("青岛市", "市北区"),
    "垦利县": ("东营市", "垦利区"),
    "蓬莱市": ("烟台市", "蓬莱区"),
    "长岛县": ("烟台市", "蓬莱区"),
    "长岛": ("烟台市", "蓬莱区"),
    "文登市": ("威海市", "文登区"),
    "沾化县": ("滨州市", "沾化区"),
    "定陶县": ("菏泽市", "定陶区"),
    "茌平县": ("聊城市", "茌平区"),
    "兖州市": ("济宁市", "兖州区"),
    "陵县": ("德州市", "陵城区"),
    "邹平县": ("滨州市", "邹平市"),
    "苍山县": ("临沂市", "兰陵县"),
    "苍山": ("临沂市", "兰陵县"),
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
