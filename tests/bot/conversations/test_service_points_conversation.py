"""Issue 5 through the whole stack: WeChat location / place / type -> service points.

Expected answers are computed here from the points the gateway loaded into Redis
(`user.services.points`), with our own haversine, independent of the search code.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Iterable, List, Optional

import pytest

from bot.services.points.model import PointType, ServicePoint

pytestmark = pytest.mark.stack

# Redis GEO uses this sphere; our own formula, not the service's.
_EARTH_M = 6372797.560856
# Near 济南 大明湖 (GCJ-02): six sample points within 3 km, so two pages.
DAMINGHU = (36.665, 117.070)
# 青岛 五四广场
WUSI = (36.0622, 120.3844)

_ENTRY = re.compile(r"^(\d+)\. (.+?)(?:（示例）)?$")
_TYPE = re.compile(r"^类型：([^｜]+)(?:｜距.+?(\d+(?:\.\d+)?)(米|公里))?$")


@dataclass
class Entry:
    number: int
    name: str
    type_label: str
    distance_m: Optional[float]
    address: str


def parse_entries(reply: str) -> List[Entry]:
    entries: List[Entry] = []
    lines = reply.splitlines()
    for i, line in enumerate(lines):
        head = _ENTRY.match(line)
        kind = _TYPE.match(lines[i + 1]) if head and i + 1 < len(lines) else None
        if not (head and kind):
            continue
        distance = None
        if kind.group(2):
            distance = float(kind.group(2)) * (1000 if kind.group(3) == "公里" else 1)
        address = lines[i + 2].removeprefix("地址：") if i + 2 < len(lines) else ""
        entries.append(Entry(int(head.group(1)), head.group(2), kind.group(1), distance, address))
    return entries


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_M * math.asin(math.sqrt(a))


async def active_points(user) -> List[ServicePoint]:
    points = [p for p in await user.services.points.all_points() if p.active]
    assert len(points) >= 64, "the sample data should be loaded by the gateway"
    return points


def nearest(points: Iterable[ServicePoint], lat: float, lon: float) -> List[tuple]:
    return sorted(((metres(lat, lon, p.latitude, p.longitude), p.id, p) for p in points), key=lambda t: t[:2])


def assert_distance_shown(entry: Entry, expected_m: float) -> None:
    # The reply rounds: 10 m below 1 km, 0.1 km below 10 km, 1 km above.
    tolerance = 10 if expected_m < 1000 else (100 if expected_m < 10000 else 1000)
    assert entry.distance_m is not None, entry
    assert abs(entry.distance_m - expected_m) <= tolerance, (entry, expected_m)


async def timed(latencies: List[float], coro):
    start = time.perf_counter()
    reply = await coro
    latencies.append(time.perf_counter() - start)
    return reply


async def test_location_message_lists_nearest_points_and_more_pages_on(chat):
    user = chat()
    lat, lon = DAMINGHU
    points = await active_points(user)
    expected = nearest(points, lat, lon)
    latencies: List[float] = []

    reply = await timed(latencies, user.send_location(lat, lon, "大明湖"))
    first = parse_entries(reply)
    assert len(first) == 3, reply
    assert "按您发送的位置（大明湖）" in reply and "上次" not in reply, reply
    assert [e.name for e in first] == [t[2].name for t in expected[:3]], reply
    for entry, (dist, _, point) in zip(first, expected):
        assert_distance_shown(entry, dist)
        assert entry.type_label == point.type.label
        assert entry.address.startswith(point.city + point.district)
    assert "更多" in reply and len(reply.encode()) <= 2048

    more = await timed(latencies, user.say("更多"))
    second = parse_entries(more)
    assert [e.number for e in second] == [4, 5, 6], more
    assert [e.name for e in second] == [t[2].name for t in expected[3:6]], more
    for entry, (dist, _, _) in zip(second, expected[3:6]):
        assert_distance_shown(entry, dist)
    print(f"\nlocation latencies (s): {[round(x, 3) for x in latencies]}")


async def test_type_after_a_location_lists_only_that_type(chat):
    user = chat()
    lat, lon = DAMINGHU
    await user.send_location(lat, lon, "大明湖")
    start = time.perf_counter()
    reply = await user.say("附近的零工市场")
    elapsed = time.perf_counter() - start
    entries = parse_entries(reply)
    assert entries, reply
    assert {e.type_label for e in entries} == {PointType.GIG_MARKET.label}, reply
    gig = [p for p in await active_points(user) if p.type is PointType.GIG_MARKET]
    expected = nearest(gig, lat, lon)
    assert [e.name for e in entries] == [t[2].name for t in expected[: len(entries)]], reply
    assert_distance_shown(entries[0], expected[0][0])
    print(f"\ntype-filter latency: {elapsed:.3f}s")


@pytest.mark.parametrize(
    "text, city, district",
    [
        ("济南历下区有没有职业指导的地方", "济南市", "历下区"),
        ("我在青岛黄岛", "青岛市", "黄岛区"),
    ],
)
async def test_a_district_mention_lists_the_points_there(chat, text, city, district):
    user = chat()
    there = [p for p in await active_points(user) if p.city == city and p.district == district]
    assert there, f"the sample data has points in {city}{district}"
    start = time.perf_counter()
    reply = await user.say(text)
    elapsed = time.perf_counter() - start
    entries = parse_entries(reply)
    assert f"{city}{district}" in reply and f"共{len(there)}个" in reply, reply
    assert entries and all(e.address.startswith(city + district) for e in entries), reply
    assert all(e.distance_m is None for e in entries)  # no location: no distance claimed
    assert {e.name for e in entries} <= {p.name for p in there}
    print(f"\n{text}: {elapsed:.3f}s")


async def test_an_old_place_name_maps_to_todays_district(chat):
    """莱芜 (a city until 2019) is 济南市莱芜区 now; the sample holds no point there, so the
    answer must say so and list the nearest points around the district's seat."""
    user = chat()
    points = await active_points(user)
    in_laiwu = [p for p in points if p.city == "济南市" and p.district == "莱芜区"]
    reply = await user.say("莱芜有没有就业服务点")
    entries = parse_entries(reply)
    assert "莱芜区" in reply, reply
    assert entries, reply
    if in_laiwu:
        assert all(e.address.startswith("济南市莱芜区") for e in entries), reply
    else:
        from bot.services.geo import DISTRICTS

        seat = DISTRICTS[("济南市", "莱芜区")]
        expected = nearest(points, seat.lat, seat.lon)
        assert "暂未收录" in reply, reply
        assert [e.name for e in entries] == [t[2].name for t in expected[: len(entries)]], reply
        assert_distance_shown(entries[0], expected[0][0])


async def test_no_location_and_no_place_asks_how_to_send_one(chat):
    user = chat()
    reply = await user.say("附近有就业服务点吗")
    assert parse_entries(reply) == [], reply
    assert "位置" in reply and "+" in reply and "发送" in reply, reply
    # The answer to the question is a place: the search then runs there.
    reply = await user.say("济南历下区")
    entries = parse_entries(reply)
    assert entries and all(e.address.startswith("济南市历下区") for e in entries), reply


async def test_more_without_a_listing_says_there_is_nothing_more(chat):
    user = chat()
    reply = await user.say("更多")
    assert parse_entries(reply) == [] and "没有更多" in reply, reply


async def test_a_location_in_qingdao_and_paging_to_the_end(chat):
    user = chat()
    lat, lon = WUSI
    expected = nearest(await active_points(user), lat, lon)
    reply = await user.send_location(lat, lon, "五四广场")
    shown = parse_entries(reply)
    assert shown[0].name == expected[0][2].name, reply
    assert all(a.distance_m <= b.distance_m for a, b in zip(shown, shown[1:]))
    # "更多" pages on past the first answer's radius, up to the widest (100 km): numbering
    # continues, distances never shrink, and every point within 100 km is shown once.
    within = [t for t in expected if t[0] <= 100_000]
    pages = 1
    while "回复“更多”" in reply and pages < 40:
        reply = await user.say("更多")
        page = parse_entries(reply)
        assert page and page[0].number == shown[-1].number + 1, reply
        shown += page
        pages += 1
    assert [e.name for e in shown] == [t[2].name for t in within]
    assert all(a.distance_m <= b.distance_m + 1 for a, b in zip(shown, shown[1:]))
    assert "没有更多" in await user.say("更多")
