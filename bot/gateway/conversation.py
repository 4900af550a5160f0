"""The one path from a user's message to the bot's answer.

WeChat and the simulator both build a `UserTurn` and call `ConversationService.handle`.
Interceptors run first (e.g. the human handoff keeps the bot silent while a counsellor holds
the conversation); then Rasa answers; observers see every finished turn (metrics, transcripts).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol

from bot.gateway.rasa_client import RasaClient, RasaUnavailable

logger = logging.getLogger(__name__)

BOT_UNAVAILABLE_TEXT = "系统有点忙，请稍后再发一次消息；着急的话可以说“转人工”。"

# Rasa reads a message that starts with "/" as an intent trigger ('/cancel_booking{"id": 1}'),
# skipping NLU. The gateway builds triggers itself (menu clicks, locations); ChineseNormalizer
# would turn a full-width "／" into "/" before Rasa's trigger handler runs.
_TRIGGER_PREFIX = re.compile(r"^[\s/／]+")


def typed_text(raw: str) -> str:
    """What a user typed, made safe to send to Rasa: never an intent trigger.

    A leading slash means nothing in a chat message, so it is dropped rather than refused:
    "/转人工" is read as "转人工", and "/restart" cannot reset someone's conversation.
    """
    return _TRIGGER_PREFIX.sub("", raw).strip()


@dataclass(frozen=True)
class UserTurn:
    """One message from a user, already reduced to what Rasa reads."""

    openid: str
    text: str  # typed_text(...), or a trigger the gateway built, such as '/find_service_point{"latitude": 36.6}'
    channel: str = "wechat"
    metadata: Dict[str, Any] = field(default_factory=dict)


class TurnInterceptor(Protocol):
    async def intercept(self, turn: UserTurn) -> Optional[List[str]]:
        """Answer the turn instead of Rasa (a list, possibly empty = stay silent) or pass (None)."""
        ...


class TurnObserver(Protocol):
    async def observe(self, turn: UserTurn, replies: List[str], handled_by: str) -> None:
        """Called after every turn; `handled_by` is "rasa", "interceptor" or "error"."""
        ...


class ConversationService:
    def __init__(self, rasa: RasaClient) -> None:
        self._rasa = rasa
        self._interceptors: List[TurnInterceptor] = []
        self._observers: List[TurnObserver] = []

    def add_interceptor(self, interceptor: TurnInterceptor) -> None:
        self._interceptors.append(interceptor)

    def add_observer(self, observer: TurnObserver) -> None:
        self._observers.append(observer)

    async def handle(self, turn: UserTurn) -> List[str]:
        for interceptor in self._interceptors:
            replies = await interceptor.intercept(turn)
            if replies is not None:
                await self._notify(turn, replies, "interceptor")
                return replies
        try:
            messages = await self._rasa.send_message(turn.openid, turn.text, turn.metadata)
        except RasaUnavailable:
            logger.exception("Rasa unavailable for a %s turn", turn.channel)
            replies = [BOT_UNAVAILABLE_TEXT]
            await self._notify(turn, replies, "error")
            return replies
        replies = [m["text"] for m in messages if isinstance(m, dict) and m.get("text")]
        if not replies:
            # Rasa answers nothing when a custom action failed (e.g. its Redis write cut by a
            # failover): the user must not be left in silence, so they hear to send it again.
            logger.warning("Rasa gave no text for a %s turn", turn.channel)
            replies = [BOT_UNAVAILABLE_TEXT]
            await self._notify(turn, replies, "error")
            return replies
        await self._notify(turn, replies, "rasa")
        return replies

    async def _notify(self, turn: UserTurn, replies: List[str], handled_by: str) -> None:
        for observer in self._observers:
            try:
                await observer.observe(turn, replies, handled_by)
            except Exception:  # an observer must never break a user's turn
                logger.exception("turn observer %r failed", observer)
