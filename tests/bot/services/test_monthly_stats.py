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
