"""The monthly figures through the whole stack: the gateway marks the conversation and its city
before Rasa answers, and Rasa's tracker store counts each message in that city."""
from __future__ import annotations

import pytest

from bot.clock import system_clock
from bot.services.monthly_stats import Figures, MonthlyStats, month_of

pytestmark = pytest.mark.stack


async def _qingdao(stats: MonthlyStats, month: str) -> Figures:
    return (await stats.month(month, cities=["青岛市"])).by_city.get("青岛市") or Figures()


async def test_a_qingdao_users_conversation_and_needs_count_in_qingdao(chat):
    user = chat()
    services = user.services
    stats = MonthlyStats(services.redis, services.settings)
    month = month_of(system_clock())
    before = await _qingdao(stats, month)
    await services.profiles.update(user.openid, {"city": "青岛市"})
    await user.say("最近想找份工作，有啥好岗位吗")
    await user.say("谢了哈")
    if month_of(system_clock()) != month:
        pytest.skip("the month changed during the test")  # only at midnight of a month's last day
    after = await _qingdao(stats, month)
    assert after.users - before.users == 1
    assert after.count("conversations") - before.count("conversations") == 1
    assert after.count("messages") - before.count("messages") == 2  # both in 青岛, the first one too
    assert after.needs.get("find_job", 0) - before.needs.get("find_job", 0) == 1
    assert after.needs.get("thank", 0) == 0  # talk is no need
