"""What a WeChat message or event means for the conversation (policy; the HTTP side is
`bot.gateway.wechat.handler`, the de-duplicated, time-boxed delivery `bot.gateway.wechat.delivery`).

A text, a recognised voice message, a location, a menu click or a (scan-)subscribe becomes one
`UserTurn` for Rasa (rate limited per OpenID); media, empty text and unrecognised voice get a
fixed answer; a location event is remembered silently; view and unknown events get no answer.

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

import json
import logging
import time
from typing import Any, Dict, List

from aiohttp import web

from bot.gateway.appkeys import CONVERSATION, REDIS, SERVICES, SETTINGS
from bot.clock import Clock, system_clock
from bot.gateway.conversation import UserTurn, typed_text
from bot.log_ids import log_id
from bot.services.camp import load_catalogue as load_camp_catalogue
from bot.services.location import LocationStore
from bot.services.profiles import ProfileStore
from bot.services.reply_size import split_utf8
from bot.services.unfollow import leave_services
from bot.settings import Settings
from bot.gateway.wechat import messages as m
from bot.gateway.wechat.menu import click_intents

logger = logging.getLogger(__name__)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("wechat:rate",)

TEXT_MEDIA_UNSUPPORTED = (
    "我目前能看懂文字和位置，图片、视频、文件和链接还看不懂。"
    "请直接打字告诉我您想了解什么，比如“附近的服务点”“预约指导课”。"
)
TEXT_VOICE_UNRECOGNISED = "抱歉，这条语音我没听清。请直接打字告诉我，比如“我想找工作”。"
TEXT_EMPTY = "请直接打字告诉我您想了解什么，比如“附近的服务点”。"
TEXT_RATE_LIMITED = "您发消息有点快，我跟不上啦。请稍等一分钟再发，我会继续为您服务。"
TEXT_SERVICE_UNAVAILABLE = "系统正在维护，暂时无法处理您的消息，请稍后再发一次。紧急问题可拨打 12333 人社服务热线。"
# What a user sees an answer to (WeChat shows a passive reply to these, not to the other events).
ANSWERED = (m.TextMessage, m.VoiceMessage, m.LocationMessage, m.MediaMessage, m.ClickEvent,
            m.SubscribeEvent, m.ScanEvent)


class WeChatChannel:
    """Turns one WeChat message into reply parts, in one gateway process."""

    def __init__(self, app: web.Application, clock: Clock = system_clock) -> None:
        self.app = app
        self.settings: Settings = app[SETTINGS]
        self.redis = app[REDIS]
        self.clock = clock
        self.window = app[SERVICES].window
        self.profiles = ProfileStore(self.redis, self.settings)
        self.locations = LocationStore(self.redis, self.settings, clock)
        self.click_intents = click_intents()

    def _log_id(self, openid: str) -> str:
        return log_id(openid, self.settings.console_secret)

    async def _converse(self, openid: str, text: str, metadata: Dict[str, Any]) -> List[str]:
        turn = UserTurn(openid=openid, text=text, channel="wechat", metadata=metadata)
        replies = await self.app[CONVERSATION].handle(turn)
        joined = "\n\n".join(r.strip() for r in replies if r and r.strip())
        return split_utf8(joined) if joined else []

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
        return await self._converse_about(msg, meta)

    async def _converse_about(self, msg: m.Message, meta: Dict[str, Any]) -> List[str]:
        """The Rasa turn for a message that reaches the conversation."""
        openid = msg.from_user
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
