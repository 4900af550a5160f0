"""Monthly figures: counted per Beijing month and city, summed over a scope, users counted once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.clock import SHANGHAI
from bot.services.monthly_stats import UNKNOWN_CITY, MonthlyStats


def _stats(redis, settings, moment: datetime) -> MonthlyStats:
    return MonthlyStats(redis, settings, clock=lambda: moment)


async def test_counts_samples_needs_and_users_add_up_per_city_and_in_total(redis, settings):
    moment = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
    stats = _stats(redis, settings, moment)
    for openid, city in (("u1", "青岛市"), ("u1", "青岛市"), ("u2", "青岛市"), ("u1", "济南市"), ("u3", None)):
        await stats.user_served(openid, city)
    await stats.count("handoff_closed", "青岛市", 2)
    await stats.count("handoff_closed", "济南市")
    await stats.observe("rating", "青岛市", 5)
    await stats.observe("rating", "青岛市", 2)
    await stats.need("ask_job_fair", "青岛市")
    await stats.need("ask_job_fair", "济南市")

    report = await stats.month("2026-11")
    qingdao = report.by_city["青岛市"]
    assert qingdao.users == 2 and qingdao.count("handoff_closed") == 2 and qingdao.mean("rating") == 3.5
    assert set(report.by_city) == {"青岛市", "济南市", UNKNOWN_CITY}
    assert report.total.users == 3  # u1 wrote in two cities: one user of the province
    assert report.total.count("handoff_closed") == 3 and report.total.needs == {"ask_job_fair": 2}
    assert report.total.mean("rating") == 3.5 and report.total.mean("wait") is None
    assert await stats.months() == ["2026-11"]


async def test_a_scope_sees_only_its_cities(redis, settings):
    stats = _stats(redis, settings, datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    await stats.user_served("u1", "青岛市")
    await stats.user_served("u2", "济南市")
    report = await stats.month("2026-11", cities=["青岛市", "烟台市"])
    assert set(report.by_city) == {"青岛市"} and report.total.users == 1


async def test_the_month_is_beijings(redis, settings):
    # 2026-11-30 17:00 UTC is already 1 December in Beijing
    moment = datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)
    stats = _stats(redis, settings, moment)
    await stats.count("booking_attended", "青岛市")
    await stats.count("booking_attended", "青岛市", at=moment - timedelta(hours=2))
    assert (await stats.month("2026-12")).total.count("booking_attended") == 1
    assert (await stats.month("2026-11")).total.count("booking_attended") == 1


async def test_the_report_names_needs_and_knowledge_topics_and_puts_unknown_places_last(redis, settings):
    from bot.services.knowledge.base import load_knowledge
    from bot.services.monthly_report import table, top_needs
    from bot.services.monthly_stats import PROVINCE_WIDE, place_label

    stats = _stats(redis, settings, datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    same_topic = [i.id for i in load_knowledge().items if i.topic == "subsidies"][:2]
    for need in ["find_job", "find_job", *(f"knowledge:{item}" for item in same_topic), "knowledge:gone"]:
        await stats.need(need, "济南市")
    await stats.user_served("u1", place_label("全省"))
    await stats.user_served("u2", place_label("火星"))
    await stats.user_served("u3", place_label("烟台"))
    report = await stats.month("2026-11")
    assert top_needs(report.total)[:2] == [("找工作", 2), ("知识：补贴政策", 2)]
    assert ("知识：其他", 1) in top_needs(report.total)  # an item no longer in the knowledge base
    assert table(report)["cities"] == ["烟台市", "济南市", PROVINCE_WIDE, UNKNOWN_CITY]
    unanswered = next(r for r in table(report)["rows"] if r["label"] == "未理解率（%）")
    assert unanswered["values"] == [None] * 5  # no messages: no rate, not 0 %


async def test_a_city_written_short_or_long_is_one_city(redis, settings):
    stats = _stats(redis, settings, datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    await stats.count("rating_requested", "青岛")  # a workshop catalogue's spelling
    await stats.count("rating_requested", "青岛市")  # a profile's
    report = await stats.month("2026-11")
    assert set(report.by_city) == {"青岛市"} and report.total.count("rating_requested") == 2
