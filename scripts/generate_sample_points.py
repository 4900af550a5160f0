"""Generate data/service_points.csv: SAMPLE service points for all 16 cities of Shandong.

Everything here is demonstration data: names follow the real naming pattern of the
network, but addresses are invented and coordinates are placed a few hundred metres to a
few kilometres from the seat of the county-level unit (GCJ-02, from bot.services.geo).
Every row is marked 示例数据=是 and the bot labels such points "（示例）". The phone number
is the city's 12333 human-resources hotline (area code + 12333), so no invented number
is ever shown to a user. Deterministic: re-running gives the same file.

    .venv/bin/python scripts/generate_sample_points.py [OUT.csv]
"""
from __future__ import annotations

import hashlib
import math
import sys
from pathlib import Path
from typing import List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.services.geo import CITIES, DISTRICTS, haversine_m  # noqa: E402
from bot.services.points.files import SAMPLE_FILE, write_points_csv  # noqa: E402
from bot.services.points.model import PointType, ServicePoint  # noqa: E402

AREA_CODES = {
    "济南市": "0531", "青岛市": "0532", "淄博市": "0533", "枣庄市": "0632",
    "东营市": "0546", "烟台市": "0535", "潍坊市": "0536", "济宁市": "0537",
    "泰安市": "0538", "威海市": "0631", "日照市": "0633", "临沂市": "0539",
    "德州市": "0534", "聊城市": "0635", "滨州市": "0543", "菏泽市": "0530",
}
CITY_CODES = {
    "济南市": "JN", "青岛市": "QD", "淄博市": "ZB", "枣庄市": "ZZ", "东营市": "DY",
    "烟台市": "YT", "潍坊市": "WF", "济宁市": "JNG", "泰安市": "TA", "威海市": "WH",
    "日照市": "RZ", "临沂市": "LY", "德州市": "DZ", "聊城市": "LC", "滨州市": "BZ",
    "菏泽市": "HZ",
}
UNIVERSITIES = {
    "济南市": [("历下区", "山东大学"), ("长清区", "山东师范大学")],
    "青岛市": [("崂山区", "中国海洋大学"), ("黄岛区", "中国石油大学（华东）")],
    "淄博市": [("张店区", "山东理工大学")],
    "枣庄市": [("市中区", "枣庄学院")],
    "东营市": [("东营区", "东营职业学院")],
    "烟台市": [("莱山区", "烟台大学"), ("芝罘区", "鲁东大学")],
    "潍坊市": [("奎文区", "潍坊学院")],
    "济宁市": [("曲阜市", "曲阜师范大学")],
    "泰安市": [("泰山区", "山东农业大学")],
    "威海市": [("环翠区", "山东大学（威海）")],
    "日照市": [("东港区", "日照职业技术学院")],
    "临沂市": [("兰山区", "临沂大学")],
    "德州市": [("德城区", "德州学院")],
    "聊城市": [("东昌府区", "聊城大学")],
    "滨州市": [("滨城区", "滨州学院")],
    "菏泽市": [("牡丹区", "菏泽学院")],
}
# Extra kinds of point in the larger cities.
EXTRAS = {
    "济南市": [PointType.HR_PARK, PointType.DIGITAL_ZONE, PointType.PARTNER_STATION, PointType.GIG_MARKET],
    "青岛市": [PointType.HR_PARK, PointType.DIGITAL_ZONE, PointType.PARTNER_STATION, PointType.COMMUNITY_STATION],
    "烟台市": [PointType.HR_PARK, PointType.DIGITAL_ZONE],
    "潍坊市": [PointType.HR_PARK, PointType.PARTNER_STATION],
    "临沂市": [PointType.DIGITAL_ZONE, PointType.GIG_MARKET],
    "济宁市": [PointType.PARTNER_STATION],
    "淄博市": [PointType.DIGITAL_ZONE],
    "威海市": [PointType.PARTNER_STATION],
}
ROADS = ["人民路", "文化路", "建设路", "和平路", "解放路", "新华路", "振兴路", "育才路", "光明路", "民生路"]
COMMUNITIES = ["幸福", "和平", "阳光", "文苑", "新华", "康乐", "锦绣", "怡心"]
HOURS = {
    PointType.PUBLIC_SERVICE: "周一至周五 09:00-12:00,13:30-17:00；法定节假日除外",
    PointType.HR_MARKET: "周一至周五 08:30-17:00；周六 08:30-12:00",
    PointType.GIG_MARKET: "每天 05:30-11:00",
    PointType.COMMUNITY_STATION: "周一至周五 08:30-17:30；周六 09:00-12:00",
    PointType.UNIVERSITY_STATION: "周一至周五 08:00-11:30,14:00-17:30",
    PointType.STUDIO_CITY: "周一至周五 09:00-17:00；周六 09:00-12:00",
    PointType.STUDIO_COUNTY: "周一至周五 09:00-17:00",
    PointType.HR_PARK: "周一至周五 09:00-17:00",
    PointType.DIGITAL_ZONE: "每天 08:00-20:00",
    PointType.PARTNER_STATION: "周一至周五 09:00-16:30",
}
SERVICES = {
    PointType.PUBLIC_SERVICE: "职业指导、招聘信息、就业登记、技能培训、创业指导、政策咨询",
    PointType.HR_MARKET: "招聘信息、职业指导、政策咨询",
    PointType.GIG_MARKET: "零工对接、招聘信息、技能培训",
    PointType.COMMUNITY_STATION: "职业指导、招聘信息、政策咨询",
    PointType.UNIVERSITY_STATION: "职业指导、职业测评、招聘信息、创业指导",
    PointType.STUDIO_CITY: "职业指导、职业测评、创业指导",
    PointType.STUDIO_COUNTY: "职业指导、职业测评",
    PointType.HR_PARK: "招聘信息、职业指导、技能培训",
    PointType.DIGITAL_ZONE: "职业测评、招聘信息、职业指导",
    PointType.PARTNER_STATION: "招聘信息、技能培训、职业指导",
}
AUDIENCE = {
    PointType.UNIVERSITY_STATION: "在校大学生、高校毕业生",
    PointType.GIG_MARKET: "灵活就业人员、零工求职者",
    PointType.COMMUNITY_STATION: "社区居民、就业困难人员",
    PointType.PARTNER_STATION: "求职者、企业职工",
}
NOTE = "示例数据：地址与坐标为演示用，非真实办公地点"


def _unit(seed: str) -> float:
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def offset(lat: float, lon: float, seed: str, min_m: float = 300, max_m: float = 2500) -> Tuple[float, float]:
    """A deterministic point `min_m`..`max_m` metres from (lat, lon)."""
    dist = min_m + (max_m - min_m) * _unit(seed + "d")
    angle = 2 * math.pi * _unit(seed + "a")
    dlat = dist * math.cos(angle) / 111_320.0
    dlon = dist * math.sin(angle) / (111_320.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def seat_district(city: str) -> str:
    """The county-level unit whose seat is nearest the city's seat (the main urban district)."""
    c = CITIES[city]
    units = [d for (cc, _), d in DISTRICTS.items() if cc == city]
    return min(units, key=lambda d: haversine_m(c.lat, c.lon, d.lat, d.lon)).name


def build() -> List[ServicePoint]:
    points: List[ServicePoint] = []
    for city in CITIES:
        code, area = CITY_CODES[city], AREA_CODES[city]
        units = [name for (cc, name) in DISTRICTS if cc == city]
        main = seat_district(city)
        urban = [u for u in units if u.endswith("区") and u != main] or [main]
        counties = [u for u in units if not u.endswith("区")] or urban
        seq = 0

        def add(kind: PointType, district: str, name: str, min_m: float = 300, max_m: float = 2500) -> None:
            nonlocal seq
            seq += 1
            seat = DISTRICTS[(city, district)]
            pid = f"SD-{code}-{seq:03d}"
            lat, lon = offset(seat.lat, seat.lon, pid, min_m, max_m)
            road = ROADS[int(_unit(pid + "r") * len(ROADS))]
            number = 10 + int(_unit(pid + "n") * 290)
            points.append(
                ServicePoint(
                    id=pid, name=name, type=kind, city=city, district=district,
                    address=f"{road}{number}号", latitude=lat, longitude=lon,
                    hours=HOURS[kind], phone=f"{area}-12333",
                    services=tuple(SERVICES[kind].split("、")),
                    audience=AUDIENCE.get(kind, "各类求职者"), active=True, sample=True, note=NOTE,
                )
            )

        short = city[:-1]
        add(PointType.PUBLIC_SERVICE, main, f"{city}公共就业和人才服务中心", 200, 900)
        add(PointType.HR_MARKET, main, f"{short}人力资源市场", 500, 2000)
        add(PointType.GIG_MARKET, urban[0], f"{short}{urban[0]}零工市场")
        community = COMMUNITIES[len(points) % len(COMMUNITIES)]
        add(PointType.COMMUNITY_STATION, main, f"{main}{community}社区就业驿站")
        for district, school in UNIVERSITIES[city]:
            add(PointType.UNIVERSITY_STATION, district, f"{school}就业指导工作站", 800, 3000)
        add(PointType.STUDIO_CITY, main, f"{short}市级职业指导工作室")
        for county in counties[:2]:
            add(PointType.PUBLIC_SERVICE, county, f"{county}公共就业和人才服务中心", 200, 900)
        add(PointType.STUDIO_COUNTY, counties[0], f"{counties[0]}职业指导工作室")
        for i, kind in enumerate(EXTRAS.get(city, [])):
            district = urban[(i + 1) % len(urban)]
            name = {
                PointType.HR_PARK: f"中国{short}人力资源服务产业园" if city in ("济南市", "青岛市")
                else f"{short}人力资源服务产业园",
                PointType.DIGITAL_ZONE: f"{short}{district}“数智就业”服务区",
                PointType.PARTNER_STATION: f"{district}企业共建就业服务站",
                PointType.GIG_MARKET: f"{short}{district}零工市场",
                PointType.COMMUNITY_STATION: f"{district}{COMMUNITIES[i + 3]}社区就业驿站",
            }[kind]
            add(kind, district, name)
    return points


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    points = build()
    write_points_csv(points, out)
    print(f"wrote {len(points)} sample points to {out}")


if __name__ == "__main__":
    main()
