"""Human handoff actions: thin wrappers around `bot.services.handoff.gate.request_handoff`.

* `action_request_human` — the `request_human` intent (a complaint in the same message raises
  the priority);
(Messages NLU could not place go to `action_knowledge_answer`, actions/knowledge.py, which calls
`hand_to_human` on the second miss in a row.)

Other actions that decide a human is needed call `hand_to_human(tracker, dispatcher, reason)`.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from bot.clock import system_clock
from bot.services.handoff.callbacks import turns_from_events
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.gate import request_handoff
from bot.services.handoff.model import PRIORITY_NORMAL
from bot.services.handoff.service import HandoffService

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_S = 3.0
CLOCK = system_clock  # tests replace it with a FrozenClock
BUSY_TEXT = "人工服务暂时无法接通，请稍后再说“转人工”，或拨打 12333 人社服务热线。"


def _service() -> HandoffService:
    return HandoffService(runtime.redis(), runtime.settings(), CLOCK, HandoffConfig.from_settings(runtime.settings()))


async def _conversation_so_far(tracker: Tracker) -> List[Dict[str, Any]]:
    """Kept with a request left while nobody is available (the message being handled is its
    first message, so it is left out here)."""
    return turns_from_events(tracker.events, drop_latest_user=True)


async def hand_to_human(
    tracker: Tracker,
    dispatcher: CollectingDispatcher,
    reason: str = "action",
    priority: int = PRIORITY_NORMAL,
) -> None:
    """Queue this conversation for a counsellor and tell the user where they stand."""
    text = tracker.latest_message.get("text") or ""
    try:
        reply = await asyncio.wait_for(
            request_handoff(
                _service(), tracker.sender_id, reason=reason, priority=priority, first_message=text,
                history=lambda: _conversation_so_far(tracker),
            ),
            REDIS_TIMEOUT_S,
        )
    except Exception:  # Redis down: the user must still get an answer
        logger.exception("handoff request failed")
        reply = BUSY_TEXT
    dispatcher.utter_message(text=reply)


async def callback_phone(openid: str) -> Optional[str]:
    """The number the user left for a counsellor's callback ("转人工 俺电话139…", kept by the gateway,
    which Rasa never sees), for a form that asks for one; None when there is none or Redis is down."""
    try:
        return await asyncio.wait_for(_service().callback_phone(openid), REDIS_TIMEOUT_S) or None
    except Exception:  # a form must go on without it: it asks
        logger.exception("could not read the callback number")
        return None


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        await hand_to_human(tracker, dispatcher, reason="request_human")
        return []
