"""The WeChat official-account endpoint: GET/POST /wechat.

Request path (POST):
  `signature` over token/timestamp/nonce (403) -> timestamp window (403) -> body size limit (413)
  -> mode: plaintext / compatible / safe (`msg_signature` + AES; safe refuses plaintext bodies)
  -> defusedxml parse (400) -> nonce cache (403 for a signed query reused for another message,
  see `bot.wechat.replay`) -> de-duplication -> per-OpenID rate limit -> UserTurn -> Rasa
  -> passive reply within `wechat_reply_budget_s`, else "success" and a customer-service push.

Nothing that reaches the handler produces a 5xx or a stack trace: an unexpected error is logged
(phone numbers masked, users named by `bot.log_ids`) and answered with "success", which WeChat accepts silently.

De-duplication (WeChat re-sends a request it got no answer to within 5 s, 3 deliveries in all):
`SET NX settings.key("wechat", "msg", <MsgId | FromUserName:CreateTime:Event:EventKey>)` decides,
across processes, which delivery owns the turn. The owner runs the one Rasa turn; the state goes
pending -> done/passive (the answer itself kept 60 s under "wechat:answer" so a retry re-sends the
same reply) or pending -> deferred -> done/push (the answer went out via the customer-service API;
retries get "success"). A retry never starts a second turn. The state lives as long as a signed
query string is accepted (`replay_ttl_s`, > 2 x the timestamp window), so an exact replay of a
request is a retry too.

Unsubscribe and personal data: WeChat requires deleting a user's data on unfollow. We delete
every per-OpenID family registered with `bot.services.profiles.register_personal_key` (the
profile, the last location `location`, the customer-service window `cswindow`, and whatever
other features registered: push preferences, assessment progress, course subscriptions …) and
the Rasa conversation (`tracker`, `trackermeta`). Before that the user leaves every workshop and
camp waitlist and their future notices are cancelled (`bot.services.unfollow`). Kept, as records of the public service (see
README "Personal data"): confirmed workshop bookings and camp enrolments (name, phone — the
organisers need them), handoff transcripts, aggregate counters without OpenIDs, and short-lived
de-duplication and nonce markers (a hash of the OpenID, about 11 minutes), kept answers (60 s)
and rate-limit counters (2 minutes) that expire by themselves.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set

from aiohttp import web
from redis.exceptions import RedisError

from bot.appkeys import CONVERSATION, REDIS, SERVICES, SETTINGS
from bot.clock import Clock, system_clock
from bot.log_ids import log_id
from bot.conversation import UserTurn, typed_text
from bot.services.camp import load_catalogue as load_camp_catalogue
from bot.services.location import LocationStore
from bot.services.phone import mask_phones
from bot.services.profiles import ProfileStore
from bot.services.unfollow import leave_services
from bot.settings import Settings
from bot.wechat import messages as m
from bot.wechat.api_client import OUT_OF_QUOTA, OUT_OF_WINDOW, WeChatAPIError
from bot.wechat.crypto import WeChatCryptoError, WeChatMessageCrypto, check_url_signature
from bot.wechat.menu import click_intents
from bot.wechat.replay import NonceCache, replay_ttl_s

logger = logging.getLogger(__name__)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("wechat:msg", "wechat:answer", "wechat:rate")

SUCCESS = "success"
ANSWER_TTL_S = 60  # WeChat's retries come within ~15 s; the answer is personal, keep it briefly
RETRY_POLL_S = 0.05

TEXT_MEDIA_UNSUPPORTED = (
    "我目前能看懂文字和位置，图片、视频、文件和链接还看不懂。"
    "请直接打字告诉我您想了解什么，比如“附近的就业服务站”“预约招聘讲座”。"
)
TEXT_VOICE_UNRECOGNISED = "抱歉，这条语音我没听清。请直接打字告诉我，比如“我想找工作”。"
TEXT_EMPTY = "请直接打字告诉我您想了解什么，比如“附近的就业服务站”。"
TEXT_RATE_LIMITED = "您发消息有点快，我跟不上啦。请稍等一分钟再发，我会继续为您服务。"
TEXT_SERVICE_UNAVAILABLE = "系统正在维护，暂时无法处理您的消息，请稍后再发一次。紧急问题可拨打 12333 人社服务热线。"
# What a user sees an answer to (WeChat shows a passive reply to these, not to the other events).
_ANSWERED = (m.TextMessage, m.VoiceMessage, m.LocationMessage, m.MediaMessage, m.ClickEvent,
             m.SubscribeEvent, m.ScanEvent)

WECHAT_CHANNEL = web.AppKey("wechat_channel", object)

@dataclass
class Outcome:
    """What one inbound message produces: reply parts (empty = "success")."""

    parts: List[str] = field(default_factory=list)


class WeChatChannel:
    """State of the channel in one gateway process (Redis holds what processes share)."""

    def __init__(self, app: web.Application, clock: Clock = system_clock) -> None:
        self.app = app
        self.settings: Settings = app[SETTINGS]
        self.redis = app[REDIS]
        self.clock = clock
        services = app[SERVICES]
        self.client = services.wechat
        self.window = services.window
        self.profiles = ProfileStore(self.redis, self.settings)
        self.locations = LocationStore(self.redis, self.settings, clock)
        s = self.settings
        self.crypto = WeChatMessageCrypto(s.wechat_token, s.wechat_encoding_aes_key, s.wechat_appid)
        self.click_intents = click_intents()
        self.nonces = NonceCache(self.redis, self.settings)
        self.state_ttl_s = replay_ttl_s(self.settings)
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

    def _log_id(self, openid: str) -> str:
        return log_id(openid, self.settings.console_secret)

    # -- turning a message into an answer -----------------------------------------------------

    async def _converse(self, openid: str, text: str, metadata: Dict[str, Any]) -> List[str]:
        turn = UserTurn(openid=openid, text=text, channel="wechat", metadata=metadata)
        replies = await self.app[CONVERSATION].handle(turn)
        joined = "\n\n".join(r.strip() for r in replies if r and r.strip())
        return m.split_utf8(joined) if joined else []

    async def _rate_limited(self, openid: str) -> bool:
        limit = self.settings.user_rate_limit_per_min
        if limit <= 0:
            return False
        minute = int(time.time() // 60)
        key = self.settings.key("wechat", "rate", openid, str(minute))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = await pipe.execute()
        return int(count) > limit

    async def answer(self, msg: m.Message) -> List[str]:
        """Reply parts for one message (empty list = answer "success"). Runs once per message."""
        openid = msg.from_user
        meta: Dict[str, Any] = {"wechat_msg_type": msg.msg_type}
        if isinstance(msg, (m.TextMessage, m.VoiceMessage, m.LocationMessage, m.MediaMessage)):
            await self.window.record_user_message(openid)
        elif isinstance(msg, (m.ClickEvent, m.SubscribeEvent, m.ScanEvent)):
            await self.window.record_event(openid)

        if isinstance(msg, m.UnsubscribeEvent):
            await self.forget_user(openid)
            return []
        if isinstance(msg, m.LocationEvent):
            await self.locations.remember(openid, msg.latitude, msg.longitude, "")
            return []
        if isinstance(msg, (m.ViewEvent, m.UnknownEvent, m.UnknownMessage)):
            if isinstance(msg, (m.UnknownEvent, m.UnknownMessage)):
                logger.info("unhandled WeChat %s/%s", msg.msg_type, getattr(msg, "event", ""))
            return []
        if isinstance(msg, m.MediaMessage):
            return [TEXT_MEDIA_UNSUPPORTED]

        # everything below goes to Rasa, so it is rate limited
        if await self._rate_limited(openid):
            logger.warning("rate limit hit for %s", self._log_id(openid))
            return [TEXT_RATE_LIMITED]

        if isinstance(msg, m.TextMessage):
            text = typed_text(msg.content)
            return await self._converse(openid, text, meta) if text else [TEXT_EMPTY]
        if isinstance(msg, m.VoiceMessage):
            text = typed_text(msg.recognition).rstrip("。")
            if not text:
                return [TEXT_VOICE_UNRECOGNISED]
            return await self._converse(openid, text, dict(meta, voice=True))
        if isinstance(msg, m.LocationMessage):
            await self.locations.remember(openid, msg.latitude, msg.longitude, msg.label)
            entities = {"latitude": msg.latitude, "longitude": msg.longitude, "location_label": msg.label}
            trigger = "/find_service_point" + json.dumps(entities, ensure_ascii=False)
            return await self._converse(openid, trigger, meta)
        if isinstance(msg, (m.SubscribeEvent, m.ScanEvent)):
            if msg.scene:
                await self.profiles.update(openid, {"qr_scene": msg.scene[:64]})
                meta["qr_scene"] = msg.scene[:64]
            return await self._converse(openid, "/greet", meta)
        if isinstance(msg, m.ClickEvent):
            intent = self.click_intents.get(msg.event_key)
            if not intent:
                logger.warning("unknown menu key %r", msg.event_key[:64])
                return []
            return await self._converse(openid, "/" + intent, dict(meta, menu_key=msg.event_key))
        return []  # pragma: no cover - every type is handled above

    async def forget_user(self, openid: str) -> None:
        # First off every waitlist and notice: the per-user keys deleted next say where they are.
        cohorts = load_camp_catalogue(self.settings.camp_cohorts_file, self.clock().date())
        await leave_services(self.app[SERVICES], cohorts, openid)
        deleted = await self.profiles.delete_personal_data(openid)  # includes the Rasa tracker
        logger.info("unsubscribe: deleted %d personal keys of %s", deleted, self._log_id(openid))

    # -- pushing -------------------------------------------------------------------------------

    async def push(self, openid: str, parts: List[str]) -> int:
        """Send parts through the customer-service API within the window; returns how many."""
        sent = 0
        for part in parts:
            if not await self.window.consume(openid):
                allowed, reason = await self.window.may_send(openid)
                logger.warning("not pushing to %s: %s (%d parts left)", self._log_id(openid), reason, len(parts) - sent)
                break
            try:
                await self.client.send_text(openid, part)
                sent += 1
            except WeChatAPIError as exc:
                if exc.errcode in (OUT_OF_WINDOW, OUT_OF_QUOTA):
                    await self.window.record_api_refusal(openid, exc.errcode)
                logger.warning("customer-service send to %s failed: %s", self._log_id(openid), exc)
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
            return await self.answer(msg)
        except Exception:
            logger.exception("WeChat turn for %s failed", self._log_id(msg.from_user))
            return []

    # -- the de-duplicated, time-boxed handling of one delivery -------------------------------

    async def handle(self, msg: m.Message) -> List[str]:
        """Reply parts for this delivery: [first passive part] or [] for "success"."""
        key, answer_key = self.msg_key(msg.dedupe_id), self.answer_key(msg.dedupe_id)
        claimed = await self.redis.set(key, json.dumps({"s": "pending"}), nx=True, ex=self.state_ttl_s)
        if not claimed:
            return await self._await_other_delivery(key, answer_key)
        turn = self.spawn(self._run_turn(msg))
        budget = self.settings.wechat_reply_budget_s
        try:
            await asyncio.wait({turn}, timeout=budget)
        except asyncio.CancelledError:
            # WeChat hung up on us: the answer goes out as a push
            await self._defer(key, msg.from_user, turn)
            raise
        if not turn.done():
            await self._defer(key, msg.from_user, turn)
            return []
        parts = turn.result()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(answer_key, json.dumps(parts[:1], ensure_ascii=False), ex=ANSWER_TTL_S)
            pipe.set(key, json.dumps({"s": "done", "d": "passive"}), ex=self.state_ttl_s)
            await pipe.execute()
        if len(parts) > 1:
            self.spawn(self.push(msg.from_user, parts[1:]))
        return parts[:1]

    async def _defer(self, key: str, openid: str, turn: asyncio.Task) -> None:
        await self.redis.set(key, json.dumps({"s": "deferred"}), ex=self.state_ttl_s)
        self.spawn(self._deliver_late(key, openid, turn))

    async def _await_other_delivery(self, key: str, answer_key: str) -> List[str]:
        deadline = time.monotonic() + self.settings.wechat_reply_budget_s
        while True:
            raw = await self.redis.get(key)
            state = json.loads(raw) if raw else {"s": "gone"}
            if state.get("s") == "done" and state.get("d") == "passive":
                answer = await self.redis.get(answer_key)
                return list(json.loads(answer)) if answer else []
            if state.get("s") != "pending" or time.monotonic() >= deadline:
                return []
            await asyncio.sleep(RETRY_POLL_S)


# ---------------------------------------------------------------------------------------------
# HTTP handlers


def _channel(request: web.Request) -> WeChatChannel:
    return get_channel(request.app)


def _plain(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/plain", charset="utf-8")


def _xml(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/xml", charset="utf-8")


async def verify_url(request: web.Request) -> web.Response:
    settings: Settings = request.app[SETTINGS]
    q = request.query
    echostr = q.get("echostr", "")
    if echostr and check_url_signature(
        settings.wechat_token, q.get("signature"), q.get("timestamp", ""), q.get("nonce", "")
    ):
        return _plain(echostr)
    return _plain("forbidden", status=403)


async def _read_body(request: web.Request, limit: int) -> Optional[bytes]:
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: List[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def receive(request: web.Request) -> web.Response:
    try:
        return await _receive(request)
    except asyncio.CancelledError:
        raise
    except web.HTTPException as exc:
        if exc.status >= 500:
            logger.error("WeChat POST produced HTTP %s; answering success", exc.status)
            return _plain(SUCCESS)
        raise
    except Exception as exc:  # never a 5xx or a trace to WeChat
        logger.error("WeChat POST failed: %s", mask_phones(repr(exc)), exc_info=False)
        logger.debug("WeChat POST failure detail", exc_info=True)
        return _plain(SUCCESS)


async def _receive(request: web.Request) -> web.Response:
    settings: Settings = request.app[SETTINGS]
    q = request.query
    timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
    # the query string is checked before the body is read: an unsigned request costs no body I/O
    if not check_url_signature(settings.wechat_token, q.get("signature"), timestamp, nonce):
        return _plain("forbidden", status=403)
    if not timestamp.isdigit() or len(timestamp) > 12:
        return _plain("forbidden", status=403)
    if abs(time.time() - int(timestamp)) > settings.wechat_timestamp_window_s:
        return _plain("stale timestamp", status=403)
    body = await _read_body(request, settings.wechat_max_body_bytes)
    if body is None:
        return _plain("payload too large", status=413)

    channel = _channel(request)
    mode = settings.wechat_message_mode
    encrypted = q.get("encrypt_type", "raw").lower() == "aes"
    try:
        fields = m.parse_xml_fields(body)
        if encrypted:
            if mode == "plaintext":
                return _plain("encryption not enabled", status=400)
            encrypt = fields.get("Encrypt", "")
            if not encrypt:
                return _plain("Encrypt missing", status=400)
            inner = channel.crypto.decrypt_signed(encrypt, q.get("msg_signature"), timestamp, nonce)
            msg = m.parse_message(inner)
        else:
            if mode == "safe":
                return _plain("plaintext refused in safe mode", status=400)
            msg = m.message_from_fields(fields)
    except WeChatCryptoError as exc:
        logger.warning("WeChat crypto check failed: %s", exc)
        status = 403 if exc.code in (-40001, -40005) else 400
        return _plain("forbidden" if status == 403 else "bad request", status=status)
    except m.MessageParseError as exc:
        logger.warning("unparseable WeChat body: %s", exc)
        return _plain("bad request", status=400)

    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("WeChat %s from %s: %s", msg.msg_type, log_id(msg.from_user, settings.console_secret),
                     mask_phones(getattr(msg, "content", "") or getattr(msg, "recognition", "")))
    try:
        if not await channel.nonces.admit(timestamp, nonce, q.get("signature", ""), msg):
            logger.warning("refused a signed query string reused for another WeChat message")
            return _plain("replayed request", status=403)
        parts = await channel.handle(msg)
    except RedisError as exc:
        # No de-duplication, rate limit or conversation without Redis: say so now rather than
        # "success", which WeChat turns into 该公众号暂时无法提供服务 after three retries.
        logger.error("Redis unavailable, %s answered with the service notice: %s", msg.msg_type, exc)
        parts = [TEXT_SERVICE_UNAVAILABLE] if isinstance(msg, _ANSWERED) else []
    if not parts:
        return _plain(SUCCESS)
    reply = m.reply_to(msg, parts[0])
    if not encrypted:
        return _xml(reply)
    reply_ts, reply_nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    encrypt, signature = channel.crypto.encrypt_signed(reply, reply_ts, reply_nonce)
    return _xml(m.render_encrypted_envelope(encrypt, signature, reply_ts, reply_nonce))


async def _channel_ctx(app: web.Application):
    yield
    channel = app.get(WECHAT_CHANNEL)
    if channel is not None:
        await channel.drain(timeout=5.0)  # type: ignore[attr-defined]
        for task in list(channel.tasks):  # type: ignore[attr-defined]
            task.cancel()


def setup_wechat_routes(app: web.Application, path: str = "/wechat") -> None:
    """GET (URL verification) and POST (messages) on `path`."""
    app.router.add_get(path, verify_url)
    app.router.add_post(path, receive)
    app.cleanup_ctx.append(_channel_ctx)


def get_channel(app: web.Application) -> WeChatChannel:
    """The app's channel (created on first use), e.g. for tests to drain background pushes.

    Created lazily because Redis and the HTTP session exist only once the app has started."""
    channel = app.get(WECHAT_CHANNEL)
    if channel is None:
        channel = WeChatChannel(app)
        app[WECHAT_CHANNEL] = channel
    return channel  # type: ignore[return-value]
