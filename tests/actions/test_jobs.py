"""The looking-for-work and job-fair actions, run directly against real Redis with the shipped samples."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any, Dict, List

import pytest
from redis.exceptions import RedisError

import actions.jobs as jobs
import actions.service_points as sp
from actions import runtime
from bot.clock import FrozenClock, system_clock
from bot.services.courses import day_range
from bot.services.job_fairs.files import load_sample_if_empty as load_sample_fairs
from bot.services.job_fairs.store import JobFairStore
from bot.services.location import LocationStore
from bot.services.points.files import load_sample_if_empty as load_sample_points
from bot.services.points.model import PointType, parse_point_types
from bot.services.points.store import ServicePointStore
from bot.services.reply_size import PASSIVE_REPLY_MAX_BYTES, byte_len
from tests.helpers.action_tracker import SENDER, bot_said, entities, make_tracker, run_action

# Any day works: the sample fairs move with the calendar. Three instants of the coming week.
TODAY = system_clock()


@pytest.fixture(params=[0, 3, 5])
async def seeded(request, action_runtime, redis, settings, monkeypatch):
    clock = FrozenClock(TODAY + timedelta(days=request.param))
    monkeypatch.setattr(jobs, "CLOCK", clock)
    monkeypatch.setattr(sp, "CLOCK", clock)
    await load_sample_points(ServicePointStore(redis, settings))
    await load_sample_fairs(JobFairStore(redis, settings))
    yield clock
    await runtime.redis().close()


def text_of(messages: List[Dict[str, Any]]) -> str:
    assert len(messages) == 1
    return messages[0].get("text") or messages[0].get("response")


def listed_titles(text: str) -> List[str]:
    return re.findall(r"^\d+\. (.+)$", text, flags=re.M)


async def test_fairs_next_week_in_jinan(seeded):
    t = make_tracker("下周济南有招聘会吗", "find_job_fair", entities(city="济南", time="下周"))
    messages, slots = await run_action(jobs.ActionFindJobFair(), t)
    text = text_of(messages)
    window = day_range("下周", seeded())
    assert text.startswith("济南市下周招聘会共")
    assert 1 <= len(listed_titles(text)) <= 5
    dates = re.findall(r"时间：(\d+)月(\d+)日（周([一二三四五六日])）", text)
    assert dates and all(
        any((d.month, d.day) == (int(m), int(dd)) for d in
            (window.start + timedelta(days=i) for i in range(7)))
        for m, dd, _ in dates
    )
    assert "示例" in text and "面向：" in text and "参加：" in text
    assert byte_len(text) <= PASSIVE_REPLY_MAX_BYTES
    assert slots[jobs.PENDING_SLOT] is None


async def test_default_is_the_coming_30_days_nearest_first_and_more_pages_on(seeded):
    t = make_tracker("济南招聘会", "find_job_fair", entities(city="济南"))
    messages, slots = await run_action(jobs.ActionFindJobFair(), t)
    first = text_of(messages)
    assert len(listed_titles(first)) == 5 and "回复“更多”" in first
    cursor = slots[jobs.FAIRS_PAGE_SLOT]
    assert cursor
    more = make_tracker("更多", "more", slots={jobs.FAIRS_PAGE_SLOT: cursor},
                        events=bot_said(jobs.FIND_FAIR_ACTION, "济南招聘会"))
    messages, slots = await run_action(jobs.ActionMoreJobFairs(), more)
    second = text_of(messages)
    assert "接上页" in second and listed_titles(second)[0].startswith("6. ") is False
    assert set(listed_titles(first)).isdisjoint(listed_titles(second))
    assert re.search(r"^6\. ", second, flags=re.M)


async def test_more_without_a_fair_listing_before_says_no_more(seeded):
    more = make_tracker("更多", "more", slots={jobs.FAIRS_PAGE_SLOT: '{"q":"{}","o":5}'},
                        events=bot_said("action_find_service_point"))
    messages, _ = await run_action(jobs.ActionMoreJobFairs(), more)
    assert messages[0]["response"] == "utter_jobs_no_more"


async def test_no_city_asks_then_the_answer_keeps_the_first_filters(seeded):
    messages, slots = await run_action(jobs.ActionFindJobFair(), make_tracker("有没有应届生的招聘会", "find_job_fair"))
    assert messages[0]["response"] == "utter_jobs_ask_city"
    pending = slots[jobs.PENDING_SLOT]
    assert json.loads(pending)["audience"] == "应届生"
    answer = make_tracker("烟台", "inform", entities(city="烟台"), slots={jobs.PENDING_SLOT: pending},
                          events=bot_said(jobs.FIND_FAIR_ACTION, "有没有应届生的招聘会"))
    messages, slots = await run_action(jobs.ActionFindJobFair(), answer)
    text = text_of(messages)
    assert "烟台市" in text and "面向应届生" in text
    assert slots[jobs.PENDING_SLOT] is None


async def test_online_fairs_need_no_city(seeded):
    messages, _ = await run_action(jobs.ActionFindJobFair(), make_tracker("有没有线上招聘会", "find_job_fair"))
    text = text_of(messages)
    assert "线上专场" in text and "线上：" in text and "地点：" not in text


async def test_nothing_found_offers_later_dates_other_cities_and_online(seeded):
    t = make_tracker("明天东营有残疾人招聘会吗", "find_job_fair", entities(city="东营", time="明天"))
    messages, _ = await run_action(jobs.ActionFindJobFair(), t)
    text = text_of(messages)
    assert text.startswith("暂时没有查到东营市明天面向残疾人的招聘会")
    assert "同期其他城市" in text or "之后最近的有" in text or "线上专场" in text
    assert "12333" in text


async def test_a_location_sent_this_turn_finds_the_city(seeded):
    t = make_tracker('/find_job_fair{"latitude": 36.07, "longitude": 120.38}', "find_job_fair",
                     entities(latitude=36.07, longitude=120.38))
    messages, _ = await run_action(jobs.ActionFindJobFair(), t)
    assert text_of(messages).startswith("青岛市")


async def test_find_job_with_a_city_names_the_trade_markets_fairs_booking_and_channels(seeded):
    t = make_tracker("想在济南找个电工的活", "find_job", entities(city="济南"))
    messages, _ = await run_action(jobs.ActionFindJob(), t)
    text = text_of(messages)
    assert text.startswith("想找电工的活？职引不直接发布招聘岗位")
    markets = re.findall(r"^\d\. (.+?)（示例）（(零工市场|人力资源市场)）", text, flags=re.M)
    assert 2 <= len(markets) <= 3
    assert "【济南市近期招聘会】" in text and "预约职业指导" in text
    assert "中国公共招聘网" in text and "山东公共招聘网" in text and "24365" not in text
    assert byte_len(text) <= PASSIVE_REPLY_MAX_BYTES


async def test_part_time_near_a_location_puts_gig_markets_first(seeded, redis, settings):
    await LocationStore(redis, settings, clock=seeded).remember(SENDER, 36.656, 116.99, "济南市中区")
    messages, _ = await run_action(jobs.ActionFindJob(), make_tracker("附近有没有日结的活", "find_job"))
    text = text_of(messages)
    assert text.index("【您附近的零工市场（打零工、日结）】") < text.index("【济南市近期招聘会】")
    kinds = re.findall(r"^\d\. .+（(零工市场|人力资源市场)）", text, flags=re.M)
    assert kinds and set(kinds) == {"零工市场"}
    assert "公里" in text or "米" in text


async def test_find_job_without_a_place_asks_and_primes_the_location_search(seeded):
    t = make_tracker("我刚毕业想找工作", "find_job")
    messages, slots = await run_action(jobs.ActionFindJob(), t)
    text = text_of(messages)
    assert "告诉我您在哪个城市或区县" in text and "24365" in text
    assert parse_point_types(slots[jobs.POINT_TYPE_SLOT]) == {PointType.GIG_MARKET, PointType.HR_MARKET}
    # the location message that follows goes to the service-point search, which lists job markets
    location = make_tracker('/find_service_point{"latitude": 36.07, "longitude": 120.38}', "find_service_point",
                            entities(latitude=36.07, longitude=120.38), slots=slots)
    messages, _ = await run_action(sp.ActionFindServicePoint(), location)
    listed = re.findall(r"类型：([^｜\n]+)", messages[0]["text"])
    assert listed and set(listed) <= {"零工市场", "人力资源市场"}


async def test_the_trade_of_the_question_survives_the_place_answer(seeded):
    answer = make_tracker("淄博", "inform", entities(city="淄博"), events=bot_said(jobs.FIND_JOB_ACTION, "想找个焊工的活"))
    messages, _ = await run_action(jobs.ActionFindJob(), answer)
    assert text_of(messages).startswith("想找焊工的活？")


async def test_the_trade_the_user_wants_to_do_is_used_when_the_search_names_none(seeded):
    said = {"text": "俺想干电工", "entities": [{"entity": "trade", "value": "电工"}]}  # bot/services/profile_facts.py
    earlier = [{"event": "user", "text": said["text"], "parse_data": said}, {"event": "action", "name": "action_listen"}]
    messages, _ = await run_action(jobs.ActionFindJob(), make_tracker("帮我找找活", "find_job", events=earlier))
    assert text_of(messages).startswith("想找电工的活？")


async def test_a_broken_cursor_says_no_more(seeded):
    more = make_tracker("更多", "more", slots={jobs.FAIRS_PAGE_SLOT: "not json"},
                        events=bot_said(jobs.FIND_FAIR_ACTION, "济南招聘会"))
    messages, slots = await run_action(jobs.ActionMoreJobFairs(), more)
    assert messages[0]["response"] == "utter_jobs_no_more" and slots[jobs.FAIRS_PAGE_SLOT] is None


async def test_redis_trouble_gets_a_clear_answer(seeded, monkeypatch):
    class Broken:
        async def search(self, *args, **kwargs):
            raise RedisError("connection refused")

    monkeypatch.setattr(jobs, "fair_store", lambda: Broken())
    t = make_tracker("济南招聘会", "find_job_fair", entities(city="济南"))
    messages, _ = await run_action(jobs.ActionFindJobFair(), t)
    assert messages[0]["response"] == "utter_jobs_unavailable"


async def test_a_later_fair_search_keeps_the_earlier_city_but_not_its_district():
    # "历下区有服务点吗" earlier; "有招聘会吗" later names no place: the city, not 历下区
    t = make_tracker("有招聘会吗", "find_job_fair", slots={"city": "济南市", "district": "历下区"})
    assert await jobs.place_for(t) == ("济南市", None, None)
