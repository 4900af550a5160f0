"""Fixtures for the WeChat channel: a Rasa test double, the gateway app, and a WeChat side.

The Rasa double (tests/helpers/rasa_double.py) is a real aiohttp server with a configurable
delay and answer; it counts calls. The WeChat side uses wechatpy (independent implementation) to encrypt
and sign requests the way WeChat does and to decrypt/parse our replies.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import time
from typing import Any, Dict, List, Optional

import pytest
import xmltodict
from wechatpy import parse_message as wx_parse_message
from wechatpy.crypto import WeChatCrypto

from bot.gateway.app import create_app
from bot.settings import Settings
from bot.stack import free_port
from bot.gateway.wechat.fake_api import setup_fake_wechat_routes
from bot.gateway.wechat.handler import get_endpoint, setup_wechat_routes
from tests.helpers.rasa_double import RasaDouble, start_rasa

GH_ID = "gh_zhinan0000001"


@pytest.fixture
async def rasa(aiohttp_server) -> RasaDouble:
    return await start_rasa(aiohttp_server, reply_prefix="收到：")


class WeChatSide:
    """Plays the WeChat server against our endpoint (wechatpy does the crypto)."""

    def __init__(self, client, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.wx = WeChatCrypto(settings.wechat_token, settings.wechat_encoding_aes_key, settings.wechat_appid)
        self._msgid = int(time.time() * 1000) * 1000

    def next_msgid(self) -> str:
        self._msgid += 1
        return str(self._msgid)

    def query(self, timestamp: Optional[str] = None, nonce: Optional[str] = None) -> Dict[str, str]:
        # A fresh nonce per request, as WeChat does: the gateway refuses a signed query string
        # reused for another message (its retries of one message reuse it, see test_replay).
        ts = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        sig = hashlib.sha1("".join(sorted([self.settings.wechat_token, ts, nonce])).encode()).hexdigest()
        return {"signature": sig, "timestamp": ts, "nonce": nonce, "openid": "x"}

    def build(self, inner_xml: str, mode: str, timestamp: Optional[str] = None, nonce: Optional[str] = None):
        """(query, body) as WeChat would send `inner_xml` in the given mode."""
        q = self.query(timestamp, nonce)
        if mode == "plaintext":
            return q, inner_xml.encode("utf-8")
        env = xmltodict.parse(self.wx.encrypt_message(inner_xml, q["nonce"], q["timestamp"]))["xml"]
        q.update(encrypt_type="aes", msg_signature=env["MsgSignature"])
        if mode == "safe":
            body = f"<xml><ToUserName><![CDATA[{GH_ID}]]></ToUserName><Encrypt><![CDATA[{env['Encrypt']}]]></Encrypt></xml>"
        else:  # compatible: plain fields and Encrypt
            body = inner_xml.replace("</xml>", f"<Encrypt><![CDATA[{env['Encrypt']}]]></Encrypt></xml>")
        return q, body.encode("utf-8")

    async def post(self, inner_xml: str, mode: str = "plaintext", **kw):
        q, body = self.build(inner_xml, mode, **kw)
        resp = await self.client.post("/wechat", params=q, data=body)
        return resp.status, await resp.text()

    def open_reply(self, text: str, encrypted: bool):
        """Decrypt (verifying msg_signature and appid with wechatpy) and parse our reply."""
        if encrypted:
            env = xmltodict.parse(text)["xml"]
            text = self.wx.decrypt_message(text, env["MsgSignature"], env["TimeStamp"], env["Nonce"])
        return wx_parse_message(text)

    async def sent(self, openid: Optional[str] = None) -> List[Dict[str, Any]]:
        resp = await self.client.get("/fake-wechat/_sent", params={"touser": openid} if openid else {})
        return (await resp.json())["messages"]


def text_xml(openid: str, content: str, msgid: str, create_time: Optional[int] = None) -> str:
    ct = create_time or int(time.time())
    return (
        f"<xml><ToUserName><![CDATA[{GH_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{ct}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msgid}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, extra: str = "", create_time: Optional[int] = None) -> str:
    ct = create_time or int(time.time())
    return (
        f"<xml><ToUserName><![CDATA[{GH_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{ct}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{extra}</xml>"
    )


@pytest.fixture
def make_gateway(settings: Settings, rasa: RasaDouble, aiohttp_client):
    """Factory: the gateway app (create_app + WeChat routes + fake API) -> WeChatSide."""

    async def make(**overrides: Any) -> WeChatSide:
        port = free_port()
        values = dict(
            rasa_url=rasa.url,
            wechat_api_base=f"http://127.0.0.1:{port}/fake-wechat",
            wechat_reply_budget_s=3.0,
        )
        values.update(overrides)
        s = dataclasses.replace(settings, **values)
        app = create_app(s)
        setup_wechat_routes(app)
        setup_fake_wechat_routes(app)
        client = await aiohttp_client(app, server_kwargs={"port": port})
        side = WeChatSide(client, s)
        side.app = app  # type: ignore[attr-defined]
        side.endpoint = lambda: get_endpoint(app)  # type: ignore[attr-defined]
        return side

    return make


def unique_openid(tag: str = "") -> str:
    return "oZn" + tag + hashlib.md5(str(time.time_ns()).encode()).hexdigest()[:20]


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
