"""Issue 20 through the whole stack: looking for work near me, and job fairs next week in a city.

Expected answers are computed here, independently of the search code: nearest job markets with our
own haversine over the points the gateway loaded, next week's fairs from the sample file moved by
whole weeks with our own arithmetic.
"""
from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import List

import pytest

from bot.clock import SHANGHAI, system_clock
from bot.services.job_fairs.files import SAMPLE_FILE, read_fairs_file

pytestmark = pytest.mark.stack

_EARTH_M = 6372797.560856
DAMINGHU = (36.665, 117.070)  # 济南 大明湖 (GCJ-02)
JOB_MARKETS = {"零工市场", "人力资源市场"}


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_M * math.asin(math.sqrt(a))


def listed_names(reply: str) -> List[str]:
    return re.findall(r"^\d+\. (.+?)(?:（示例）)?$", reply, flags=re.M)


async def test_job_search_near_me_then_a_location_lists_job_markets(chat):
    user = chat()
    first = await user.say("附近有没有招工的")
    assert "职引不直接发布招聘岗位" in first and "发送位置" in first, first
    assert "中国公共招聘网" in first and "预约职业指导" in first, first

    reply = await user.send_location(*DAMINGHU, "大明湖")
    types = re.findall(r"^类型：([^｜\n]+)", reply, flags=re.M)
    assert types and set(types) <= JOB_MARKETS, reply
    markets = [p for p in await user.services.points.all_points() if p.active and p.type.label in JOB_MARKETS]
    expected = sorted(markets, key=lambda p: (metres(*DAMINGHU, p.latitude, p.longitude), p.id))
    assert listed_names(reply) == [p.name for p in expected[: len(types)]], reply


async def test_part_time_after_a_location_puts_the_gig_market_first(chat):
    user = chat()
    await user.send_location(*DAMINGHU, "大明湖")
    reply = await user.say("俺想找个日结的活")
    assert "兼职、日结的活" in reply and "零工市场（打零工、日结）" in reply, reply
    kinds = re.findall(r"^\d\. .+（(零工市场|人力资源市场)）", reply, flags=re.M)
    assert kinds and set(kinds) == {"零工市场"}, reply


async def test_a_trade_is_named_back(chat):
    reply = await chat().say("想在济南找个电工的活")
    assert reply.startswith("想找电工的活？"), reply
    assert "【济南市近期招聘会】" in reply and "人力资源市场" in reply, reply


def _next_week_fairs_in_jinan(today: date) -> List[str]:
    sample = read_fairs_file(SAMPLE_FILE).fairs
    first = min(f.starts_at for f in sample if f.active).date()
    weeks = max(0, math.ceil((today - first).days / 7))
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    titles = []
    for fair in sorted(sample, key=lambda f: (f.starts_at, f.id)):
        start = fair.starts_at + timedelta(weeks=weeks)
        end = fair.ends_at + timedelta(weeks=weeks)
        if fair.active and fair.city == "济南市" and start.date() < monday + timedelta(days=7) and end.date() >= monday:
            titles.append(fair.title)
    return titles


async def test_job_fairs_next_week_in_jinan(chat):
    user = chat()
    today = system_clock().astimezone(SHANGHAI).date()
    expected = _next_week_fairs_in_jinan(today)
    assert expected, "the sample holds a 济南 fair in every coming week"
    reply = await user.say("下周济南有招聘会吗")
    assert reply.startswith(f"济南市下周招聘会共{len(expected)}场"), reply
    assert listed_names(reply) == expected[:5], reply
    assert "示例数据" in reply and len(reply.encode()) <= 2048


async def test_online_fairs_without_a_city(chat):
    reply = await chat().say("有没有线上招聘会")
    assert "线上专场" in reply and "线上：" in reply, reply


async def test_more_pages_on_through_the_fairs(chat):
    user = chat()
    first = await user.say("济南最近有啥招聘会")
    assert first.startswith("济南市近30天招聘会共") and "回复“更多”" in first, first
    second = await user.say("更多")
    assert "接上页" in second and re.search(r"^6\. ", second, flags=re.M), second
    assert set(listed_names(first)).isdisjoint(listed_names(second))
