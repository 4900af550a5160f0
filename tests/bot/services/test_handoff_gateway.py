"""The gate in front of Rasa: while a conversation is queued or held the bot stays silent (the
Rasa double, a real aiohttp server, is never called); hand-back resumes the bot. The gateway's
app factory wires the gate itself, so it holds even when the console is not mounted."""
from __future__ import annotations

from datetime import datetime

import aiohttp
import pytest

import bot.gateway.app
from bot.gateway.appkeys import CONVERSATION, HANDOFF, SERVICES
from bot.clock import SHANGHAI, FrozenClock
from bot.gateway.conversation import ConversationService, UserTurn
from bot.gateway.rasa_client import RasaClient
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.gate import HandoffInterceptor
from bot.services.handoff.service import HandoffService
from bot.stack import free_port
from tests.helpers.gateway import gateway_app
from tests.helpers.rasa_double import start_rasa


@pytest.fixture
async def env(redis, settings, aiohttp_server):
    rasa = await start_rasa(aiohttp_server)
    clock = FrozenClock(datetime(2025, 6, 4, 10, 0, tzinfo=SHANGHAI))
    service = HandoffService(redis, settings, clock, HandoffConfig())
    await service.heartbeat("li")
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, rasa.url, "t", 5)
        conversation = ConversationService(client)
        conversation.add_interceptor(HandoffInterceptor(service))
        yield rasa, service, conversation, client, clock


async def test_bot_silent_while_human_holds_and_resumes_after_hand_back(env):
    rasa, service, conversation, client, clock = env
    assert await conversation.handle(UserTurn("u1", "你好")) == ["机器人收到：你好"]
    assert len(rasa.calls) == 1

    queued = await conversation.handle(UserTurn("u1", "转人工"))
    assert "第 1 位" in queued[0]
    assert len(rasa.calls) == 1  # the keyword never reached Rasa

    # while queued: at most one short acknowledgement, never Rasa
    assert await conversation.handle(UserTurn("u1", "我想问失业金")) == []
    item = await service.active_item("u1")
    await service.claim(item["id"], "li")
    for text in ("在吗", "请问怎么申请", "/affirm"):
        assert await conversation.handle(UserTurn("u1", text)) == []
    assert len(rasa.calls) == 1
    user_lines = [e["text"] for e in await service.transcript(item["id"]) if e["kind"] == "user"]
    assert user_lines == ["转人工", "我想问失业金", "在吗", "请问怎么申请", "[非文字消息] /affirm"]

    # another user is not affected
    assert await conversation.handle(UserTurn("u2", "你好")) == ["机器人收到：你好"]
    assert len(rasa.calls) == 2

    # hand back: close + trigger_intent reaches Rasa, then the next message goes to the bot
    await service.close(item["id"], "li", "handed_back")
    greeting = await client.trigger_intent("u1", service.config.resume_intent)
    assert rasa.triggers == [{"sender": "u1", "name": "greet", "entities": {}}]
    assert greeting[0]["text"].startswith("您好")
    assert await conversation.handle(UserTurn("u1", "附近的服务点")) == ["机器人收到：附近的服务点"]
    assert rasa.texts("u1") == ["你好", "附近的服务点"]


async def test_queued_acknowledgement_is_rate_limited(env):
    rasa, service, conversation, client, clock = env
    await conversation.handle(UserTurn("u3", "人工客服"))
    # the queued reply itself counts as the first acknowledgement
    assert await conversation.handle(UserTurn("u3", "还要等多久")) == []
    await service._redis.delete(service._settings.key("handoff_ack", "u3"))
    ack = await conversation.handle(UserTurn("u3", "有人吗"))
    assert "第 1 位" in ack[0]
    assert await conversation.handle(UserTurn("u3", "喂")) == []
    assert rasa.calls == []


async def test_user_can_cancel_while_queued(env):
    rasa, service, conversation, client, clock = env
    await conversation.handle(UserTurn("u4", "转人工"))
    reply = await conversation.handle(UserTurn("u4", "取消"))
    assert "已为您取消" in reply[0]
    assert await service.queue_length() == 0
    assert await conversation.handle(UserTurn("u4", "你好")) == ["机器人收到：你好"]


@pytest.mark.parametrize(
    "text",
    [
        "我想问问那个失业金咋领 看了半天也没弄明白 你给我转个人工吧",  # a voice-typed run-on
        "帮我约个面试指导 算了 还是直接给我转人工吧",  # a request, then the mind changed
        "你们人工几点上班啊 我想找个真人问问",
        "我要投诉 上回约的指导老师根本没来",  # a complaint about the service
    ],
)
async def test_a_person_asked_for_inside_a_longer_message_is_queued(env, text):
    rasa, service, conversation, client, clock = env
    reply = await conversation.handle(UserTurn("u-long", text))
    assert "排在第" in reply[0] and not rasa.calls  # queued at the gate, Rasa never asked
    [item] = await service.snapshot()
    assert item["first_message"] == text  # staff read the whole message


@pytest.mark.parametrize(
    "text", ["不用转人工了，我自己看看", "我想找人工智能方面的工作", "要人工费吗", "我要投诉老板拖欠工资",
             "你是真人客服吗", "欠薪去哪投诉"],
)
async def test_words_about_a_person_that_ask_for_none_go_to_the_bot(env, text):
    rasa, service, conversation, client, clock = env
    assert await conversation.handle(UserTurn("u-not", text)) == [f"机器人收到：{text}"]
    assert await service.snapshot() == []


async def test_nobody_available_offers_callback(env):
    rasa, service, conversation, client, clock = env
    clock.set(datetime(2025, 6, 4, 20, 0))  # Wednesday evening
    offer = await conversation.handle(UserTurn("u5", "转人工"))
    assert "不在人工服务时间" in offer[0] and "预约" in offer[0]
    # the bot still answers other things
    assert await conversation.handle(UserTurn("u5", "预约指导课")) == ["机器人收到：预约指导课"]
    # the talk moved on (the booking asks for the number): the bot gets it, and so does the callback item
    assert await conversation.handle(UserTurn("u5", "我的电话是13812345678")) == ["机器人收到：我的电话是13812345678"]
    snap = await service.snapshot()
    assert snap[0]["kind"] == "callback" and snap[0]["phone"] == "13812345678"
    # a callback does not hold the conversation
    assert await conversation.handle(UserTurn("u5", "谢谢")) == ["机器人收到：谢谢"]


async def test_gate_holds_without_the_console(
    settings, aiohttp_server, aiohttp_client, monkeypatch
):
    rasa = await start_rasa(aiohttp_server)
    monkeypatch.setattr(bot.gateway.app, "setup_console", lambda app, **kwargs: None)
    app = gateway_app(settings, rasa.url, free_port())
    client = await aiohttp_client(app)
    assert (await client.get("/console/login")).status == 404  # no console mounted
    assert app[HANDOFF] is app[SERVICES].handoff
    await app[HANDOFF].heartbeat("li")
    queued = await app[CONVERSATION].handle(UserTurn("u6", "转人工"))
    assert "第 1 位" in queued[0]
    assert await app[CONVERSATION].handle(UserTurn("u6", "在吗")) == []
    assert rasa.calls == []
