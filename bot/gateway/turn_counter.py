"""Counts conversations and users served for the monthly figures, on the conversation path.

It sits in front of the other interceptors and never answers (returns None): it runs before
Rasa so that the conversation's city is in its marker when the tracker store counts the message's
need (bot/services/conversation_marks.py), from the first message on; as an observer it would run
after Rasa and the first message of each conversation would count in no city. Turns a counsellor
answers (the handoff interceptor) are counted too: they are the service's conversations as well.
"""
from __future__ import annotations

import logging
from typing import List, Optional

from bot.gateway.conversation import UserTurn
from bot.services.conversation_marks import ConversationCounter

logger = logging.getLogger(__name__)


class TurnCounter:
    def __init__(self, counter: ConversationCounter) -> None:
        self._counter = counter

    async def intercept(self, turn: UserTurn) -> Optional[List[str]]:
        try:
            await self._counter.message(turn.openid)
        except Exception:  # a figure must never cost the user their answer
            logger.exception("could not count a turn for the monthly figures")
        return None
