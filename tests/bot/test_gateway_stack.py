"""The foundation end to end: real Redis, real trained model, real Rasa and action server.

wechatpy plays the WeChat server: it signs (and in safe mode encrypts) requests and parses
the gateway's replies, so the protocol is checked by an implementation that is not ours.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import urllib.error
import urllib.request
import uuid

import aiohttp
import psutil
import pytest
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from bot.gateway.app import create_app
from bot.gateway.appkeys import RASA
from bot.settings import Settings
from bot.stack import Stack, free_port
from tests.helpers.network import assert_loopback_only, listening_pids
from tests.helpers.processes import loaded_version, version_tuple

pytestmark = pytest.mark.stack

ACCOUNT = "gh_zhinan_test"


def _signed_query(settings: Settings, timestamp: str = "", nonce: str = "") -> dict:
    timestamp, nonce = timestamp or str(int(time.time())), nonce or uuid.uuid4().hex[:10]
    signer = WeChatSigner()
    signer.add_data(settings.wechat_token, timestamp, nonce)
    return {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}


def _text_xml(openid: str, text: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{uuid.uuid4().int >> 66}</MsgId></xml>"
    )


async def test_healthz_reports_every_component_up(aiohttp_client, stack_settings):
    client = await aiohttp_client(create_app(stack_settings))
    resp = await client.get("/healthz")
    body = await resp.json()
    assert resp.status == 200, body
    # The gateway checks what it talks to; the action server is Rasa's neighbour.
    assert {name for name, check in body["checks"].items() if check["ok"]} == {"redis", "rasa"}


async def test_plaintext_greeting_round_trip(aiohttp_client, stack_settings):
    client = await aiohttp_client(create_app(stack_settings))
    openid = "o" + uuid.uuid4().hex[:20]
    resp = await client.post(
        "/wechat", params=_signed_query(stack_settings), data=_text_xml(openid, "你好").encode()
    )
    assert resp.status == 200
    reply = parse_message(await resp.text())
    assert reply.type == "text"
    assert reply.source == ACCOUNT and reply.target == openid  # To/From swapped
    assert "职引" in reply.content and "预约" in reply.content  # the greeting says what it can do


async def test_safe_mode_greeting_round_trip(aiohttp_client, stack_settings, monkeypatch):
    monkeypatch.setenv("WECHAT_MESSAGE_MODE", "safe")
    from bot.settings import load_settings

    settings = load_settings()
    client = await aiohttp_client(create_app(settings))
    crypto = WeChatCrypto(settings.wechat_token, settings.wechat_encoding_aes_key, settings.wechat_appid)
    openid = "o" + uuid.uuid4().hex[:20]
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    envelope = crypto.encrypt_message(_text_xml(openid, "您好"), nonce, timestamp)
    from xml.etree import ElementTree

    root = ElementTree.fromstring(envelope)
    params = {
        **_signed_query(settings, timestamp, nonce),
        "encrypt_type": "aes",
        "msg_signature": root.findtext("MsgSignature"),
    }
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{root.findtext('Encrypt')}]]></Encrypt></xml>"
    resp = await client.post("/wechat", params=params, data=body.encode())
    assert resp.status == 200
    reply_xml = await resp.text()
    reply_root = ElementTree.fromstring(reply_xml)
    plaintext = crypto.decrypt_message(
        reply_xml,
        reply_root.findtext("MsgSignature"),
        reply_root.findtext("TimeStamp"),
        reply_root.findtext("Nonce"),
    )
    reply = parse_message(plaintext)
    assert reply.target == openid and reply.source == ACCOUNT
    assert "职引" in reply.content


async def test_rasa_reaches_the_action_server_with_its_secret(aiohttp_client, stack_settings):
    """action_my_bookings runs in the action server, which refuses callers without the secret."""
    client = await aiohttp_client(create_app(stack_settings))
    openid = "o" + uuid.uuid4().hex[:20]
    resp = await client.post(
        "/wechat", params=_signed_query(stack_settings), data=_text_xml(openid, "我的预约").encode()
    )
    assert resp.status == 200
    assert "您目前没有预约" in parse_message(await resp.text()).content


def test_rasa_listens_on_loopback_only_and_its_api_wants_the_token(stack_settings):
    assert_loopback_only(stack_settings.rasa_port)
    status = f"{stack_settings.rasa_url}/status"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(status, timeout=10)
    assert refused.value.code == 401
    with urllib.request.urlopen(f"{status}?token={stack_settings.rasa_token}", timeout=10) as resp:
        assert resp.status == 200


async def test_unknown_text_gets_a_polite_chinese_fallback(aiohttp_client, stack_settings):
    client = await aiohttp_client(create_app(stack_settings))
    openid = "o" + uuid.uuid4().hex[:20]
    resp = await client.post(
        "/wechat", params=_signed_query(stack_settings), data=_text_xml(openid, "🙂🙂🙂").encode()
    )
    assert resp.status == 200
    reply = parse_message(await resp.text())
    assert reply.type == "text" and reply.content
    # no flow and no knowledge item fits: the reply says so and names what Zhinan can do
    assert "答不上来" in reply.content or "帮不上" in reply.content, reply.content
    assert "转人工" in reply.content and "招聘会" in reply.content


async def test_simulator_takes_the_wechat_path(aiohttp_server, aiohttp_client, stack_settings):
    """The simulator signs a WeChat message and posts it to the gateway's own /wechat."""
    port = free_port()
    app = create_app(dataclasses.replace(stack_settings, gateway_port=port))
    server = await aiohttp_server(app, port=port)
    client = await aiohttp_client(server)
    openid = "sim-" + uuid.uuid4().hex[:10]
    resp = await client.post("/simulator/api/send", json={"openid": openid, "text": "你好"})
    body = await resp.json()
    assert resp.status == 200, body
    assert any("职引" in text for text in body["replies"])
    # the turn reached Rasa under the simulator user's OpenID, as a WeChat turn would
    tracker = await app[RASA].tracker(openid)
    assert any(e.get("text") == "你好" for e in tracker["events"] if e.get("event") == "user")


async def test_rasa_keeps_conversations_in_the_append_only_store(aiohttp_client, stack_settings):
    """endpoints.yml wires Rasa to bot.rasa_server.tracker_store: one Redis list per conversation."""
    from bot.redis_client import create_redis

    client = await aiohttp_client(create_app(stack_settings))
    openid = "o" + uuid.uuid4().hex[:20]
    for text in ("你好", "谢谢"):
        resp = await client.post(
            "/wechat", params=_signed_query(stack_settings), data=_text_xml(openid, text).encode()
        )
        assert resp.status == 200
    redis = create_redis(stack_settings)
    try:
        key = stack_settings.key("tracker", openid)
        assert await redis.type(key) == "list"
        events = [json.loads(item) for item in await redis.lrange(key, 0, -1)]
        assert [e["text"] for e in events if e["event"] == "user"] == ["你好", "谢谢"]
        assert int(await redis.hget(stack_settings.key("trackermeta", openid), "length")) == len(events)
    finally:
        await redis.close()


async def test_concurrent_turns_of_one_user_run_one_after_another(stack_settings):
    """Rasa runs RASA_WORKERS processes; the Redis lock store must still keep each turn whole."""
    assert stack_settings.rasa_workers > 1
    for _ in range(3):  # a race between workers: several chances to show it
        await _send_at_once_and_check_turns(stack_settings, "o" + uuid.uuid4().hex[:20])


async def _send_at_once_and_check_turns(stack_settings, sender: str) -> None:
    from bot.redis_client import create_redis

    texts = ["你好", "谢谢", "实训营是什么", "失业登记怎么办", "你是机器人吗", "再见"]
    url = f"{stack_settings.rasa_url}/webhooks/rest/webhook"
    async with aiohttp.ClientSession() as session:

        async def send(text: str) -> int:
            async with session.post(url, json={"sender": sender, "message": text}) as resp:
                await resp.read()
                return resp.status

        assert await asyncio.gather(*(send(t) for t in texts)) == [200] * len(texts)
    redis = create_redis(stack_settings)
    try:
        stored = await redis.lrange(stack_settings.key("tracker", sender), 0, -1)
        events = [json.loads(item) for item in stored]
    finally:
        await redis.close()
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    assert sorted(events[i]["text"] for i in users) == sorted(texts)
    # every turn ends (action_listen after the bot's answer) before the next user message starts
    for start, end in zip(users, users[1:] + [len(events)]):
        turn = events[start + 1:end]
        assert any(e["event"] == "bot" for e in turn)
        assert turn[-1]["event"] == "action" and turn[-1]["name"] == "action_listen"


def test_the_gateway_runs_from_its_own_environment_and_rasa_from_its(stack_env, stack_settings, tmp_path):
    """What `make run` starts: the gateway from GATEWAY_PYTHON on a current aiohttp (the
    advisories fixed in 3.13.3 reach 3.9), Rasa from RASA_PYTHON on the aiohttp Rasa 3.6 pins."""
    port = free_port()
    env = {**stack_env, "GATEWAY_PORT": str(port)}
    settings = dataclasses.replace(stack_settings, gateway_port=port)
    stack = Stack(settings, tmp_path, env=env)
    try:
        stack.start_gateway()
        gateway = stack.processes["gateway"].pid
        assert psutil.Process(gateway).cmdline()[0] == str(settings.gateway_python)
        assert settings.gateway_python != settings.rasa_python
        gateway_aiohttp = loaded_version(gateway, "aiohttp")
        assert gateway_aiohttp and version_tuple(gateway_aiohttp) >= (3, 13, 3), gateway_aiohttp
        assert_loopback_only(port)
    finally:
        stack.stop()
    # Rasa (started by the session's stack) imports its aiohttp from the other environment.
    rasa_aiohttp = {loaded_version(pid, "aiohttp") for pid in listening_pids(settings.rasa_port)}
    assert rasa_aiohttp and None not in rasa_aiohttp and gateway_aiohttp not in rasa_aiohttp, rasa_aiohttp
