"""Steady load for the failure drills: WeChat-signed users through the load balancer.

Each delivery is signed with wechatpy (the independent WeChat implementation) and retried as WeChat
does: three tries in all, each given 5 seconds, the same MsgId and query string every time; an
HTTP answer ends the tries ("success" means: expect a customer-service message). What the users
were told comes back from two places: the passive reply, and the fake WeChat API's record of
customer-service sends (kept in Redis, read through the load balancer).
"""
from __future__ import annotations

import asyncio
import random
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import List, Optional

import aiohttp
from wechatpy import parse_message
from wechatpy.utils import WeChatSigner

ACCOUNT = "gh_zhinan_drill"
TRIES = 3
TRY_TIMEOUT_S = 5.0
PUSH_WAIT_S = 15.0  # how long a user waits for a customer-service message after "success"
CODE = re.compile(r"预约码[：:]\s*([A-Z0-9]{4,12})")
LATER = "稍后"

# What people ask the account, in their own words (not the training examples).
QUESTIONS = [
    "你好", "济南哪儿能办失业登记啊", "刚毕业一直没找到工作咋办", "这周附近有招聘会不",
    "灵活就业的社保怎么交", "我想学个技术，有免费培训吗", "有没有适合带孩子的妈妈做的活",
    "想自己开个小店，有扶持吗", "谢谢你", "你们几点下班",
]


@dataclass
class Message:
    openid: str
    text: str
    sent_at: float  # wall clock (the fake WeChat API stamps its records with it too)
    tries: int = 0
    failed_tries: int = 0
    passive: str = ""
    finished_at: float = 0.0


@dataclass
class Load:
    """Every message sent and every booking code the users were told."""

    base_url: str
    token: str
    messages: List[Message] = field(default_factory=list)
    codes_told: List[str] = field(default_factory=list)
    bookings_started: int = 0
    # When a booking dialogue got an answer it did not expect and began again (state lost, or 稍后).
    form_restarts: List[float] = field(default_factory=list)
    stopping: bool = False
    in_flight: int = 0  # deliveries waiting for their HTTP answer right now

    async def send(self, session: aiohttp.ClientSession, openid: str, text: str) -> Message:
        msg = Message(openid, text, time.time())
        self.messages.append(msg)
        query, body = self._signed(openid, text)
        self.in_flight += 1
        try:
            await self._deliver(session, msg, query, body)
        finally:
            self.in_flight -= 1
        msg.finished_at = time.time()
        return msg

    async def _deliver(self, session: aiohttp.ClientSession, msg: Message, query: dict, body: bytes) -> None:
        for _ in range(TRIES):
            msg.tries += 1
            try:
                async with session.post(f"{self.base_url}/wechat", params=query, data=body,
                                        timeout=aiohttp.ClientTimeout(total=TRY_TIMEOUT_S)) as resp:
                    if resp.status == 200:
                        msg.passive = _passive_text(await resp.text())
                        break
            except (asyncio.TimeoutError, aiohttp.ClientError):
                pass
            msg.failed_tries += 1
            await asyncio.sleep(0.5)

    def _signed(self, openid: str, text: str) -> tuple:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        signer = WeChatSigner()
        signer.add_data(self.token, timestamp, nonce)
        msg_id = secrets.randbits(62)
        xml = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
        )
        query = {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, "openid": openid}
        return query, xml.encode("utf-8")

    async def pushes(self, session: aiohttp.ClientSession, openid: str) -> List[dict]:
        async with session.get(f"{self.base_url}/fake-wechat/_sent", params={"touser": openid},
                               timeout=aiohttp.ClientTimeout(total=10)) as resp:
            return [r for r in (await resp.json())["messages"] if r.get("kind") == "custom"]

    async def say(self, session: aiohttp.ClientSession, openid: str, text: str) -> str:
        """Send, then wait for what the user sees: the passive reply, else the pushed answer."""
        msg = await self.send(session, openid, text)
        if msg.passive:
            return msg.passive
        deadline = time.monotonic() + PUSH_WAIT_S
        while time.monotonic() < deadline:
            try:
                records = await self.pushes(session, openid)
            except (asyncio.TimeoutError, aiohttp.ClientError, ValueError):
                records = []
            fresh = [r for r in records if r.get("at", 0) >= msg.sent_at]
            if fresh:
                return "\n".join(_push_text(r) for r in fresh)
            await asyncio.sleep(0.5)
        return ""

    # -- the two kinds of user -----------------------------------------------------------------

    async def chat_user(self, session: aiohttp.ClientSession, index: int) -> None:
        openid = f"oDrillChat{index:03d}" + secrets.token_hex(4)
        turn = index
        while not self.stopping:
            await self.say(session, openid, QUESTIONS[turn % len(QUESTIONS)])
            turn += 1
            await asyncio.sleep(random.uniform(2.0, 3.0))  # people read, then type (30 msg/min limit)

    async def booking_user(self, session: aiohttp.ClientSession, index: int) -> None:
        while not self.stopping:
            self.bookings_started += 1
            openid = f"oDrillBook{index:03d}" + secrets.token_hex(4)
            phone = f"139{random.randrange(10**8):08d}"
            await self._book(session, openid, phone)
            await asyncio.sleep(random.uniform(2.0, 3.0))

    async def _book(self, session: aiohttp.ClientSession, openid: str, phone: str) -> None:
        """Follow the booking dialogue by what the bot asks; keep the code it tells."""
        reply = await self.say(session, openid, "想约个老师帮我看看简历")
        for _ in range(12):
            if self.stopping:
                return
            await asyncio.sleep(random.uniform(2.0, 3.0))
            found = CODE.search(reply)
            if found:
                self.codes_told.append(found.group(1))
                return
            answer = _booking_answer(reply, phone)
            if answer is None:  # lost the thread (or 稍后): start the request again
                self.form_restarts.append(time.time())
                answer = "想约个老师帮我看看简历"
            reply = await self.say(session, openid, answer)


def _booking_answer(reply: str, phone: str) -> Optional[str]:
    steps = (("请选择想预约的指导类型", "1"), ("请确认预约信息", "确认"), ("手机号", phone),
             ("姓名", "李晓燕"), ("什么时间", "最近"))
    for prompt, answer in steps:
        if prompt in reply:
            return answer
    if re.search(r"^1\. ", reply, re.M):
        return "1"
    return None


def _passive_text(body: str) -> str:
    body = body.strip()
    if not body or body == "success":
        return ""
    return parse_message(body).content or ""


def _push_text(record: dict) -> str:
    return ((record.get("payload") or {}).get("text") or {}).get("content", "")
