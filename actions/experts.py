"""The expert pool in the chat (intent `find_expert`; issue #25 item 3).

Thin: the place and words of the request go to `bot.services.experts.search`; the experts listed are
kept in `expert_offered`, so that "约第1个" / "预约王老师" / "2" next (`action_book_expert`) opens the
booking form (actions/booking/) on that expert's consultations (`booking_expert`, see
bot/services/experts/__init__.py for why they are workshop slots). Where the user is: a place named
in the message, the `city` slot, then `find_user_place` (profile, shared location, subscribe scene).
"""
from __future__ import annotations

import asyncio
import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from redis.exceptions import RedisError

from actions import runtime
from actions.booking import common
from actions.booking.common import booking_service, reset_form
from actions.timed import SEARCH_TIMEOUT_S
from bot.services import geo
from bot.services.experts.model import Expert, specialties_in
from bot.services.experts.replies import pick
from bot.services.experts.search import next_free, search
from bot.services.experts.store import ExpertStore
from bot.services.handoff.routing import find_user_place
from bot.services.workshops import normalise_topic

OFFERED_SLOT = "expert_offered"
UNAVAILABLE = "专家库暂时查询不了，请稍后再试，或说“预约指导”约职业指导师。"
EARLIER_TURNS = 4  # "青岛的呢" after a list: the specialties of the request a few messages back
_NUMBER_RE = re.compile(r"(?:第|^)\s*(\d{1,2}|[一二两三四五六七八九十])\s*(?:个|位|号)?")
_CN = {c: i for i, c in enumerate("一二三四五六七八九十", 1)}
_CN["两"] = 2


def expert_store() -> ExpertStore:
    return ExpertStore(runtime.redis(), runtime.settings(), clock=lambda: common.CLOCK())


# a try at choosing from the expert list ("约第9个", "2号", "李专家") rather than a plain booking
_CHOICE_OR_EXPERT_RE = re.compile(r"专家|老师|\d|第[一二三四五六七八九十]|[一二三四五六七八九十][个号位]")


def _text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def _request_text(tracker: Tracker) -> str:
    """This message, or when it names no specialty the latest earlier one that did."""
    text = _text(tracker)
    if specialties_in(text):
        return text
    users = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"][-EARLIER_TURNS - 1:-1]
    earlier = next((t for t in reversed(users) if specialties_in(t)), "")
    return f"{earlier} {text}" if earlier else text


async def user_place(tracker: Tracker) -> Tuple[str, str]:
    """(city, county) where the user is, as well as we know; ("", "") when unknown."""
    said = geo.match_place(_text(tracker))
    if said and said.city:
        return said.city, said.district or ""
    slot_city = geo.normalize_city(str(tracker.get_slot("city") or ""))
    if slot_city:
        return slot_city, geo.normalize_district(slot_city, str(tracker.get_slot("district") or "")) or ""
    place = await find_user_place(runtime.redis(), runtime.settings(), tracker.sender_id)
    return place.city, place.district


class ActionFindExpert(Action):
    def name(self) -> Text:
        return "action_find_expert"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            return await asyncio.wait_for(self._answer(dispatcher, tracker), SEARCH_TIMEOUT_S)
        except (asyncio.TimeoutError, RedisError, OSError):
            dispatcher.utter_message(text=UNAVAILABLE)
            return []

    async def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        city, county = await user_place(tracker)
        answer = await search(expert_store(), booking_service(), _request_text(tracker), city, county)
        dispatcher.utter_message(text=answer.text)
        return [SlotSet(OFFERED_SLOT, [e.id for e in answer.shown] or None)]


def chosen_number(tracker: Tracker) -> Optional[int]:
    """"约第1个", "第二个", "2": the number of the list entry (None when the message names none)."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "number" and str(entity.get("value", "")).isdigit():
            return int(entity["value"])
    match = _NUMBER_RE.search(_text(tracker).strip())
    if not match:
        return None
    value = match.group(1)
    return int(value) if value.isdigit() else _CN[value]


class ActionBookExpert(Action):
    """Chooses an expert from the list and prefills the booking form; the form follows (rules)."""

    def name(self) -> Text:
        return "action_book_expert"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[Dict[Text, Any]] = reset_form() + [SlotSet("booking_topic", "一对一咨询")]
        try:
            expert = await self._chosen(tracker)
            free = await next_free(booking_service(), expert) if expert else None
        except (RedisError, OSError):
            expert, free = None, None
        topic = normalise_topic(_text(tracker))
        if expert is None and topic and topic != "一对一咨询":
            return reset_form() + [SlotSet("booking_topic", topic)]  # "约个简历指导": a workshop after all
        if expert is None and not _CHOICE_OR_EXPERT_RE.search(_text(tracker)):
            return reset_form()  # "预约指导课" after the expert list: a booking, its topic asked
        if expert is None:
            dispatcher.utter_message(text="没找到您说的是哪位专家（可以回复列表里的序号），先为您预约职业指导师一对一咨询。")
        elif free is None:
            dispatcher.utter_message(text=f"{expert.name}近期的咨询时段都已约满，先为您预约职业指导师一对一咨询。")
        else:
            dispatcher.utter_message(text=f"好的，预约{expert.name}（{expert.place}）的一对一咨询，每次1人。")
            events += [SlotSet("booking_expert", expert.workshop_id), SlotSet("booking_when", "最近")]
        return events

    async def _chosen(self, tracker: Tracker) -> Optional[Expert]:
        ids = list(tracker.get_slot(OFFERED_SLOT) or [])
        store = expert_store()
        shown = [e for e in [await store.get(i) for i in ids] if e]
        return pick(shown, _text(tracker), chosen_number(tracker))
