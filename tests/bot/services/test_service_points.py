"""Service points: model, opening hours, the Redis geo index and search, replies (real Redis)."""
from __future__ import annotations

import math
from datetime import datetime
from typing import List, Optional

import pytest

from bot.clock import SHANGHAI, FrozenClock
from bot.services.geo import DISTRICTS, match_place, nearest_city, normalize_district
from bot.services.points.hours import OpeningHours
from bot.services.points.model import PointType, ServicePoint, parse_point_types
from bot.services.points.query import PointQuery
from bot.services.points.replies import render_page
from bot.services.points.store import ServicePointStore

# Wednesday 2025-03-05 10:00 in Shanghai.
WEDNESDAY_10 = datetime(2025, 3, 5, 10, 0, tzinfo=SHANGHAI)
CENTER = (36.66, 117.07)  # near 历下区, 济南


def hand_haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Written out independently of the product: the formula with Redis's Earth radius."""
    r = 6372797.560856
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * r * math.atan2(math.sqrt(a), math.sqrt(1 - a))


def point(
    pid: str,
    lat: float,
    lon: float,
    kind: PointType = PointType.PUBLIC_SERVICE,
    city: str = "济南市",
    district: str = "历下区",
    hours: str = "周一至周五 09:00-17:00",
    active: bool = True,
    name: Optional[str] = None,
) -> ServicePoint:
    return ServicePoint(
        id=pid,
        name=name or f"测试服务点{pid}",
        type=kind,
        city=city,
        district=district,
        address="测试路1号",
        latitude=lat,
        longitude=lon,
        hours=hours,
        phone="0531-12333",
        services=("职业指导",),
        active=active,
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(WEDNESDAY_10)


@pytest.fixture
def store(redis, settings, clock) -> ServicePointStore:
    return ServicePointStore(redis, settings, clock=clock)


# --------------------------------------------------------------------------------------
# Pure parts
# --------------------------------------------------------------------------------------


def test_hand_computed_distance_of_one_hundredth_degree_latitude():
    # 0.01° of latitude on a sphere of radius 6372797.56 m is 6372797.56 * pi / 18000 m.
    assert hand_haversine(36.0, 117.0, 36.01, 117.0) == pytest.approx(1112.26, abs=0.01)


@pytest.mark.parametrize(
    "text, moment, expected",
    [
        ("周一至周五 09:00-17:00", datetime(2025, 3, 5, 9, 0), True),
        ("周一至周五 09:00-17:00", datetime(2025, 3, 5, 17, 0), False),  # end is exclusive
        ("周一至周五 09:00-17:00", datetime(2025, 3, 8, 10, 0), False),  # Saturday
        ("周一至周五 08:30-12:00,13:30-17:00；周六 09:00-12:00", datetime(2025, 3, 5, 12, 30), False),
        ("周一至周五 08:30-12:00,13:30-17:00；周六 09:00-12:00", datetime(2025, 3, 8, 11, 59), True),
        ("每天 05:30-11:00", datetime(2025, 3, 9, 6, 0), True),
        ("工作日 9:00-17:00；周日休息", datetime(2025, 3, 9, 10, 0), False),
        ("24小时", datetime(2025, 3, 9, 3, 0), True),
        ("周二、周四 14:00-16:00", datetime(2025, 3, 6, 15, 0), True),
        ("周二、周四 14:00-16:00", datetime(2025, 3, 5, 15, 0), False),
        ("周一至周五 09:00-17:00；法定节假日除外", datetime(2025, 3, 5, 16, 59), True),
    ],
)
def test_opening_hours(text, moment, expected):
    assert OpeningHours.parse(text).is_open(moment.replace(tzinfo=SHANGHAI)) is expected


@pytest.mark.parametrize("text", ["随时欢迎", "周一至周五 17:00-09:00", "周五至周一 09:00-17:00", "09:00-25:00", ""])
def test_opening_hours_rejects_nonsense(text):
    with pytest.raises(ValueError):
        OpeningHours.parse(text)


def test_point_types_from_labels_codes_and_user_words():
    assert PointType.parse("零工市场") is PointType.GIG_MARKET
    assert PointType.parse("gig_market") is PointType.GIG_MARKET
    assert PointType.parse("县级职业指导工作室") is PointType.STUDIO_COUNTY
    assert parse_point_types("附近的零工市场") == {PointType.GIG_MARKET}
    assert parse_point_types("人才市场在哪") == {PointType.HR_MARKET}
    assert parse_point_types("职业指导工作室") == {PointType.STUDIO_CITY, PointType.STUDIO_COUNTY}
    assert parse_point_types("我在学校附近") == frozenset()
    assert parse_point_types("附近哪里能做职业指导") == frozenset()
    # a slot holding a list of labels (set by the job-search answer before a location message)
    assert parse_point_types("零工市场、人力资源市场") == {PointType.GIG_MARKET, PointType.HR_MARKET}
    assert parse_point_types("零工市场、菜市场") == {PointType.GIG_MARKET}  # not a list of labels: words
    assert len({t.label for t in PointType}) == len(PointType) == 10


def test_place_matcher_old_names_and_ambiguity():
    assert (match_place("济南历下区").city, match_place("济南历下区").district) == ("济南市", "历下区")
    assert (match_place("我在青岛黄岛").city, match_place("我在青岛黄岛").district) == ("青岛市", "黄岛区")
    assert match_place("莱芜").district == "莱芜区" and match_place("莱芜").city == "济南市"
    assert match_place("即墨").district == "即墨区"
    assert match_place("枣庄市中区").city == "枣庄市"
    assert match_place("市中区").city is None and match_place("市中区").ambiguous_district == "市中区"
    assert match_place("东营").district is None and match_place("东营").city == "东营市"
    assert match_place("北京朝阳") is None
    assert normalize_district("青岛市", "胶南市") == "黄岛区"
    assert normalize_district("济南市", "黄岛区") is None
    assert len({c for c, _ in DISTRICTS}) == 16 and len(DISTRICTS) == 136


def test_nearest_city_of_a_location():
    assert nearest_city(36.665, 117.070) == "济南市"  # 大明湖
    assert nearest_city(36.0622, 120.3844) == "青岛市"  # 五四广场
    assert nearest_city(37.46, 121.45) == "烟台市"
    assert nearest_city(39.90, 116.40) is None  # 北京: outside Shandong


# --------------------------------------------------------------------------------------
# Redis index and search
# --------------------------------------------------------------------------------------


async def test_nearest_ordering_matches_hand_computed_distances(store):
    lat0, lon0 = CENTER
    # Deliberately listed out of distance order, in several directions.
    offsets = [(0.012, 0.0), (0.0, -0.004), (-0.007, 0.006), (0.002, 0.002), (0.0, 0.02), (-0.015, -0.01)]
    points = [point(f"P{i}", lat0 + dlat, lon0 + dlon) for i, (dlat, dlon) in enumerate(offsets)]
    await store.upsert_many(points)

    page = await store.search(PointQuery(latitude=lat0, longitude=lon0), limit=10)

    expected = sorted(points, key=lambda p: hand_haversine(lat0, lon0, p.latitude, p.longitude))
    assert [h.point.id for h in page.hits] == [p.id for p in expected]
    for hit in page.hits:
        want = hand_haversine(lat0, lon0, hit.point.latitude, hit.point.longitude)
        assert hit.distance_m == pytest.approx(want, abs=2.0)  # geohash precision < 1 m
    # 0.012° north: 1334.7 m by hand; 0.002°/0.002°: about 283 m.
    by_id = {h.point.id: h.distance_m for h in page.hits}
    assert by_id["P0"] == pytest.approx(1334.7, abs=2.0)
    # Ten asked for, six exist: widened to the largest radius to fill the page.
    assert page.total == 6 and page.radius_km == 100
    first = await store.search(PointQuery(latitude=lat0, longitude=lon0))
    assert first.radius_km == 3 and first.total == 6 and len(first.hits) == 3


def north(km: float) -> float:
    """Degrees of latitude for `km` due north (0.01° = 1112.26 m on Redis's sphere)."""
    return km / 111.226


async def test_radius_widens_until_k_are_found_and_says_when_fewer_exist(store):
    lat0, lon0 = CENTER
    # One point 5.6 km north (outside 3 km), one ~45 km north, nothing closer.
    await store.upsert_many([point("N5", lat0 + 0.05, lon0), point("N45", lat0 + 0.4, lon0)])
    page = await store.search(PointQuery(latitude=lat0, longitude=lon0))
    assert page.radius_km == 100 and [h.point.id for h in page.hits] == ["N5", "N45"]
    text, shown = render_page(page)
    assert shown == 2 and text.startswith("您附近100公里内只有2个职业指导服务点")
    assert "距您5.6公里" in text and "距您44公里" in text and "更多" not in text

    far = await store.search(PointQuery(latitude=39.9, longitude=116.4))  # Beijing
    assert far.hits == [] and far.total == 0 and far.radius_km == 100
    text, shown = render_page(far)
    assert shown == 0 and "100公里内没有找到" in text

    await store.upsert_many([point(f"C{i}", lat0 + 0.001 * i, lon0) for i in range(1, 5)])
    near = await store.search(PointQuery(latitude=lat0, longitude=lon0))
    assert near.radius_km == 3 and [h.point.id for h in near.hits] == ["C1", "C2", "C3"]


async def test_one_point_at_2_8_km_does_not_end_the_search(store):
    """The issue's case: one point 2.8 km away, four more within 6 km -> the k nearest, then more."""
    lat0, lon0 = CENTER
    kms = {"K28": 2.8, "K35": 3.5, "K42": 4.2, "K50": 5.0, "K58": 5.8}
    await store.upsert_many([point(pid, lat0 + north(km), lon0) for pid, km in kms.items()])
    query = PointQuery(latitude=lat0, longitude=lon0)

    first = await store.search(query)
    assert [h.point.id for h in first.hits] == ["K28", "K35", "K42"] and first.total == 5
    text, shown = render_page(first)
    assert shown == 3 and text.startswith("离您最近的职业指导服务点（10公里内共5个，由近到远）")
    assert [f"距您{km}公里" in text for km in ("2.8", "3.5", "4.2")] == [True] * 3
    assert "回复“更多”" in text

    rest = await store.search(first.query, offset=shown)
    assert [h.point.id for h in rest.hits] == ["K50", "K58"]
    text, shown = render_page(rest)
    assert shown == 2 and "接上页" in text and "4. " in text and "距您5.8公里" in text
    assert "更多" not in text


async def test_more_pages_on_past_the_first_radius(store):
    lat0, lon0 = CENTER
    ids = ["A1", "A2", "A3", "A4", "F20", "F45"]
    kms = [0.5, 1.0, 1.5, 2.0, 20.0, 45.0]
    await store.upsert_many([point(pid, lat0 + north(km), lon0) for pid, km in zip(ids, kms)])
    first = await store.search(PointQuery(latitude=lat0, longitude=lon0))
    assert first.radius_km == 3 and [h.point.id for h in first.hits] == ids[:3]
    second = await store.search(first.query, offset=3)
    assert [h.point.id for h in second.hits] == ["A4", "F20", "F45"]
    assert second.radius_km == 100 and second.total == 6


async def test_a_city_list_starts_nearest_the_urban_centre(store):
    # The county towns' public offices would come first by type; the city centre's points must.
    await store.upsert_many(
        [
            point("LAIWU", 36.2144, 117.6770, district="莱芜区"),
            point("PINGYIN", 36.2896, 116.4561, district="平阴县"),
            point("LIXIA", 36.6665, 117.0765, PointType.COMMUNITY_STATION),
            point("CENTRE", 36.6520, 117.1210, PointType.GIG_MARKET),
            point("ZHANGQIU", 36.6813, 117.5266, PointType.HR_MARKET, district="章丘区"),
        ]
    )
    seat_lat, seat_lon = 36.6512, 117.120098  # 济南市 in data/shandong_places.csv
    page = await store.search(PointQuery(city="济南市"), limit=5)
    ids = [h.point.id for h in page.hits]
    assert ids == ["CENTRE", "LIXIA", "ZHANGQIU", "LAIWU", "PINGYIN"]  # 66 km, 70 km
    for hit in page.hits:
        want = hand_haversine(seat_lat, seat_lon, hit.point.latitude, hit.point.longitude)
        assert hit.distance_m == pytest.approx(want, abs=1.0)
    text, _ = render_page(page)
    assert text.startswith("济南市的职业指导服务点共5个（离市中心由近到远）")
    assert "距济南市中心" in text
    more = await store.search(page.query, offset=2, limit=2)
    assert [h.point.id for h in more.hits] == ["ZHANGQIU", "LAIWU"]


async def test_type_filter_picks_the_type_even_when_others_are_nearer(store):
    lat0, lon0 = CENTER
    await store.upsert_many(
        [
            point("PUB", lat0 + 0.001, lon0),
            point("GIG1", lat0 + 0.02, lon0, PointType.GIG_MARKET),
            point("GIG2", lat0 + 0.005, lon0, PointType.GIG_MARKET),
            point("STC", lat0 + 0.003, lon0, PointType.STUDIO_CITY),
            point("STX", lat0 + 0.004, lon0, PointType.STUDIO_COUNTY),
        ]
    )
    gig = await store.search(PointQuery(latitude=lat0, longitude=lon0, types=frozenset({PointType.GIG_MARKET})))
    assert [h.point.id for h in gig.hits] == ["GIG2", "GIG1"]
    studios = await store.search(
        PointQuery(latitude=lat0, longitude=lon0, types=parse_point_types("职业指导工作室"))
    )
    assert [h.point.id for h in studios.hits] == ["STC", "STX"]
    everything = await store.search(PointQuery(latitude=lat0, longitude=lon0), limit=10)
    assert everything.hits[0].point.id == "PUB" and everything.total == 5


async def test_district_and_city_filters(store):
    await store.upsert_many(
        [
            point("LX1", 36.66, 117.07, district="历下区"),
            point("LX2", 36.67, 117.08, PointType.GIG_MARKET, district="历下区"),
            point("HY1", 36.65, 116.90, district="槐荫区"),
            point("QD1", 36.07, 120.38, city="青岛市", district="市南区"),
            point("ZZ1", 34.86, 117.55, city="枣庄市", district="市中区"),
            point("JSZ", 36.65, 117.00, city="济南市", district="市中区"),
        ]
    )
    lixia = await store.search(PointQuery(city="济南市", district="历下区"), limit=10)
    assert {h.point.id for h in lixia.hits} == {"LX1", "LX2"} and lixia.total == 2
    assert all(h.distance_m is None for h in lixia.hits)
    assert lixia.hits[0].point.id == "LX1"  # the public office is listed first
    jinan = await store.search(PointQuery(city="济南市"), limit=10)
    assert {h.point.id for h in jinan.hits} == {"LX1", "LX2", "HY1", "JSZ"}
    zz = await store.search(PointQuery(city="枣庄市", district="市中区"))
    assert [h.point.id for h in zz.hits] == ["ZZ1"]
    typed = await store.search(
        PointQuery(city="济南市", district="历下区", types=frozenset({PointType.GIG_MARKET}))
    )
    assert [h.point.id for h in typed.hits] == ["LX2"]
    # Coordinates plus a district: nearest first, only that district.
    near_hy = await store.search(PointQuery(latitude=36.66, longitude=117.07, city="济南市", district="槐荫区"))
    assert [h.point.id for h in near_hy.hits] == ["HY1"] and near_hy.radius_km == 100


async def test_place_without_points_falls_back_to_nearest_around_its_seat(store):
    await store.upsert_many([point("LX1", 36.66, 117.07), point("HY1", 36.65, 116.90, district="槐荫区")])
    page = await store.search(PointQuery(city="济南市", district="章丘区"))
    assert page.fell_back_to_nearby and page.query.has_location
    seat = DISTRICTS[("济南市", "章丘区")]
    assert [h.point.id for h in page.hits] == ["LX1", "HY1"]
    want = hand_haversine(seat.lat, seat.lon, 36.66, 117.07)
    assert page.hits[0].distance_m == pytest.approx(want, abs=2.0)
    text, _ = render_page(page, original=PointQuery(city="济南市", district="章丘区"))
    assert text.startswith("暂未收录济南市章丘区的职业指导服务点") and "距章丘区中心" in text


async def test_upsert_moves_index_entries_and_inactive_points_leave_search(store, redis, settings):
    await store.upsert_many([point("A", 36.66, 117.07), point("B", 36.661, 117.071)])
    result = await store.upsert_many(
        [
            point("A", 36.65, 116.90, PointType.GIG_MARKET, district="槐荫区"),
            point("B", 36.661, 117.071, active=False),
            point("C", 36.662, 117.072),
        ]
    )
    assert (result.created, result.updated) == (1, 2)
    lixia = await store.search(PointQuery(city="济南市", district="历下区"), limit=10)
    assert [h.point.id for h in lixia.hits] == ["C"]
    assert await redis.sismember(settings.key("points", "district", "济南市", "槐荫区"), "A")
    assert not await redis.sismember(settings.key("points", "type", "public_service"), "A")
    assert await redis.zscore(settings.key("points", "geo", "public_service"), "A") is None
    near = await store.search(PointQuery(latitude=36.661, longitude=117.071), limit=10)
    assert "B" not in {h.point.id for h in near.hits}
    assert {p.id for p in await store.all_points()} == {"A", "B", "C"}  # B kept for export
    assert (await store.get("A")).type is PointType.GIG_MARKET
    assert await store.delete("C") and await store.get("C") is None
    assert await redis.scard(settings.key("points", "city", "济南市")) == 1


async def test_open_now_awareness(store, clock):
    lat0, lon0 = CENTER
    await store.upsert_many(
        [
            point("OFFICE", lat0 + 0.001, lon0, hours="周一至周五 09:00-17:00"),
            point("GIG", lat0 + 0.002, lon0, PointType.GIG_MARKET, hours="每天 05:30-09:30"),
            point("UNKNOWN", lat0 + 0.003, lon0, hours=""),
        ]
    )
    page = await store.search(PointQuery(latitude=lat0, longitude=lon0))
    assert [(h.point.id, h.open_now) for h in page.hits] == [("OFFICE", True), ("GIG", False), ("UNKNOWN", None)]
    text, _ = render_page(page)
    assert "（现在开放）" in text and "（现在未开放）" in text

    only_open = await store.search(PointQuery(latitude=lat0, longitude=lon0, open_now_only=True))
    assert [h.point.id for h in only_open.hits] == ["OFFICE"]
    clock.set(datetime(2025, 3, 9, 7, 0))  # Sunday 07:00: only the gig market
    only_open = await store.search(PointQuery(latitude=lat0, longitude=lon0, open_now_only=True))
    assert [h.point.id for h in only_open.hits] == ["GIG"]


async def test_pages_fit_wechat_and_cover_every_point_once(store):
    lat0, lon0 = CENTER
    long_name = "超长名称" * 30
    points = [
        point(f"L{i:02d}", lat0 + 0.001 * i, lon0, name=long_name + str(i)) for i in range(1, 12)
    ]
    points = [
        ServicePoint(**{**p.__dict__, "address": "很长的地址" * 50, "hours": "周一至周五 09:00-17:00；" * 5})
        for p in points
    ]
    await store.upsert_many(points)
    query = PointQuery(latitude=lat0, longitude=lon0)
    seen: List[str] = []
    offset = 0
    while True:
        page = await store.search(query if offset == 0 else page.query, offset=offset, limit=3)
        text, shown = render_page(page)
        assert len(text.encode("utf-8")) <= 2048
        if not shown:
            break
        seen += [h.point.id for h in page.hits[:shown]]
        offset += shown
    assert seen == [p.id for p in points]


async def test_query_json_round_trip():
    query = PointQuery(
        latitude=36.6, longitude=117.0, city="济南市", district="历下区",
        types=frozenset({PointType.GIG_MARKET, PointType.HR_MARKET}), radius_km=30, anchor_label="您",
    )
    assert PointQuery.from_json(query.to_json()) == query
