"""Where a staff member works: the province, or one or more of Shandong's 16 cities (optionally
narrowed to counties of a city), from the one division table in `bot.services.geo`.

Written as text in a console account (`scope` field) and on the command line:

    province                    the whole province (also what an account without a scope gets)
    青岛市,烟台市                two cities (short names such as 青岛 are accepted)
    青岛市/黄岛区,青岛市/即墨区    two counties of 青岛

Plain code (no Redis): the console's guard, the handoff queue and the dashboards ask `covers`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Iterable, Optional, Tuple

from bot.services import geo

PROVINCE = "province"
PROVINCE_LABEL = "全省"


@dataclass(frozen=True)
class StaffScope:
    """Empty `cities` = the province. `counties`: (city, county) pairs that narrow their city;
    a city listed in `cities` with no county of its own is covered whole."""

    cities: FrozenSet[str] = frozenset()
    counties: FrozenSet[Tuple[str, str]] = frozenset()

    @property
    def is_province(self) -> bool:
        return not self.cities

    def covers(self, city: Optional[str], district: Optional[str] = None) -> bool:
        """True when a user in (`city`, `district`) is this staff member's business; a user of
        unknown city is the province's only."""
        if self.is_province:
            return True
        if not city or city not in self.cities:
            return False
        narrowed = {c for (parent, c) in self.counties if parent == city}
        return not narrowed or (district or "") in narrowed

    def covers_all(self, cities: Iterable[str]) -> bool:
        """True when every city named is covered whole (an empty list means the whole province)."""
        names = [geo.normalize_city(c) or c for c in cities]
        if self.is_province:
            return True
        return bool(names) and all(self.covers(c) and not self._narrowed(c) for c in names)

    def _narrowed(self, city: str) -> bool:
        return any(parent == city for parent, _ in self.counties)

    def areas(self) -> Tuple[str, ...]:
        """Presence areas: "province", a city, or "city/county"."""
        if self.is_province:
            return (PROVINCE,)
        whole = [c for c in sorted(self.cities, key=_city_order) if not self._narrowed(c)]
        counties = sorted(self.counties, key=lambda pair: (_city_order(pair[0]), pair[1]))
        return tuple(whole + [f"{city}/{county}" for city, county in counties])

    def text(self) -> str:
        """The stored form (round-trips through `parse_scope`)."""
        return ",".join(self.areas())

    def label(self) -> str:
        """As staff read it: 全省, 青岛市、烟台市, 青岛市黄岛区."""
        if self.is_province:
            return PROVINCE_LABEL
        return "、".join(area.replace("/", "") for area in self.areas())


def _city_order(city: str) -> int:
    """The division table's order (济南, 青岛, 淄博 …), as every city list staff read."""
    return list(geo.CITIES).index(city) if city in geo.CITIES else len(geo.CITIES)


def parse_scope(text: Optional[str]) -> StaffScope:
    """'province' (or empty: accounts made before scopes existed) / '青岛市,烟台市/莱山区' ->
    StaffScope; ValueError (Chinese) for a name that is not a Shandong city or county."""
    parts = [p.strip() for p in (text or "").replace("，", ",").replace("、", ",").split(",") if p.strip()]
    if not parts or parts == [PROVINCE] or parts == [PROVINCE_LABEL]:
        return StaffScope()
    cities, counties = set(), set()
    for part in parts:
        city_text, _, county_text = part.partition("/")
        city = geo.normalize_city(city_text)
        if city is None:
            raise ValueError(f"“{city_text}”不是山东省的地级市（范围写 province，或城市，如 青岛市、青岛市/黄岛区）")
        cities.add(city)
        if county_text:
            county = geo.normalize_district(city, county_text.strip())
            if county is None:
                raise ValueError(f"“{county_text}”不是{city}的区县")
            counties.add((city, county))
    return StaffScope(frozenset(cities), frozenset(counties))


def area_of(city: Optional[str], district: Optional[str]) -> Tuple[str, ...]:
    """The presence areas whose staff serve a user in (`city`, `district`): the city's whole-city
    staff and its county's; none for a user of unknown city."""
    if not city:
        return ()
    return (city, f"{city}/{district}") if district else (city,)
