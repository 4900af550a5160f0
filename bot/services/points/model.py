"""The service point and its types: what staff files hold and what users ask for.

Coordinates are GCJ-02 — the datum of WeChat location messages (and of Tencent/Amap maps) —
so a user's WeChat location can be compared with a point's coordinates directly. Staff must
enter GCJ-02 coordinates too (picked from Tencent or Amap maps, not from Baidu BD-09 or raw
GPS WGS-84, which are off by up to ~500 m).
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Dict, FrozenSet, Mapping, Optional, Tuple

from bot.services.points.hours import OpeningHours

# Progress of a long import: (done, total or 0 when unknown, phase); shared by the file reader
# and the store.
ProgressCallback = Callable[[int, int, str], None]

class PointType(str, enum.Enum):
    """Kinds of service point in Shandong's career-guidance network (value = stable code)."""

    UNIVERSITY_STATION = "university_station"
    COMMUNITY_STATION = "community_station"
    GIG_MARKET = "gig_market"
    HR_MARKET = "hr_market"
    HR_PARK = "hr_park"
    DIGITAL_ZONE = "digital_zone"
    PUBLIC_SERVICE = "public_service"
    STUDIO_CITY = "studio_city"
    STUDIO_COUNTY = "studio_county"
    PARTNER_STATION = "partner_station"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def parse(cls, value: str) -> "PointType":
        """A code ('gig_market') or a Chinese label ('零工市场') -> PointType; ValueError else."""
        value = (value or "").strip()
        for member in cls:
            if value in (member.value, member.label):
                return member
        for member, aliases in _LABEL_VARIANTS.items():
            if value in aliases:
                return member
        raise ValueError(value)


_LABELS: Dict[PointType, str] = {
    PointType.UNIVERSITY_STATION: "高校就业指导工作站",
    PointType.COMMUNITY_STATION: "社区就业驿站",
    PointType.GIG_MARKET: "零工市场",
    PointType.HR_MARKET: "人力资源市场",
    PointType.HR_PARK: "人力资源服务产业园",
    PointType.DIGITAL_ZONE: "数智就业服务区",
    PointType.PUBLIC_SERVICE: "公共就业和人才服务机构",
    PointType.STUDIO_CITY: "职业指导工作室（市级）",
    PointType.STUDIO_COUNTY: "职业指导工作室（县级）",
    PointType.PARTNER_STATION: "企业/社会组织共建站点",
}

# Other spellings staff use in their sheets for the type column.
_LABEL_VARIANTS: Dict[PointType, Tuple[str, ...]] = {
    PointType.STUDIO_CITY: ("市级职业指导工作室", "职业指导工作室(市级)"),
    PointType.STUDIO_COUNTY: ("县级职业指导工作室", "职业指导工作室(县级)", "区县级职业指导工作室"),
    PointType.PARTNER_STATION: ("共建站点", "企业共建站点", "社会组织共建站点", "企业、社会组织共建站点"),
    PointType.DIGITAL_ZONE: ("“数智就业”服务区", "\"数智就业\"服务区"),
    PointType.COMMUNITY_STATION: ("社区微业", "“社区微业”就业驿站"),
}

# What a user may say for a type ("附近的零工市场", "人才市场在哪"); longest match wins.
# Generic words (社区, 学校, 大学) are left out: "我在学校附近" does not ask for a type.
_USER_TYPE_WORDS: Tuple[Tuple[str, FrozenSet[PointType]], ...] = tuple(
    sorted(
        (
            (word, frozenset(types))
            for word, types in {
                "高校就业指导工作站": {PointType.UNIVERSITY_STATION},
                "高校": {PointType.UNIVERSITY_STATION},
                "社区就业驿站": {PointType.COMMUNITY_STATION},
                "就业驿站": {PointType.COMMUNITY_STATION},
                "驿站": {PointType.COMMUNITY_STATION},
                "社区微业": {PointType.COMMUNITY_STATION},
                "零工市场": {PointType.GIG_MARKET},
                "零工": {PointType.GIG_MARKET},
                "打零工": {PointType.GIG_MARKET},
                "日结": {PointType.GIG_MARKET},
                "劳务市场": {PointType.GIG_MARKET},
                "人力资源市场": {PointType.HR_MARKET},
                "人才市场": {PointType.HR_MARKET},
                "人力市场": {PointType.HR_MARKET},
                "招聘市场": {PointType.HR_MARKET},
                "人力资源服务产业园": {PointType.HR_PARK},
                "产业园": {PointType.HR_PARK},
                "数智就业服务区": {PointType.DIGITAL_ZONE},
                "数智就业": {PointType.DIGITAL_ZONE},
                "数智": {PointType.DIGITAL_ZONE},
                "公共就业和人才服务机构": {PointType.PUBLIC_SERVICE},
                "公共就业": {PointType.PUBLIC_SERVICE},
                "就业服务中心": {PointType.PUBLIC_SERVICE},
                "人才服务中心": {PointType.PUBLIC_SERVICE},
                "人社局": {PointType.PUBLIC_SERVICE},
                "职业指导工作室": {PointType.STUDIO_CITY, PointType.STUDIO_COUNTY},
                "工作室": {PointType.STUDIO_CITY, PointType.STUDIO_COUNTY},
                "市级职业指导工作室": {PointType.STUDIO_CITY},
                "县级职业指导工作室": {PointType.STUDIO_COUNTY},
                "共建站点": {PointType.PARTNER_STATION},
                "共建": {PointType.PARTNER_STATION},
            }.items()
        ),
        key=lambda item: -len(item[0]),
    )
)


def parse_point_types(text: Optional[str]) -> FrozenSet[PointType]:
    """The point types a user's words ask for; empty when none is named (any type)."""
    if not text:
        return frozenset()
    text = str(text).strip()
    try:
        return frozenset({PointType.parse(text)})
    except ValueError:
        pass
    parts = [part for part in text.split("、") if part]
    if len(parts) > 1:  # a list of labels, as a slot may hold it ("零工市场、人力资源市场")
        try:
            return frozenset(PointType.parse(part) for part in parts)
        except ValueError:
            pass
    for word, types in _USER_TYPE_WORDS:
        if word in text:
            return types
    return frozenset()


# Order in which a place listing shows types: the public office of the area first.
TYPE_PRIORITY: Dict[PointType, int] = {
    t: i
    for i, t in enumerate(
        (
            PointType.PUBLIC_SERVICE,
            PointType.HR_MARKET,
            PointType.GIG_MARKET,
            PointType.COMMUNITY_STATION,
            PointType.STUDIO_CITY,
            PointType.STUDIO_COUNTY,
            PointType.DIGITAL_ZONE,
            PointType.UNIVERSITY_STATION,
            PointType.HR_PARK,
            PointType.PARTNER_STATION,
        )
    )
}

KNOWN_SERVICES = ("职业指导", "职业测评", "招聘信息", "技能培训", "创业指导", "政策咨询", "就业登记", "零工对接")

_LIST_SPLIT = re.compile(r"[、,，;；/|\s]+")


def split_list(value: str) -> Tuple[str, ...]:
    return tuple(part for part in _LIST_SPLIT.split(value or "") if part)


@dataclass(frozen=True)
class ServicePoint:
    """One service point. `latitude`/`longitude` are GCJ-02 (WeChat's datum), in degrees."""

    id: str
    name: str
    type: PointType
    city: str  # one of the 16 prefecture-level cities, full name ("济南市")
    district: str  # today's county-level unit, full name ("历下区")
    address: str
    latitude: float
    longitude: float
    hours: str = ""  # opening hours text, parseable by OpeningHours; "" = unknown
    phone: str = ""
    services: Tuple[str, ...] = ()
    audience: str = ""
    active: bool = True
    sample: bool = False  # shipped sample data, not a real office
    note: str = ""

    @property
    def opening_hours(self) -> Optional[OpeningHours]:
        if not self.hours:
            return None
        try:
            return OpeningHours.parse(self.hours)
        except ValueError:
            return None

    def is_open(self, moment: datetime) -> Optional[bool]:
        """True/False when the hours are known, None when they are not."""
        hours = self.opening_hours
        return None if hours is None else hours.is_open(moment)

    def to_hash(self) -> Dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type.value,
            "city": self.city,
            "district": self.district,
            "address": self.address,
            "latitude": repr(self.latitude),
            "longitude": repr(self.longitude),
            "hours": self.hours,
            "phone": self.phone,
            "services": "、".join(self.services),
            "audience": self.audience,
            "active": "1" if self.active else "0",
            "sample": "1" if self.sample else "0",
            "note": self.note,
        }

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> "ServicePoint":
        return cls(
            id=data["id"],
            name=data["name"],
            type=PointType(data["type"]),
            city=data["city"],
            district=data.get("district", ""),
            address=data.get("address", ""),
            latitude=float(data["latitude"]),
            longitude=float(data["longitude"]),
            hours=data.get("hours", ""),
            phone=data.get("phone", ""),
            services=split_list(data.get("services", "")),
            audience=data.get("audience", ""),
            active=data.get("active", "1") == "1",
            sample=data.get("sample", "0") == "1",
            note=data.get("note", ""),
        )
