"""The service-point actions run directly with rasa_sdk Trackers against real Redis."""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.service_points as sp
from actions import runtime
from bot.clock import SHANGHAI, FrozenClock
from bot.services.points.files import SAMPLE_FILE, load_sample_if_empty, read_points_file
from bot.services.points.model import PointType, ServicePoint
from bot.services.points.store import ServicePointStore

NOW = datetime(2025, 3, 5, 10, 0, tzinfo=SHANGHAI)  # a Wednesday morning
OPENID = "oTestUser0001"
SAMPLE = read_points_file(SAMPLE_FILE).points
DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text("utf-8"))


def hand_haversine(lat1, lon1, lat2, lon2) -> float:
    r = 6372797.560856
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(
        math.radians(lon2 - lon1) / 2
    ) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def tracker(
    text: str = "",
    intent: str = "find_service_point",
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    history = list(events or []) + [{"event": "user", "text": text, "parse_data": latest}]
    return Tracker(OPENID, dict(slots or {}), latest, history, False, None, {}, "action_listen")


def ents(**values: Any) -> List[Dict[str, Any]]:
    return [{"entity": k, "value": v} for k, v in values.items()]


async def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture
async def seeded(action_runtime, redis, settings, monkeypatch):
    monkeypatch.setattr(sp, "CLOCK", FrozenClock(NOW))
    store = ServicePointStore(redis, settings)
    assert await load_sample_if_empty(store) == len(SAMPLE)
    yield store
    client = runtime.redis()
    await client.close()


def names_in(text: str) -> List[str]:
    """Sample point names listed in a reply, in the order the reply lists them."""
    found = [(text.find(f". {p.name}（示例）"), p.name) for p in SAMPLE]
    return [name for pos, name in sorted(found) if pos >= 0]


async def test_location_entities_list_nearest_sample_points_with_distances(seeded):
    lat, lon = 36.07, 120.38  # 青岛 市南区
    msgs, slots = await run(
        sp.ActionFindServicePoint(),
        tracker('/find_service_point{"latitude": 36.07, "longitude": 120.38}', entities=ents(latitude=lat, longitude=lon)),
    )
    assert len(msgs) == 1
    text = msgs[0]["text"]
    expected = sorted(SAMPLE, key=lambda p: hand_haversine(lat, lon, p.latitude, p.longitude))
    shown = names_in(text)
    # The k nearest, however far the third one is (no longer only those within 3 km).
    assert shown == [p.name for p in expected[:3]]
    nearest = expected[0]
    km = hand_haversine(lat, lon, nearest.latitude, nearest.longitude)
    dist = f"{km / 1000:.1f}公里" if km >= 1000 else f"{int(round(km / 10.0)) * 10}米"
    assert f"距您{dist}" in text
    for label in ("类型：", "地址：", "时间：", "电话："):
        assert label in text
    assert len(text.encode("utf-8")) <= 2048
    assert json.loads(slots["points_page"])["o"] == len(shown)
    assert "更多" in text


async def test_district_entities_list_that_districts_points(seeded):
    msgs, _ = await run(sp.ActionFindServicePoint(), tracker("济南历下区", intent="inform", entities=ents(city="济南", district="历下区")))
    text = msgs[0]["text"]
    in_lixia = [p for p in SAMPLE if (p.city, p.district) == ("济南市", "历下区")]
    assert text.startswith(f"济南市历下区的职业指导服务点共{len(in_lixia)}个")
    assert set(names_in(text)) <= {p.name for p in in_lixia} and names_in(text)
    assert "距您" not in text


async def test_old_place_name_in_text_and_type_filter(seeded):
    msgs, _ = await run(sp.ActionFindServicePoint(), tracker("莱芜有职业指导工作室吗", entities=ents(point_type="职业指导工作室")))
    text = msgs[0]["text"]
    want = [p for p in SAMPLE if p.district == "莱芜区" and p.type in (PointType.STUDIO_CITY, PointType.STUDIO_COUNTY)]
    if want:
        assert set(names_in(text)) <= {p.name for p in want}
    else:  # none registered there: nearest studios around 莱芜区 instead
        assert text.startswith("暂未收录济南市莱芜区的职业指导工作室")
        assert all("职业指导工作室" in line for line in text.splitlines() if line.startswith("类型："))


async def test_type_from_words_with_location(seeded):
    msgs, _ = await run(
        sp.ActionFindServicePoint(),
        tracker("附近的零工市场", entities=ents(latitude=36.66, longitude=117.07, point_type="零工市场")),
    )
    text = msgs[0]["text"]
    types = [line for line in text.splitlines() if line.startswith("类型：")]
    assert types and all(line.startswith("类型：零工市场｜距您") for line in types)


async def test_remembered_location_is_used(seeded, redis, settings):
    stored = {"latitude": 37.54, "longitude": 121.40, "label": "烟台市芝罘区", "at": (NOW - timedelta(hours=2)).isoformat()}
    await redis.set(settings.key("location", OPENID), json.dumps(stored, ensure_ascii=False))
    msgs, _ = await run(sp.ActionFindServicePoint(), tracker("附近有什么服务点"))
    text = msgs[0]["text"]
    assert text.startswith("按您上次发送的位置（烟台市芝罘区）查找：")
    nearest = min(SAMPLE, key=lambda p: hand_haversine(37.54, 121.40, p.latitude, p.longitude))
    assert names_in(text)[0] == nearest.name and len(text.encode("utf-8")) <= 2048


async def test_stale_remembered_location_is_ignored_and_nothing_asks(seeded, redis, settings):
    old = {"latitude": 37.54, "longitude": 121.40, "label": "", "at": (NOW - timedelta(days=30)).timestamp()}
    await redis.set(settings.key("location", OPENID), json.dumps(old))
    msgs, slots = await run(sp.ActionFindServicePoint(), tracker("附近哪里能做职业指导"))
    assert msgs[0]["response"] == "utter_points_ask_location"
    assert slots["points_page"] is None
    ask = DOMAIN["responses"]["utter_points_ask_location"][0]["text"]
    assert "“+”" in ask and "位置" in ask


async def test_type_is_kept_while_asking_and_applied_to_the_location_that_follows(seeded):
    msgs, slots = await run(sp.ActionFindServicePoint(), tracker("附近的零工市场"))
    assert msgs[0]["response"] == "utter_points_ask_location" and slots["point_type"] == "零工市场"
    msgs, slots = await run(
        sp.ActionFindServicePoint(),
        tracker("/find_service_point", entities=ents(latitude=36.07, longitude=120.38), slots={"point_type": "零工市场"}),
    )
    lines = [l for l in msgs[0]["text"].splitlines() if l.startswith("类型：")]
    assert lines and all(l.startswith("类型：零工市场") for l in lines)
    assert slots["point_type"] is None


async def test_ambiguous_district_asks_for_the_city(seeded):
    msgs, _ = await run(sp.ActionFindServicePoint(), tracker("市中区有服务点吗", entities=ents(district="市中区")))
    assert msgs[0]["response"] == "utter_points_ask_city"


async def test_an_earlier_city_is_used_but_not_an_earlier_questions_district(seeded):
    # "环翠区有招聘会吗" earlier; a later search that names no place is about the city, not 环翠区
    msgs, slots = await run(sp.ActionFindServicePoint(), tracker("附近有服务点吗", slots={"city": "威海", "district": "环翠区"}))
    assert msgs[0]["text"].startswith("威海市的职业指导服务点共")
    assert "district" in slots and slots["district"] is None


async def test_a_district_named_in_the_search_applies_to_that_search_only(seeded):
    msgs, slots = await run(sp.ActionFindServicePoint(), tracker("威海环翠区的服务点", entities=ents(city="威海", district="环翠")))
    assert msgs[0]["text"].startswith("威海市环翠区的职业指导服务点共")
    assert slots["district"] is None


async def test_more_pages_through_everything_then_stops(seeded):
    find_event = {"event": "action", "name": "action_find_service_point"}
    msgs, slots = await run(sp.ActionFindServicePoint(), tracker("济南", entities=ents(city="济南")))
    seen = names_in(msgs[0]["text"])
    jinan = {p.name for p in SAMPLE if p.city == "济南市"}
    events = [find_event]
    while slots.get("points_page"):
        msgs, slots = await run(
            sp.ActionMoreServicePoints(),
            tracker("更多", intent="more", slots={"points_page": slots["points_page"]}, events=events),
        )
        text = msgs[0]["text"]
        assert len(text.encode("utf-8")) <= 2048 and "接上页" in text
        seen += names_in(text)
        events = [{"event": "action", "name": "action_more_service_points"}]
    assert sorted(seen) == sorted(jinan) and len(seen) == len(set(seen))
    msgs, _ = await run(sp.ActionMoreServicePoints(), tracker("更多", intent="more", events=events))
    assert msgs[0]["response"] == "utter_points_no_more"


async def test_more_after_another_features_listing_says_nothing_more(seeded):
    msgs, slots = await run(sp.ActionFindServicePoint(), tracker("济南", entities=ents(city="济南")))
    cursor = slots["points_page"]
    assert cursor
    events = [{"event": "action", "name": "action_find_service_point"}, {"event": "action", "name": "action_my_bookings"}]
    msgs, slots = await run(
        sp.ActionMoreServicePoints(), tracker("更多", intent="more", slots={"points_page": cursor}, events=events)
    )
    assert msgs[0]["response"] == "utter_points_no_more" and slots["points_page"] is None


async def test_redis_down_gives_a_polite_answer(action_runtime, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    runtime.settings.cache_clear()
    runtime.redis.cache_clear()
    msgs, _ = await run(sp.ActionFindServicePoint(), tracker("/x", entities=ents(latitude=36.6, longitude=117.0)))
    assert msgs[0]["response"] == "utter_points_unavailable"
    assert "utter_points_unavailable" in DOMAIN["responses"]


async def test_a_location_sent_in_this_message_is_not_called_the_last_one(seeded, redis, settings):
    # The channel stores the location before Rasa runs, so a remembered one exists too.
    stored = {"latitude": 36.07, "longitude": 120.38, "label": "五四广场", "at": NOW.isoformat()}
    await redis.set(settings.key("location", OPENID), json.dumps(stored, ensure_ascii=False))
    msgs, _ = await run(
        sp.ActionFindServicePoint(),
        tracker("/find_service_point", entities=ents(latitude=36.07, longitude=120.38, location_label="五四广场")),
    )
    text = msgs[0]["text"]
    assert text.startswith("按您发送的位置（五四广场）查找：") and "上次" not in text
    assert len(text.encode("utf-8")) <= 2048


def _seat(city: str) -> tuple:
    """(lat, lon) of a city's seat, read from the shipped table, not through the product."""
    for line in (Path(__file__).resolve().parents[2] / "data" / "shandong_places.csv").read_text("utf-8").splitlines():
        cells = line.split(",")
        if len(cells) == 6 and cells[1] == city and cells[2] == "prefecture":
            return float(cells[5]), float(cells[4])
    raise KeyError(city)


@pytest.fixture
async def custom(action_runtime, redis, settings, monkeypatch):
    """An empty index the test fills itself (no sample data)."""
    monkeypatch.setattr(sp, "CLOCK", FrozenClock(NOW))
    yield ServicePointStore(redis, settings)
    await runtime.redis().close()


def _point(pid: str, km_north: float, base=(36.66, 117.07)) -> ServicePoint:
    return ServicePoint(
        id=pid, name=f"测试点{pid}", type=PointType.PUBLIC_SERVICE, city="济南市", district="历下区",
        address="测试路1号", latitude=base[0] + km_north / 111.226, longitude=base[1],
        hours="周一至周五 09:00-17:00", phone="0531-12333",
    )


async def test_one_point_at_2_8_km_then_four_within_6_km_shows_k_and_more_shows_the_rest(custom):
    await custom.upsert_many([_point(f"K{i}", km) for i, km in enumerate((2.8, 3.5, 4.2, 5.0, 5.8))])
    msgs, slots = await run(sp.ActionFindServicePoint(), tracker("/x", entities=ents(latitude=36.66, longitude=117.07)))
    text = msgs[0]["text"]
    entries = [line for line in text.splitlines() if line.startswith("类型：")]
    assert len(entries) >= 3, text
    assert [e.split("距您")[1] for e in entries[:3]] == ["2.8公里", "3.5公里", "4.2公里"], text
    assert "回复“更多”" in text and slots["points_page"]
    events = [{"event": "action", "name": "action_find_service_point"}]
    msgs, slots = await run(
        sp.ActionMoreServicePoints(),
        tracker("更多", intent="more", slots={"points_page": slots["points_page"]}, events=events),
    )
    more = msgs[0]["text"]
    assert "接上页" in more and "4. 测试点K3" in more and "5. 测试点K4" in more, more
    assert "距您5.8公里" in more and slots["points_page"] is None


async def test_fewer_than_k_within_the_widest_radius_are_all_listed_and_said(custom):
    await custom.upsert_many([_point("ONLY1", 2.0), _point("ONLY2", 60.0)])
    msgs, slots = await run(sp.ActionFindServicePoint(), tracker("/x", entities=ents(latitude=36.66, longitude=117.07)))
    text = msgs[0]["text"]
    assert "只有2个" in text and "测试点ONLY1" in text and "测试点ONLY2" in text, text
    assert text.index("ONLY1") < text.index("ONLY2") and slots["points_page"] is None


async def test_a_city_list_starts_with_the_points_nearest_the_urban_centre(seeded):
    msgs, _ = await run(sp.ActionFindServicePoint(), tracker("济南", entities=ents(city="济南")))
    text = msgs[0]["text"]
    lat, lon = _seat("济南市")
    jinan = sorted(
        (p for p in SAMPLE if p.city == "济南市"), key=lambda p: (hand_haversine(lat, lon, p.latitude, p.longitude), p.id)
    )
    shown = names_in(text)
    assert shown and shown == [p.name for p in jinan[: len(shown)]], text
    assert "离市中心由近到远" in text and "距济南市中心" in text


async def test_more_after_a_reply_that_listed_other_ways_gives_them_again(seeded):
    camp_no = "按您的情况（37岁）：……\n如果不符合条件，也可以考虑：\n· 空中课堂免费在线课程，说“看课程”即可\n· 一对一职业指导师咨询，说“转人工”即可"
    events = [{"event": "action", "name": "action_camp_info"}, {"event": "bot", "text": camp_no}]
    msgs, _ = await run(sp.ActionMoreServicePoints(), tracker("那还有啥别的办法", intent="more", events=events))
    assert "空中课堂" in msgs[0]["text"] and "转人工" in msgs[0]["text"]
    # a plain "更多" there still says there is nothing more
    msgs, _ = await run(sp.ActionMoreServicePoints(), tracker("更多", intent="more", events=events))
    assert msgs[0]["response"] == "utter_points_no_more"
