"""WeChatClient against the fake WeChat API (a real aiohttp server on real Redis)."""
from __future__ import annotations

import asyncio
import dataclasses
import json

import aiohttp
import pytest
from aiohttp import web

from bot.gateway.appkeys import REDIS, SETTINGS
from bot.gateway.wechat.api_client import WeChatAPIError, WeChatClient
from bot.gateway.wechat.fake_api import setup_fake_wechat_routes
from bot.cli.menu import main as menu_main
from tests.helpers.replicas import replica_clients
from bot.gateway.wechat.menu import load_menu_file, validate_menu


@pytest.fixture
async def fake(settings, redis, aiohttp_server):
    app = web.Application()
    app[SETTINGS] = settings
    app[REDIS] = redis
    setup_fake_wechat_routes(app)
    server = await aiohttp_server(app)
    base = str(server.make_url("/fake-wechat"))
    s = dataclasses.replace(settings, wechat_api_base=base)
    async with aiohttp.ClientSession() as session:

        class Fake:
            settings = s
            url = base

            def client(self) -> WeChatClient:
                return WeChatClient(s, redis, session)

            async def control(self, **body):
                async with session.post(base + "/_control", json=body) as r:
                    assert r.status == 200

            async def stats(self):
                async with session.get(base + "/_stats") as r:
                    return await r.json()

            async def sent(self, touser=None):
                async with session.get(base + "/_sent", params={"touser": touser} if touser else {}) as r:
                    return (await r.json())["messages"]

        yield Fake()


async def test_send_text_raw_utf8_and_recorded(fake, redis) -> None:
    client = fake.client()
    await client.send_text("oUser1", "您好，明天上午9点的讲座别忘了 😊")
    sent = await fake.sent("oUser1")
    assert len(sent) == 1
    assert sent[0]["payload"]["text"]["content"] == "您好，明天上午9点的讲座别忘了 😊"
    assert "\\u" not in sent[0]["raw"] and "您好" in sent[0]["raw"]
    assert len(await fake.sent()) == 1
    assert await redis.llen(fake.settings.key("fakewechat", "sent", "oUser1")) == 1
    assert await redis.get(fake.settings.key("wechat", "access_token"))


async def test_token_cached_and_refreshed_once_under_concurrency(fake) -> None:
    # ten "processes" (separate clients) need a token at the same moment
    clients = [fake.client() for _ in range(10)]
    await fake.control(delay_ms=200)
    tokens = await asyncio.gather(*(c.get_access_token() for c in clients))
    assert len(set(tokens)) == 1
    stats = await fake.stats()
    assert stats["stable_token"] == 1
    await fake.control(delay_ms=0)
    await clients[0].send_text("oU", "x")
    assert (await fake.stats())["stable_token"] == 1  # served from the Redis cache


async def test_invalid_token_rereads_cache_then_refreshes(fake, redis) -> None:
    a, b = fake.client(), fake.client()
    old = await a.get_access_token()
    await fake.control(expire_token=True)  # WeChat invalidated it
    await a.send_text("oU", "一")  # 40001 -> refresh -> retry once
    new = await redis.get(fake.settings.key("wechat", "access_token"))
    assert new and new != old
    assert (await fake.stats())["stable_token"] == 2
    # b still holds nothing in memory; a stale token in hand is resolved by re-reading the cache
    assert await b._refresh(rejected=old) == new
    assert (await fake.stats())["stable_token"] == 2
    assert len(await fake.sent("oU")) == 1


async def test_errors_raise_without_retry(fake) -> None:
    client = fake.client()
    await fake.control(fail={"oBlocked": 45047})
    with pytest.raises(WeChatAPIError) as err:
        await client.send_text("oBlocked", "x")
    assert err.value.errcode == 45047
    assert (await fake.stats())["custom"] == 1
    await fake.control(fail={"oBlocked": 0})
    await client.send_text("oBlocked", "x")
    assert len(await fake.sent("oBlocked")) == 1


async def test_wrong_secret_and_unreachable(fake, settings, redis) -> None:
    bad = dataclasses.replace(fake.settings, wechat_appsecret="wrong")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(WeChatAPIError) as err:
            await WeChatClient(bad, redis, session).send_text("oU", "x")
        assert err.value.errcode == 40125
        down = dataclasses.replace(settings, wechat_api_base="http://127.0.0.1:9/x")
        with pytest.raises(WeChatAPIError) as err:
            await WeChatClient(down, redis, session).send_text("oU", "x")
        assert err.value.errcode == -1


async def test_template_and_menu(fake, redis, monkeypatch) -> None:
    client = fake.client()
    await client.send_template("oU", "TPL1", {"thing1": "简历指导讲座", "time2": {"value": "2025-03-01 09:00"}}, url="https://x.example/")
    record = (await fake.sent("oU"))[0]
    assert record["kind"] == "template"
    assert record["payload"]["data"] == {"thing1": {"value": "简历指导讲座"}, "time2": {"value": "2025-03-01 09:00"}}
    assert record["payload"]["url"] == "https://x.example/"

    doc = load_menu_file()
    assert validate_menu(doc) == []
    await client.create_menu(doc["menu"])
    stored = json.loads(await redis.get(fake.settings.key("fakewechat", "menu")))
    assert stored == doc["menu"]


def test_menu_file_covers_intents_and_validation_bites() -> None:
    doc = load_menu_file()
    assert len(doc["menu"]["button"]) == 3
    assert set(doc["click_intents"].values()) == {
        "greet", "find_service_point", "book_workshop", "my_bookings", "ask_camp_info",
        "enroll_camp", "career_assessment", "ask_courses", "ask_policy", "request_human", "find_job_fair",
        "find_expert",
    }
    broken = json.loads(json.dumps(doc))
    broken["menu"]["button"][0]["name"] = "一个太长的按钮名字"
    broken["click_intents"]["ZN_HUMAN"] = "nonexistent"
    problems = validate_menu(broken)
    assert len(problems) == 2


async def test_menu_publish_command(fake, monkeypatch, redis, capsys) -> None:
    monkeypatch.setenv("WECHAT_API_BASE", fake.url)
    # the command runs its own event loop; run it in a thread
    rc = await asyncio.get_running_loop().run_in_executor(None, menu_main, ["publish"])
    assert rc == 0
    assert "menu published" in capsys.readouterr().out
    assert json.loads(await redis.get(fake.settings.key("fakewechat", "menu"))) == load_menu_file()["menu"]


async def test_two_replicas_with_their_own_redis_connections_fetch_the_token_once(fake) -> None:
    """Two gateway replicas (each its own Redis pool and HTTP session) need a token at once."""
    await fake.control(delay_ms=300)
    async with replica_clients(fake.settings) as clients:
        sessions = [aiohttp.ClientSession() for _ in clients]
        try:
            wechat = [WeChatClient(fake.settings, client, session) for client, session in zip(clients, sessions)]
            tokens = await asyncio.gather(*(w.get_access_token() for w in wechat for _ in range(4)))
        finally:
            for session in sessions:
                await session.close()
    assert len(set(tokens)) == 1
    assert (await fake.stats())["stable_token"] == 1
