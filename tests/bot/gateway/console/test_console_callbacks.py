"""Requests left off hours, through the WeChat path (the simulator) and the console over HTTP,
on a gateway whose clock runs in UTC as the servers do: the item waits for the next morning
with the conversation, the counsellor's message makes it a live conversation, and the console
shows Beijing times."""
from __future__ import annotations

from datetime import timezone

import pytest
from aiohttp.test_utils import TestClient

from bot.gateway.appkeys import HANDOFF, SERVICES
from bot.clock import FrozenClock
from bot.services.handoff.config import HandoffConfig
from tests.bot.gateway.console.helpers import add_user, login, user_says
from tests.helpers.gateway import serve_gateway
from tests.helpers.moments import upcoming

WEDNESDAY_EVENING = upcoming(3, 20, 0)
THURSDAY_MORNING = upcoming(4, 8, 40, after=WEDNESDAY_EVENING.date())


@pytest.fixture
async def night(settings, aiohttp_server):
    # the servers' zone is UTC: the same instant, another wall-clock time
    clock = FrozenClock(WEDNESDAY_EVENING.astimezone(timezone.utc))
    app, server, rasa = await serve_gateway(aiohttp_server, settings, clock=clock, config=HandoffConfig())
    add_user(settings, "li", "counsellor")
    client = TestClient(server)
    await client.start_server()
    yield app, client, rasa, clock
    await client.close()


async def test_left_at_night_answered_next_morning_as_a_live_conversation(night):
    app, client, rasa, clock = night
    user = "sim-night0001"
    assert await user_says(client, user, "我去年毕业还没工作") == ["机器人收到：我去年毕业还没工作"]
    [left] = await user_says(client, user, "转人工")  # no phone number given
    assert "不在人工服务时间" in left and "明天 8:30后" in left

    clock.set(THURSDAY_MORNING.astimezone(timezone.utc))
    csrf = await login(client, "li")
    headers = {"X-CSRF-Token": csrf}
    [item] = (await (await client.get("/console/api/queue")).json())["items"]
    assert (item["openid"], item["kind"], item["phone"]) == (user, "callback", "")
    transcript = (await (await client.get(f"/console/api/items/{item['id']}")).json())["transcript"]
    assert [e["text"] for e in transcript if e["kind"] in ("user", "bot")] == [
        "我去年毕业还没工作", "机器人收到：我去年毕业还没工作", "转人工",
    ]

    assert (await client.post(f"/console/api/items/{item['id']}/claim", headers=headers)).status == 200
    reply = await client.post(
        f"/console/api/items/{item['id']}/reply", json={"text": "您好，我是李老师，看到您昨晚的留言了"}, headers=headers
    )
    assert reply.status == 200, await reply.text()
    before = len(rasa.calls)
    assert await user_says(client, user, "李老师好，我想了解见习岗位") == []  # to the counsellor, not the bot
    assert len(rasa.calls) == before
    transcript = await app[HANDOFF].transcript(item["id"])
    assert transcript[-1]["kind"] == "user" and transcript[-1]["text"] == "李老师好，我想了解见习岗位"

    back = await client.post(f"/console/api/items/{item['id']}/handback", headers=headers)
    assert back.status == 200
    assert await user_says(client, user, "附近的服务点") == ["机器人收到：附近的服务点"]


async def test_a_counsellor_message_on_a_phone_callback_makes_it_live_until_hand_back(settings, aiohttp_server):
    app, server, rasa = await serve_gateway(aiohttp_server, settings)  # office hours, real clock
    add_user(settings, "li", "counsellor")
    async with TestClient(server) as client:
        user = "sim-phone0001"
        await user_says(client, user, "你好")
        left = await app[HANDOFF].request(user, reason="callback", kind="callback", phone="13812345678")
        assert await user_says(client, user, "还没人联系我吗") == ["机器人收到：还没人联系我吗"]

        headers = {"X-CSRF-Token": await login(client, "li")}
        url = f"/console/api/items/{left.item_id}"
        assert (await client.post(f"{url}/claim", headers=headers)).status == 200
        assert await user_says(client, user, "喂") == ["机器人收到：喂"]  # claiming alone does not hold the chat
        assert (await client.post(f"{url}/reply", json={"text": "您好，我是李老师"}, headers=headers)).status == 200
        calls = len(rasa.calls)
        assert await user_says(client, user, "老师好，我想问灵活就业") == []
        assert await user_says(client, user, "社保怎么交") == []
        assert len(rasa.calls) == calls
        user_lines = [e["text"] for e in await app[HANDOFF].transcript(left.item_id) if e["kind"] == "user"]
        assert user_lines[-2:] == ["老师好，我想问灵活就业", "社保怎么交"]

        assert (await client.post(f"{url}/handback", headers=headers)).status == 200
        assert await user_says(client, user, "谢谢") == ["机器人收到：谢谢"]


async def test_console_shows_beijing_times_on_a_utc_server(night):
    app, client, rasa, clock = night
    await user_says(client, "sim-night0002", "你好")
    await user_says(client, "sim-night0002", "转人工")
    clock.set(THURSDAY_MORNING.astimezone(timezone.utc))
    csrf = await login(client, "li")
    [item] = (await (await client.get("/console/api/queue")).json())["items"]
    page = await (await client.get(f"/console/conversations/{item['id']}")).text()
    assert f'进入队列 <span id="conv-created">{WEDNESDAY_EVENING:%m-%d} 20:00:00</span>' in page

    # a template notice (the user's window has been closed by WeChat) carries Beijing time too
    await client.post(f"/console/api/items/{item['id']}/claim", headers={"X-CSRF-Token": csrf})
    await app[SERVICES].window.record_api_refusal("sim-night0002", 45015)
    sent = await client.post(f"/console/api/items/{item['id']}/template", headers={"X-CSRF-Token": csrf})
    assert sent.status == 200, await sent.text()
    notices = await (await client.get("/fake-wechat/_sent", params={"touser": "sim-night0002"})).json()
    shown = [m for m in notices["messages"] if m["kind"] == "template"][0]["payload"]["data"]["keyword2"]["value"]
    assert shown == THURSDAY_MORNING.strftime("%Y-%m-%d %H:%M")  # 08:40, not 00:40
    # the user answers the notice: to the counsellor, not the bot
    calls = len(rasa.calls)
    assert await user_says(client, "sim-night0002", "收到通知了，老师您好") == []
    assert len(rasa.calls) == calls
