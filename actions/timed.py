"""The base of the actions that search Redis: the search must finish within SEARCH_TIMEOUT_S (WeChat
allows 5 s for the whole turn), and a timeout or Redis trouble gets the area's "unavailable" reply
instead of an error. Used by the job-fair, job and service-point searches."""
from __future__ import annotations

import asyncio
from abc import ABCMeta, abstractmethod
from typing import Any, Awaitable, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from redis.exceptions import RedisError

EventList = List[Dict[Text, Any]]
SEARCH_TIMEOUT_S = 3.0


async def within_timeout(dispatcher: CollectingDispatcher, work: Awaitable[EventList], unavailable: str) -> EventList:
    """`work`'s events, or the `unavailable` response when it is too slow or Redis fails."""
    try:
        return await asyncio.wait_for(work, SEARCH_TIMEOUT_S)
    except (asyncio.TimeoutError, RedisError, OSError):
        dispatcher.utter_message(response=unavailable)
        return []


class TimedSearchAction(Action, metaclass=ABCMeta):
    """Abstract, so that rasa-sdk's executor does not register it as an action of its own."""

    UNAVAILABLE_RESPONSE: str  # the domain response for a search that could not finish

    @abstractmethod
    def name(self) -> Text:
        """The action's name in domain.yml."""

    @abstractmethod
    async def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> EventList:
        """The action's work, within the timeout."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        return await within_timeout(dispatcher, self._run(dispatcher, tracker), self.UNAVAILABLE_RESPONSE)
