"""The job-fair store: search by place, time, kind and audience; the sample catalogue moving with the
calendar (FrozenClock at several dates); alternatives when nothing matches. Real Redis."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import List

import pytest

from bot.clock import SHANGHAI, FrozenClock, system_clock
from bot.services.courses import day_range
from bot.services.job_fairs.files import SAMPLE_FILE, load_sample_if_empty, read_fairs_file
from bot.services.job_fairs.model import FairKind, JobFair, parse_audience, sample_shift_weeks
from bot.services.job_fairs.query import FairQuery
from bot.services.job_fairs.store import JobFairStore

NOW = datetime(2025, 3, 5, 10, 0, tzinfo=SHANGHAI)  # a Wednesday morning, used through a FrozenClock
SAMPLE = read_fairs_file(SAMPLE_FILE).fairs


def fair(fair_id: str, start: datetime, hours: float = 3, **fields) -> JobFair:
    base = dict(
        id=fair_id, title=f"测试招聘会{fair_id}", kind=FairKind.ONSITE, city="济南市", district="历下区",
        venue="测试场馆", starts_at=start, ends_at=start + timedelta(hours=hours),
    )
    base.update(fields)
    return JobFair(**base)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def store(redis, settings, clock) -> JobFairStore:
    return JobFairStore(redis, settings, clock)


def ids(fairs: List[JobFair]) -> List[str]:
    return [f.id for f in fairs]


async def test_default_search_is_the_next_30_days_of_the_city_soonest_first(store):
    await store.upsert_many([
        fair("later", NOW + timedelta(days=20)),
        fair("soon", NOW + timedelta(days=2)),
        fair("past", NOW - timedelta(days=1)),
        fair("beyond", NOW + timedelta(days=31)),
        fair("qingdao", NOW + timedelta(days=1), city="青岛市", district="市南区"),
        fair("stopped", NOW + timedelta(days=3), active=False),
    ])
    page = await store.search(FairQuery(city="济南市"))
    assert ids(page.fairs) == ["soon", "later"]
    assert page.total == 2


async def test_an_ongoing_fair_is_shown_and_a_finished_one_today_is_not(store):
    await store.upsert_many([
        fair("ongoing", NOW - timedelta(hours=1), hours=3),
        fair("ended", NOW - timedelta(hours=3), hours=2),
        fair("online-week", NOW - timedelta(days=3), hours=24 * 7, kind=FairKind.ONLINE, district=""),
    ])
    page = await store.search(FairQuery(city="济南市"))
    assert ids(page.fairs) == ["online-week", "ongoing"]


async def test_filters_window_online_kind_audience_district(store):
    monday_next = (NOW + timedelta(days=7 - NOW.weekday())).replace(hour=0)
    await store.upsert_many([
        fair("this-week", NOW + timedelta(days=1)),
        fair("next-week", monday_next + timedelta(days=2, hours=9)),
        fair("online", NOW + timedelta(days=2), kind=FairKind.ONLINE, district="", venue="平台"),
        fair("campus", NOW + timedelta(days=3), kind=FairKind.CAMPUS, audience=frozenset({"应届生"})),
        fair("veterans", NOW + timedelta(days=4), audience=frozenset({"退役军人"}), district="市中区"),
    ])
    window = day_range("下周", NOW)
    next_week = FairQuery(city="济南市", start=window.start, end=window.end, window_label=window.label)
    assert ids((await store.search(next_week)).fairs) == ["next-week"]
    assert ids((await store.search(FairQuery(city="济南市", online=True))).fairs) == ["online"]
    assert "online" not in ids((await store.search(FairQuery(city="济南市", online=False))).fairs)
    graduates = await store.search(FairQuery(city="济南市", audience="应届生"))
    assert ids(graduates.fairs) == ["this-week", "online", "campus", "next-week"]  # 不限 serves everyone
    assert ids((await store.search(FairQuery(city="济南市", kinds=frozenset({FairKind.CAMPUS})))).fairs) == ["campus"]
    in_shizhong = await store.search(FairQuery(city="济南市", district="市中区"))
    assert ids(in_shizhong.fairs) == ["online", "veterans"]  # a city-wide online fair belongs to every district


async def test_paging_and_upsert_replaces_by_id(store):
    await store.upsert_many([fair(f"f{i}", NOW + timedelta(days=i + 1)) for i in range(7)])
    first = await store.search(FairQuery(city="济南市"), limit=5)
    second = await store.search(FairQuery(city="济南市"), offset=5, limit=5)
    assert (ids(first.fairs), ids(second.fairs), first.total) == ([f"f{i}" for i in range(5)], ["f5", "f6"], 7)
    result = await store.upsert_many([fair("f0", NOW + timedelta(days=40)), fair("new", NOW + timedelta(days=1))])
    assert (result.created, result.updated) == (1, 1)
    page = await store.search(FairQuery(city="济南市"), limit=10)
    assert "f0" not in ids(page.fairs) and ids(page.fairs)[0] == "new"
    assert await store.count() == 8


async def test_alternatives_offer_later_dates_other_cities_and_online(store):
    await store.upsert_many([
        fair("jinan-later", NOW + timedelta(days=45)),
        fair("qingdao", NOW + timedelta(days=3), city="青岛市", district="市南区"),
        fair("qingdao2", NOW + timedelta(days=4), city="青岛市", district="市南区"),
        fair("yantai", NOW + timedelta(days=5), city="烟台市", district="芝罘区"),
        fair("online", NOW + timedelta(days=6), kind=FairKind.ONLINE, city="潍坊市", district="", venue="平台"),
    ])
    query = FairQuery(city="济南市", start=NOW, end=NOW + timedelta(days=10))
    assert (await store.search(query)).total == 0
    alt = await store.alternatives(query)
    assert ids(alt.later) == ["jinan-later"]
    assert alt.other_cities == [("青岛市", 2), ("潍坊市", 1), ("烟台市", 1)]
    assert ids(alt.online) == ["online"]
    assert not alt.empty


def test_sample_shift_weeks():
    monday = date(2025, 3, 3)
    assert sample_shift_weeks(None, monday) == 0
    assert sample_shift_weeks(monday, monday) == 0
    assert sample_shift_weeks(monday + timedelta(days=3), monday) == 0
    assert sample_shift_weeks(monday, monday + timedelta(days=1)) == 1
    assert sample_shift_weeks(monday, monday + timedelta(days=7)) == 1
    assert sample_shift_weeks(monday, monday + timedelta(days=8)) == 2


def _sample_days() -> List[date]:
    """Days around and far past the sample's own dates, and the real today."""
    first = min(f.starts_at for f in SAMPLE).date()
    return [first - timedelta(days=10), first, first + timedelta(days=3), first + timedelta(days=200),
            first + timedelta(days=800), system_clock().date()]


@pytest.mark.parametrize("day_index", range(6))
async def test_sample_catalogue_moves_with_the_calendar(redis, settings, day_index):
    today = _sample_days()[day_index]
    clock = FrozenClock(datetime.combine(today, datetime.min.time(), SHANGHAI).replace(hour=8))
    store = JobFairStore(redis, settings, clock)
    assert await load_sample_if_empty(store) == len(SAMPLE)
    assert await load_sample_if_empty(store) == 0  # staff edits survive a restart
    page = await store.search(FairQuery(), limit=100)
    assert page.total >= 20
    earliest = min(f.starts_at for f in page.fairs).date()
    written = min(f.starts_at for f in SAMPLE).date()  # never moved backwards
    assert today <= earliest < max(today, written) + timedelta(days=7)
    original = {f.id: f for f in SAMPLE}
    for shown in page.fairs:
        moved = shown.starts_at - original[shown.id].starts_at
        assert moved.days % 7 == 0 and moved >= timedelta(0)  # whole weeks forward: same weekday
        assert shown.sample and "示例" in shown.title
    assert "ta-02" not in ids(page.fairs)  # the inactive sample row is never shown


@pytest.mark.parametrize("offset", range(7))
async def test_the_sample_has_a_jinan_fair_next_week_on_every_weekday(redis, settings, offset):
    today = system_clock() + timedelta(days=offset)
    store = JobFairStore(redis, settings, FrozenClock(today))
    await load_sample_if_empty(store)
    window = day_range("下周", today)
    page = await store.search(FairQuery(city="济南市", start=window.start, end=window.end))
    assert page.total >= 1
    assert all(window.start <= f.starts_at < window.end for f in page.fairs)


def test_sample_covers_the_16_cities_and_is_marked():
    assert 20 <= len(SAMPLE) <= 30
    assert len({f.city for f in SAMPLE}) == 16
    assert all(f.sample and f.title.startswith("示例") and f.organiser.startswith("示例") for f in SAMPLE)


@pytest.mark.parametrize(
    "text, audience",
    [("我是应届生", "应届生"), ("离校未就业毕业生能去吗", "离校未就业毕业生"), ("退伍的", "退役军人"), ("你好", None), ("不限人群的招聘会", None)],
)
def test_parse_audience(text, audience):
    assert parse_audience(text) == audience


def test_a_replaced_fair_keeps_its_weekday_when_shifted():
    shown = fair("x", NOW).shifted(3)
    assert shown.starts_at.weekday() == NOW.weekday() and shown.starts_at - NOW == timedelta(weeks=3)
    assert replace(shown, id="y").shifted(0) == replace(shown, id="y")
