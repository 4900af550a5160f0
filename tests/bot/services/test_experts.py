"""The expert pool: staff files (CSV/XLSX, row errors, all or nothing), matching in the users' words
with the nearest level first, and consultations booked on the booking engine, relative to today."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import List

import pytest

from bot.clock import SHANGHAI, FrozenClock, system_clock
from bot.services.booking.service import BookingService
from bot.services.experts.files import EXPORT_HEADERS, SAMPLE_FILE, read_experts_file, write_experts_file
from bot.services.experts.match import ExpertRequest, match_experts
from bot.services.experts.model import GROUPS, INDUSTRIES, TOPICS, specialties_in
from bot.services.experts.replies import render
from bot.services.experts.search import search
from bot.services.experts.store import SESSION_WEEKS, ExpertStore
from bot.services.workshops import WorkshopCatalogue

HEADER = ",".join(EXPORT_HEADERS)
# id,name,level,city,county,industries,topics,profile,patterns,mode,venue,active,sample
CITY_ROW = "q1,钱老师,市级,青岛,,互联网,面试,测试简介,周二 14:00-14:45；周四 09:00-09:45,线下,测试地点,是,否"


def write(tmp_path: Path, *rows: str, name: str = "experts.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes("\n".join([HEADER, *rows]).encode(encoding))
    return path


def row(expert_id: str, level: str, city: str, county: str, industries: str, topics: str) -> str:
    return f"{expert_id},{expert_id}老师,{level},{city},{county},{industries},{topics},简介,周三 10:00-10:45,线上,会议,是,否"


def next_weekday(weekday: int, hour: int) -> datetime:
    """The coming `weekday` (1 = Monday) at `hour`, from today: never a fixed calendar date."""
    today = system_clock().date()
    day = today + timedelta(days=(weekday - today.isoweekday()) % 7 or 7)
    return datetime.combine(day, time(hour), SHANGHAI)


# ---- the shipped sample -----------------------------------------------------------------------
def test_sample_pool_covers_levels_cities_and_every_specialty():
    report = read_experts_file(SAMPLE_FILE)
    assert report.ok, report.errors
    experts = report.experts
    assert 20 <= len(experts) <= 30
    assert {e.level for e in experts} == {"省级", "市级", "县级"}
    assert {"济南市", "青岛市", "烟台市"} <= {e.city for e in experts}
    assert all(not e.city for e in experts if e.level == "省级")
    assert all(e.county for e in experts if e.level == "县级")
    covered = {s for e in experts for s in e.specialties}
    assert covered == set(INDUSTRIES + TOPICS + GROUPS)
    assert all(e.sample and "示例" in e.name for e in experts)


# ---- staff files --------------------------------------------------------------------------
def test_a_good_row_reads_with_normalised_places(tmp_path):
    report = read_experts_file(write(tmp_path, CITY_ROW, row("c1", "县", "青岛市", "黄岛", "制造业", "退役军人"),
                                     encoding="gb18030"))
    assert report.ok and report.encoding == "gb18030"
    city, county = report.experts
    assert (city.level, city.city, city.county, city.specialties) == ("市级", "青岛市", "", ("互联网", "面试"))
    assert [p.label() for p in city.patterns] == ["周二 14:00-14:45", "周四 09:00-09:45"]
    assert (county.level, county.city, county.county) == ("县级", "青岛市", "黄岛区")


@pytest.mark.parametrize(
    "change, column",
    [
        (("q2,", "q 2,"), "编号"),
        (("市级", "部级"), "层级"),
        (("青岛,", "南京,"), "城市"),
        (("市级,青岛", "省级,青岛"), "城市"),  # a province expert has no city
        (("互联网", "航天"), "擅长行业"),
        (("面试", "算命"), "擅长方向"),
        (("周二 14:00-14:45", "周八 14:00"), "咨询时间"),
        (("周二 14:00-14:45", "周二 15:00-14:00"), "咨询时间"),
        (("线下", "上门"), "方式"),
        (("是,否", "也许,否"), "是否启用"),
        (("是,否", "是,是"), "姓名"),  # a sample row must say 示例 in its name
    ],
)
def test_each_bad_cell_is_reported_with_its_row_and_column(tmp_path, change, column):
    report = read_experts_file(write(tmp_path, CITY_ROW, CITY_ROW.replace("q1,", "q2,").replace(*change)))
    assert [e.id for e in report.experts] == ["q1"]  # the good row; the file is still rejected
    assert [(e.row, e.column) for e in report.errors] == [(3, column)]
    assert not report.ok


def test_a_county_expert_needs_a_county_and_a_repeated_id_is_an_error(tmp_path):
    report = read_experts_file(write(tmp_path, row("c1", "县级", "青岛", "", "制造业", ""), CITY_ROW, CITY_ROW))
    assert [(e.row, e.column) for e in report.errors] == [(2, "区县"), (4, "编号")]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_imports_back_unchanged(tmp_path, suffix):
    experts = read_experts_file(SAMPLE_FILE).experts
    path = tmp_path / f"out.{suffix}"
    assert write_experts_file(experts, path) == len(experts)
    assert read_experts_file(path).experts == experts


def test_a_file_that_is_no_table_gets_one_clear_error(tmp_path):
    path = tmp_path / "experts.xlsx"
    path.write_bytes(b"not a workbook")
    report = read_experts_file(path)
    assert not report.ok and len(report.errors) == 1 and report.errors[0].row == 0


# ---- the users' words -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, wanted",
    [
        ("有没有懂互联网行业的专家", ("互联网",)),
        ("我是程序员，有懂IT的老师吗", ("互联网",)),
        ("想找个创业方面的老师", ("创业",)),
        ("青岛有没有面试辅导的专家", ("面试",)),
        ("我是退役军人想咨询下就业", ("退役军人",)),
        ("俺是残疾人能找专家问问吗", ("残疾人",)),
        ("想问问创业贷款的事", ("创业",)),  # not also 金融
        ("在医院当护士想转行", ("医疗健康", "生涯规划")),
        ("有没有专家", ()),
    ],
)
def test_specialties_in_the_users_words(text, wanted):
    assert specialties_in(text) == wanted


def pool(tmp_path: Path):
    return read_experts_file(write(
        tmp_path,
        row("prov", "省级", "", "", "互联网", "面试"),
        row("qdcity", "市级", "青岛", "", "互联网", ""),
        row("huangdao", "县级", "青岛", "黄岛区", "互联网", ""),
        row("jimo", "县级", "青岛", "即墨区", "互联网", ""),
        row("jinan", "市级", "济南", "", "互联网", "面试"),
        row("farm", "市级", "青岛", "", "现代农业", ""),
    )).experts


def ids(experts) -> List[str]:
    return [e.id for e in experts]


def test_nearest_level_first_county_city_province(tmp_path):
    found = match_experts(pool(tmp_path), ExpertRequest(("互联网",), "青岛市", "黄岛区"))
    assert ids(found.experts) == ["huangdao", "qdcity", "jimo", "prov"]
    assert ids(found.elsewhere) == ["jinan"]
    in_city = match_experts(pool(tmp_path), ExpertRequest(("互联网",), "青岛市"))
    assert ids(in_city.experts) == ["qdcity", "huangdao", "jimo", "prov"]


def test_more_of_the_asked_specialties_first_and_province_first_without_a_place(tmp_path):
    found = match_experts(pool(tmp_path), ExpertRequest(("互联网", "面试"), "青岛市"))
    assert ids(found.experts)[:1] == ["prov"]  # both specialties beats a nearer one with one
    unknown = match_experts(pool(tmp_path), ExpertRequest(("互联网",)))
    assert ids(unknown.experts) == ["prov"] and "jinan" in ids(unknown.elsewhere)


def test_no_match_nearby_offers_the_closest_elsewhere(tmp_path):
    found = match_experts(pool(tmp_path), ExpertRequest(("现代农业",), "济南市"))
    assert found.experts == [] and ids(found.elsewhere) == ["farm"]


# ---- consultations on the booking engine, relative to today --------------------------------
@pytest.fixture
def clock():
    return FrozenClock(next_weekday(2, 10))  # the coming Tuesday 10:00


async def test_sessions_are_capacity_one_slots_for_the_coming_weeks(redis, settings, clock, tmp_path):
    experts = read_experts_file(write(tmp_path, CITY_ROW)).experts
    store, catalogue = ExpertStore(redis, settings, clock), WorkshopCatalogue(redis, settings, clock)
    await store.upsert_many(experts)
    created = await store.sync_sessions(catalogue)
    booking = BookingService(redis, settings, catalogue=catalogue, clock=clock)
    offers = await booking.open_slots(limit=50, workshop_id="expert-q1")
    starts = [slot.start for slot, _, _ in offers]
    # Tuesday 14:00 today (10:00 now) and Thursday 09:00, every week for SESSION_WEEKS weeks
    assert created == len(offers) == 2 * SESSION_WEEKS
    assert starts[0] == clock().replace(hour=14) and starts[1] == clock().replace(hour=9) + timedelta(days=2)
    assert all(slot.capacity == 1 and left == 1 for slot, _, left in offers)
    assert await store.sync_sessions(catalogue) == 0  # a restart creates nothing twice
    # the general "一对一咨询" listing leaves experts' slots out
    assert await booking.open_slots("一对一咨询", limit=50) == []


async def test_a_consultation_is_booked_once_and_the_search_shows_the_next_free_one(redis, settings, clock, tmp_path):
    experts = read_experts_file(write(tmp_path, CITY_ROW)).experts
    store, catalogue = ExpertStore(redis, settings, clock), WorkshopCatalogue(redis, settings, clock)
    await store.upsert_many(experts)
    await store.sync_sessions(catalogue)
    booking = BookingService(redis, settings, catalogue=catalogue, clock=clock)
    first = (await booking.open_slots(limit=1, workshop_id="expert-q1"))[0][0]
    booked = await booking.book("u1", first.id, "张三", "13800138000", "r1")
    assert booked.booked
    assert (await booking.book("u2", first.id, "李四", "13900139000", "r2")).status == "full"
    answer = await search(store, booking, "青岛有没有懂IT的面试专家", "青岛市")
    assert [e.id for e in answer.shown] == ["q1"]
    second = (await booking.open_slots(limit=1, workshop_id="expert-q1"))[0][0]
    assert second.start > first.start and f"最近可约：{second.label()}" in answer.text
    assert "钱老师｜市级·青岛市｜互联网、面试" in answer.text
    mine = await booking.my_bookings("u1")  # what "我的预约" lists
    assert [(v.booking.code, v.workshop.expert_id) for v in mine] == [(booked.code, "q1")]


async def test_the_store_upserts_by_id(redis, settings, tmp_path):
    store = ExpertStore(redis, settings)
    experts = read_experts_file(SAMPLE_FILE).experts
    first = await store.upsert_many(experts)
    assert (first.created, first.updated) == (len(experts), 0)
    again = await store.upsert_many(experts[:2])
    assert (again.created, again.updated) == (0, 2)
    assert await store.all_experts() == sorted(experts, key=lambda e: e.id)


def test_the_reply_says_when_nothing_is_near_and_fits_a_wechat_reply(tmp_path):
    far = match_experts(pool(tmp_path), ExpertRequest(("现代农业",), "济南市"))
    text = render(far, {})
    assert text.startswith("济南市暂时没有现代农业方面的专家，离您最近的是这些") and "预约指导" in text, text
    assert "1. farm老师｜市级·青岛市｜现代农业" in text and "近期时段已约满" in text, text
    nothing = render(match_experts(pool(tmp_path), ExpertRequest(("残疾人",), "济南市")), {})
    assert nothing.startswith("抱歉，专家库里暂时没有残疾人方面的专家") and "预约指导" in nothing
    everyone = render(match_experts(read_experts_file(SAMPLE_FILE).experts, ExpertRequest(("面试",))), {})
    assert len(everyone.encode("utf-8")) <= 2048 and everyone.count("\n1. ") == 1
