"""Satisfaction ratings on the real stack: a 青岛 user's handoff is claimed and closed by a 青岛
counsellor through the console API, the user is asked once to rate it, a normal question meanwhile
still reaches the real bot, the rating "2 等太久了" is thanked, counted in the month's figures and
shown to 青岛's supervisor but not to 济南's."""
from __future__ import annotations

import asyncio
import dataclasses
import re

import pytest
from aiohttp.test_utils import TestClient

from bot.clock import system_clock
from bot.gateway.appkeys import SERVICES, SETTINGS
from bot.services.handoff.config import HandoffConfig
from bot.services.monthly_stats import MonthlyStats, month_of
from bot.services.profiles import ProfileStore
from bot.services.satisfaction import REQUEST_TEXT
from bot.stack import free_port
from tests.bot.conversations.conftest import WeChatUser
from tests.bot.gateway.console.helpers import add_user, login
from tests.helpers.gateway import ALWAYS_OPEN, gateway_app

pytestmark = pytest.mark.stack


def rating_requests(texts) -> int:
    return sum(REQUEST_TEXT in text for text in texts)


async def wait_for_request(app, user: WeChatUser, timeout_s: float = 20.0) -> list:
    """The job runner sends the request within a few seconds; run due jobs meanwhile to be quick."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        await app[SERVICES].scheduler.run_due(system_clock())
        pushed = await user.pushed()
        if rating_requests(pushed) or loop.time() > deadline:
            return pushed
        await asyncio.sleep(0.5)


async def rating_figures(app) -> tuple:
    figures = (await MonthlyStats(app[SERVICES].redis, app[SETTINGS]).month(month_of(system_clock()))).by_city
    qingdao = figures.get("青岛市")
    return (0, 0) if qingdao is None else (qingdao.samples.get("rating", 0), qingdao.count("rating_low"))


async def test_a_closed_handoff_is_rated_once_and_a_low_rating_reaches_the_city_supervisor(aiohttp_server, stack_settings):
    # quiet hours off for this gateway: what is pushed must not depend on when the test runs
    settings = dataclasses.replace(stack_settings, push_quiet_hours="")
    port = free_port()
    app = gateway_app(settings, settings.rasa_url, port, config=HandoffConfig(office_hours=ALWAYS_OPEN))
    server = await aiohttp_server(app, port=port)
    add_user(settings, "qd-rate", "counsellor", scope="青岛市")
    add_user(settings, "qd-rate-boss", "supervisor", scope="青岛市")
    add_user(settings, "jn-rate-boss", "supervisor", scope="济南市")
    async with TestClient(server) as staff, TestClient(server) as qd_boss, TestClient(server) as jn_boss, \
            TestClient(server) as users:
        csrf = await login(staff, "qd-rate")
        await login(qd_boss, "qd-rate-boss")
        await login(jn_boss, "jn-rate-boss")
        user = WeChatUser(users, app[SETTINGS])
        await ProfileStore(app[SERVICES].redis, app[SETTINGS]).update(user.openid, {"city": "青岛市"})
        before = await rating_figures(app)

        assert "职引" in await user.say("你好")
        assert "青岛市的职业指导师" in await user.say("转人工")
        queue = (await (await staff.get("/console/api/queue")).json())["items"]
        item_id = next(item["id"] for item in queue if item["openid"] == user.openid)
        headers = {"X-CSRF-Token": csrf}
        assert (await staff.post(f"/console/api/items/{item_id}/claim", headers=headers)).status == 200
        closed = await staff.post(f"/console/api/items/{item_id}/close", json={"outcome": "resolved"}, headers=headers)
        assert closed.status == 200, await closed.text()
        # a second click on "close" changes nothing and asks nothing
        await staff.post(f"/console/api/items/{item_id}/close", json={"outcome": "resolved"}, headers=headers)

        assert rating_requests(await wait_for_request(app, user)) == 1
        # a normal question while the request is pending: the real bot answers it
        answer = await user.say("附近有没有就业服务站")
        assert answer and "评分" not in answer, answer
        intent, _actions = await user.last_turn()  # Rasa saw it: the gateway did not swallow it
        assert intent == "find_service_point", intent
        thanked = await user.say("2 等太久了")
        assert "2分" in thanked and "抱歉" in thanked, thanked
        # the request is answered: "5" now is ordinary chat for the bot, not a second rating
        assert "评分" not in await user.say("5")
        await app[SERVICES].scheduler.run_due(system_clock())
        assert rating_requests(await user.pushed()) == 1

        samples, low = await rating_figures(app)
        assert (samples - before[0], low - before[1]) == (1, 1)
        qd_page = await (await qd_boss.get("/console/ratings")).text()
        row = re.search(r'<tr data-rating="\d+" data-city="青岛市">.*?</tr>', qd_page, re.S)
        assert row and f">{item_id}</small>" in row.group(0) and "等太久了" in row.group(0), qd_page
        jn_page = await jn_boss.get("/console/ratings")
        assert jn_page.status == 200 and 'data-city="青岛市"' not in await jn_page.text()
