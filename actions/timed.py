"""The base of the actions that search Redis: the search must finish within SEARCH_TIMEOUT_S (WeChat
allows 5 s for the whole turn), and a timeout or Redis trouble gets the area's "unavailable" reply
instead of an error. Used by the job-fair, job and service-point searches."""
from __future__ import annotations

import asyncio
from abc import ABCMeta, abstractmethod
from typing import Any, Awaitable, Dict, List, Optional, Pattern, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from redis.exceptions import RedisError

from actions.flow_start import start_named_flow

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
    # Words of this search; a message without any that names another flow ("…现在在青岛，想报实训营"
    # read as this search) starts that flow instead (actions/flow_start.py). None: never redirected.
    OWN_WORDS: Optional[Pattern[str]] = None

    @abstractmethod
    def name(self) -> Text:
        """The action's name in domain.yml."""

    @abstractmethod
    async def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> EventList:
        """The action's work, within the timeout."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> EventList:
        text = (tracker.latest_message or {}).get("text") or ""
        if self.OWN_WORDS is not None and not tracker.active_loop_name and not self.OWN_WORDS.search(text):
            started = start_named_flow(text, ((tracker.latest_message or {}).get("intent") or {}).get("name"))
            if started is not None:
                return started
        return await within_timeout(dispatcher, self._run(dispatcher, tracker), self.UNAVAILABLE_RESPONSE)
