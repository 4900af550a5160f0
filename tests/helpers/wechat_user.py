"""A WeChat user talking to an in-process gateway: signed WeChat XML (wechatpy, the independent
implementation) in, the passive reply read the way WeChat would. Used by the stack tests
(tests/bot/conversations/conftest.py `chat`) and the dialogue corpus runner (scripts/eval_dialogues.py).
"""
from __future__ import annotations

import json
import time
import uuid
from typing import List, Optional, Tuple

from wechatpy import parse_message
from wechatpy.utils import WeChatSigner

from bot.gateway.appkeys import RASA, SERVICES
from bot.settings import Settings
from bot.gateway.wechat.handler import get_endpoint

ACCOUNT = "gh_zhinan_test"


class WeChatUser:
    """One WeChat user talking to the official account."""

    def __init__(self, client, settings: Settings, openid: Optional[str] = None) -> None:
        self.client = client
        self.settings = settings
        self.openid = openid or "o" + uuid.uuid4().hex[:20]
        self.transcript: List[str] = []
        self.last_text = ""

    @property
    def app(self):
        return self.client.server.app

    @property
    def services(self):
        return self.app[SERVICES]

    def _query(self) -> dict:
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        signer = WeChatSigner()
        signer.add_data(self.settings.wechat_token, timestamp, nonce)
        return {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}

    async def _post(self, inner: str) -> str:
        xml = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>{inner}</xml>"
        )
        resp = await self.client.post("/wechat", params=self._query(), data=xml.encode())
        assert resp.status == 200, await resp.text()
        body = await resp.text()
        if body.strip() in ("", "success"):
            return ""
        reply = parse_message(body)
        assert reply.target == self.openid and reply.source == ACCOUNT
        return reply.content

    async def say(self, text: str) -> str:
        """Send a text message; returns the passive reply ("" when WeChat gets `success`)."""
        msg_id = uuid.uuid4().int >> 66
        reply = await self._post(
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
            f"<MsgId>{msg_id}</MsgId>"
        )
        self.transcript += [f"用户: {text}", f"职引: {reply}"]
        self.last_text = text
        return reply

    async def send_location(self, latitude: float, longitude: float, label: str = "") -> str:
        msg_id = uuid.uuid4().int >> 66
        return await self._post(
            f"<MsgType><![CDATA[location]]></MsgType><Location_X>{latitude}</Location_X>"
            f"<Location_Y>{longitude}</Location_Y><Scale>15</Scale>"
            f"<Label><![CDATA[{label}]]></Label><MsgId>{msg_id}</MsgId>"
        )

    async def event(self, event: str, key: str = "") -> str:
        return await self._post(
            f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
            f"<EventKey><![CDATA[{key}]]></EventKey>"
        )

    async def last_turn(self) -> Tuple[str, List[str]]:
        """What Rasa made of the last message `say` sent: (intent, actions run after it).

        ("", []) when that message never reached Rasa (the handoff gate answered it)."""
        events = (await self.app[RASA].tracker(self.openid)).get("events") or []
        starts = [i for i, e in enumerate(events) if e.get("event") == "user"]
        if not starts or events[starts[-1]].get("text") != self.last_text:
            return "", []
        user = events[starts[-1]]
        actions = [
            e["name"] for e in events[starts[-1] + 1 :]
            if e.get("event") == "action" and e.get("name") != "action_listen"
        ]
        return (user.get("parse_data") or {}).get("intent", {}).get("name") or "", actions

    async def pushed(self) -> List[str]:
        """Texts the fake WeChat API received for this user (customer-service messages)."""
        await get_endpoint(self.app).delivery.drain()
        raw = await self.services.redis.lrange(
            self.settings.key("fakewechat", "sent", self.openid), 0, -1
        )
        texts = []
        for item in raw:
            payload = json.loads(item).get("payload", {})
            if payload.get("msgtype") == "text":
                texts.append(payload["text"]["content"])
        return texts
