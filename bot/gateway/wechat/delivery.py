"""The 5-second rule: one Rasa turn per message however often WeChat delivers it, a passive reply
within `wechat_reply_budget_s`, else "success" now and the answer as a customer-service push.

De-duplication (WeChat re-sends a request it got no answer to within 5 s, 3 deliveries in all):
`SET NX settings.key("wechat", "msg", <MsgId | FromUserName:CreateTime:Event:EventKey>)` decides,
across processes, which delivery owns the turn. The owner runs the one turn (`WeChatChannel.answer`);
the state goes pending -> done/passive (the answer itself kept 60 s under "wechat:answer" so a
retry re-sends the same reply) or pending -> deferred -> done/push (the answer went out via the
customer-service API; retries get "success"). A retry never starts a second turn. The state lives
as long as a signed query string is accepted (`replay_ttl_s`, > 2 x the timestamp window), so an
exact replay of a request is a retry too.

A gateway can die (kill -9, a node lost) between claiming a delivery and answering it. The owner
therefore holds a short lease (`wechat:lease`, LEASE_S, renewed while its turn runs); a retry that
finds the turn still pending and the lease gone takes the delivery over (SET NX on the lease, so one
retry does) and runs the turn itself. Without it the retry would wait on a dead owner and the
message would get no answer. The dead owner may have reached Rasa already: the taken-over turn then
reaches Rasa a second time (the user still gets one answer). A turn that was already deferred
("success" sent, so WeChat retries no more) dies with its gateway: the known gap, docs/deploying.md.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any, List, Set

import redis.asyncio as aioredis

from bot.log_ids import log_id
from bot.settings import Settings
from bot.gateway.wechat import messages as m
from bot.services.customer_service import CustomerServiceSender
from bot.gateway.wechat.api_client import WeChatClient
from bot.gateway.wechat.channel import WeChatChannel
from bot.gateway.wechat.replay import replay_ttl_s
from bot.gateway.wechat.window import CustomerServiceWindow

logger = logging.getLogger(__name__)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("wechat:msg", "wechat:answer", "wechat:lease")

ANSWER_TTL_S = 60  # WeChat's retries come within ~15 s; the answer is personal, keep it briefly
RETRY_POLL_S = 0.05
# A live owner renews its lease every LEASE_S / 3; a retry takes over LEASE_S after the owner died.
LEASE_S = 2

# Claim the delivery and take its lease in one step, so no retry ever sees a claim without a lease.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
  return 1
end
return 0
"""


class WeChatDelivery:
    """De-duplicated, time-boxed handling of deliveries in one gateway process (Redis holds
    what processes share); owns the background tasks of late answers and pushes."""

    def __init__(self, settings: Settings, redis: aioredis.Redis, channel: WeChatChannel,
                 client: WeChatClient, window: CustomerServiceWindow) -> None:
        self.settings = settings
        self.redis = redis
        self.channel = channel
        self.sender = CustomerServiceSender(client, window)
        self.state_ttl_s = replay_ttl_s(settings)
        self.tasks: Set[asyncio.Task] = set()

    def spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for background turns and pushes (tests and shutdown)."""
        pending = [t for t in self.tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    def msg_key(self, dedupe_id: str) -> str:
        return self.settings.key("wechat", "msg", dedupe_id)

    def answer_key(self, dedupe_id: str) -> str:
        return self.settings.key("wechat", "answer", dedupe_id)

    def lease_key(self, dedupe_id: str) -> str:
        return self.settings.key("wechat", "lease", dedupe_id)

    async def _claim(self, dedupe_id: str) -> bool:
        keys = [self.msg_key(dedupe_id), self.lease_key(dedupe_id)]
        args = [json.dumps({"s": "pending"}), self.state_ttl_s, secrets.token_hex(8), LEASE_S]
        return bool(await self.redis.eval(_CLAIM, len(keys), *keys, *args))

    async def _take_over(self, dedupe_id: str) -> bool:
        """The owner's lease lapsed (it died): the first retry to get here becomes the owner."""
        return bool(await self.redis.set(self.lease_key(dedupe_id), secrets.token_hex(8), nx=True, ex=LEASE_S))

    async def _hold_lease(self, dedupe_id: str, work: asyncio.Task) -> None:
        """Renew the lease while this process still works on the delivery (turn and late push)."""
        key = self.lease_key(dedupe_id)
        while not work.done():
            try:
                await self.redis.expire(key, LEASE_S)
            except Exception:  # Redis away for a moment: the next renewal tries again
                logger.debug("lease renewal failed", exc_info=True)
            await asyncio.wait({work}, timeout=LEASE_S / 3)

    def _log_id(self, openid: str) -> str:
        return log_id(openid, self.settings.console_secret)

    # -- pushing -------------------------------------------------------------------------------

    async def push(self, openid: str, parts: List[str]) -> int:
        """Send parts through the customer-service API within the window; returns how many."""
        sent = 0
        for part in parts:
            result = await self.sender.send(openid, part)
            if result.sent:
                sent += 1
                continue
            if result.errcode is None:
                logger.warning("not pushing to %s: %s (%d parts left)", self._log_id(openid), result.reason, len(parts) - sent)
            else:
                logger.warning("customer-service send to %s failed: WeChat API error %s: %s",
                               self._log_id(openid), result.errcode, result.errmsg)
            break  # never retry into a refusal
        return sent

    async def _deliver_late(self, key: str, openid: str, turn: asyncio.Task) -> None:
        try:
            parts = await turn
        except Exception:
            logger.exception("late WeChat turn for %s failed", self._log_id(openid))
            parts = []
        await self.redis.set(key, json.dumps({"s": "done", "d": "push"}), ex=self.state_ttl_s)
        if parts:
            await self.push(openid, parts)

    async def _run_turn(self, msg: m.Message) -> List[str]:
        try:
            return await self.channel.answer(msg)
        except Exception:
            logger.exception("WeChat turn for %s failed", self._log_id(msg.from_user))
            return []

    # -- the de-duplicated, time-boxed handling of one delivery -------------------------------

    async def handle(self, msg: m.Message) -> List[str]:
        """Reply parts for this delivery: [first passive part] or [] for "success"."""
        if not await self._claim(msg.dedupe_id):
            return await self._await_other_delivery(msg)
        return await self._answer(msg)

    async def _answer(self, msg: m.Message) -> List[str]:
        """The owner's part: one turn, passive within the budget, else deferred to a push."""
        key, answer_key = self.msg_key(msg.dedupe_id), self.answer_key(msg.dedupe_id)
        turn = self.spawn(self._run_turn(msg))
        self.spawn(self._hold_lease(msg.dedupe_id, turn))
        budget = self.settings.wechat_reply_budget_s
        try:
            await asyncio.wait({turn}, timeout=budget)
        except asyncio.CancelledError:
            # WeChat hung up on us: the answer goes out as a push
            await self._defer(msg, turn)
            raise
        if not turn.done():
            await self._defer(msg, turn)
            return []
        parts = turn.result()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(answer_key, json.dumps(parts[:1], ensure_ascii=False), ex=ANSWER_TTL_S)
            pipe.set(key, json.dumps({"s": "done", "d": "passive"}), ex=self.state_ttl_s)
            await pipe.execute()
        if len(parts) > 1:
            self.spawn(self.push(msg.from_user, parts[1:]))
        return parts[:1]

    async def _defer(self, msg: m.Message, turn: asyncio.Task) -> None:
        key = self.msg_key(msg.dedupe_id)
        await self.redis.set(key, json.dumps({"s": "deferred"}), ex=self.state_ttl_s)
        late = self.spawn(self._deliver_late(key, msg.from_user, turn))
        self.spawn(self._hold_lease(msg.dedupe_id, late))

    async def _await_other_delivery(self, msg: m.Message) -> List[str]:
        key, answer_key = self.msg_key(msg.dedupe_id), self.answer_key(msg.dedupe_id)
        deadline = time.monotonic() + self.settings.wechat_reply_budget_s
        while True:
            raw = await self.redis.get(key)
            state = json.loads(raw) if raw else {"s": "gone"}
            if state.get("s") == "done" and state.get("d") == "passive":
                answer = await self.redis.get(answer_key)
                return list(json.loads(answer)) if answer else []
            if state.get("s") == "pending" and await self._take_over(msg.dedupe_id):
                logger.warning("taking over a delivery for %s: its gateway stopped answering", self._log_id(msg.from_user))
                return await self._answer(msg)
            if state.get("s") != "pending" or time.monotonic() >= deadline:
                return []
            await asyncio.sleep(RETRY_POLL_S)
