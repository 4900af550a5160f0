"""Human handoff on the real stack: the bot is silent while a counsellor holds the
conversation, and after hand-back the real Rasa greets the user and answers again; a request
off hours is left for staff with the conversation read from the real Rasa tracker; a district
named to the real bot routes the request to that city's counsellors."""
from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient

from bot.gateway.appkeys import HANDOFF, RASA, SETTINGS
from bot.clock import system_clock
from bot.services.handoff.config import HandoffConfig, parse_office_hours
from bot.stack import free_port
from tests.bot.gateway.console.helpers import add_user, login
from tests.bot.conversations.conftest import WeChatUser
from tests.helpers.gateway import ALWAYS_OPEN, gateway_app

pytestmark = pytest.mark.stack


@pytest.fixture
async def console_stack(aiohttp_server, stack_settings):
    port = free_port()
    app = gateway_app(stack_settings, stack_settings.rasa_url, port, config=HandoffConfig(office_hours=ALWAYS_OPEN))
    server = await aiohttp_server(app, port=port)
    add_user(stack_settings, "li", "counsellor")
    staff = TestClient(server)
    await staff.start_server()
    users = TestClient(server)
    await users.start_server()
    yield app, staff, WeChatUser(users, app[SETTINGS])
    await staff.close()
    await users.close()


async def test_counsellor_takes_over_and_hands_back_to_the_real_bot(console_stack):
    app, staff, user = console_stack
    csrf = await login(staff, "li")  # an open console counts as a counsellor online
    assert "职引" in await user.say("你好")
    # other stack tests share this Redis (their users may still be waiting): the user joins behind them
    waiting = len((await (await staff.get("/console/api/queue")).json())["items"])
    queued = await user.say("转人工")
    assert f"第 {waiting + 1} 位" in queued, queued

    headers = {"X-CSRF-Token": csrf}
    queue = (await (await staff.get("/console/api/queue")).json())["items"]
    item_id = next(item["id"] for item in queue if item["openid"] == user.openid)
    assert (await staff.post(f"/console/api/items/{item_id}/claim", headers=headers)).status == 200

    # while the counsellor holds it, Rasa never sees the user's messages
    assert await user.say("我想咨询一下档案托管") == ""
    tracker = await app[RASA].tracker(user.openid)
    user_texts = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert "我想咨询一下档案托管" not in user_texts

    reply = await staff.post(
        f"/console/api/items/{item_id}/reply", json={"text": "您好，我是李老师，档案托管可以在人才服务中心办理"}, headers=headers
    )
    assert reply.status == 200, await reply.text()
    assert any("李老师" in text for text in await user.pushed())

    back = await staff.post(f"/console/api/items/{item_id}/handback", headers=headers)
    assert back.status == 200
    # the real bot greets the user back through a customer-service message …
    assert any("职引" in text for text in await user.pushed())
    # … and answers the next message itself
    assert "不客气" in await user.say("谢谢")


async def test_off_hours_request_is_left_with_the_real_conversation(aiohttp_server, stack_settings):
    # counsellors are on duty only the day after tomorrow: now is off hours, whatever the hour
    duty_day = (system_clock() + timedelta(days=2)).isoweekday()
    config = HandoffConfig(office_hours=parse_office_hours(f"{duty_day} 00:00-23:59"))
    port = free_port()
    app = gateway_app(stack_settings, stack_settings.rasa_url, port, config=config)
    server = await aiohttp_server(app, port=port)
    async with TestClient(server) as client:
        user = WeChatUser(client, app[SETTINGS])
        assert "职引" in await user.say("你好")
        left = await user.say("转人工")
        assert "不在人工服务时间" in left and "0:00后" in left
        [item] = [i for i in await app[HANDOFF].snapshot() if i["openid"] == user.openid]
        assert item["kind"] == "callback" and item["phone"] == ""
        transcript = await app[HANDOFF].transcript(item["id"])
        said = [e["text"] for e in transcript if e["kind"] == "user"]
        assert said == ["你好", "转人工"]  # read back from the real Rasa tracker, then the request
        assert any(e["kind"] == "bot" and "职引" in e["text"] for e in transcript)


async def test_a_district_named_in_the_chat_routes_the_request_to_that_city(aiohttp_server, stack_settings):
    """The user names 黄岛 to the real bot, then asks for a person: the request reaches 青岛's
    counsellors (the place read back from the real Rasa tracker), not 烟台's."""
    port = free_port()
    app = gateway_app(stack_settings, stack_settings.rasa_url, port, config=HandoffConfig(office_hours=ALWAYS_OPEN))
    server = await aiohttp_server(app, port=port)
    add_user(stack_settings, "qd-stack", "counsellor", scope="青岛市")
    add_user(stack_settings, "yt-stack", "counsellor", scope="烟台市")
    async with TestClient(server) as qd, TestClient(server) as yt, TestClient(server) as users:
        await login(qd, "qd-stack")
        await login(yt, "yt-stack")
        user = WeChatUser(users, app[SETTINGS])
        await user.say("我住在黄岛区，最近在找工作")
        told = await user.say("转人工")
        assert "青岛市的职业指导师" in told, told

        async def openids(client: TestClient) -> list:
            return [i["openid"] for i in (await (await client.get("/console/api/queue")).json())["items"]]

        assert user.openid in await openids(qd)
        assert user.openid not in await openids(yt)
        [item] = [i for i in await app[HANDOFF].snapshot() if i["openid"] == user.openid]
        assert (item["city"], item["district"], item["pool"]) == ("青岛市", "黄岛区", "city")
