"""Looking for work and job fairs in the chat (intents `find_job`, `find_job_fair`; `more` pages fairs).

Thin: read entities, slots and the remembered WeChat location, call `bot.services.job_fairs`,
`bot.services.points` and `bot.services.job_search`. Where a search happens, in order: a place
named this turn, a location sent this turn, the city slot (not an earlier district), the location the WeChat
channel remembered; with none, the user is asked (and the next `inform` or location answers).
A fair search without a place still answers when it asks for 线上 fairs only.
"""
from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import List, Optional, Sequence, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.courses import resolve_day
from actions.timed import TimedSearchAction
from actions.service_points import (
    coords_from_entities,
    earlier_city,
    last_action_in,
    place_from_turn,
    remembered_location,
)
from bot.clock import system_clock
from bot.services.geo import nearest_city
from bot.services.job_fairs.model import FairKind, parse_audience
from bot.services.job_fairs.query import FairQuery
from bot.services.job_fairs.replies import PAGE_SIZE, render_nothing_found, render_page
from bot.services.job_fairs.store import JobFairStore
from actions.trade_of_interest import stated_trade
from bot.services.trades import find_trade
from bot.services.job_search import (
    JOB_MARKET_TYPES,
    MAX_FAIRS,
    MAX_POINTS,
    JobSearchAnswer,
    is_graduate,
    render_job_search,
    wants_part_time,
)
from bot.services.points.model import PointType
from bot.services.points.query import PointHit, PointQuery
from bot.services.points.store import ServicePointStore

# The actions' clock; tests replace it with a FrozenClock.
CLOCK = system_clock
# WeChat allows 5 s for the whole reply; the searches themselves must take far less.

FAIRS_PAGE_SLOT = "job_fairs_page"
PENDING_SLOT = "job_fair_query"  # the filters of a fair search waiting for the user's city
POINT_TYPE_SLOT = "point_type"  # read by the service-point search when a location message follows
FIND_FAIR_ACTION = "action_find_job_fair"
MORE_FAIRS_ACTION = "action_more_job_fairs"
FIND_JOB_ACTION = "action_find_job"

ONLINE_RE = re.compile(r"线上|网上|网络|在线|直播|云招聘|视频")
ONSITE_RE = re.compile(r"线下|现场")
CAMPUS_RE = re.compile(r"校园|校招|宣讲")
DOUBLE_CHOICE_RE = re.compile(r"双选|供需见面")
LATEST_DAYS_LABEL = "近7天"  # courses' reading of "最近": a fair search keeps its 30 days instead


def fair_store() -> JobFairStore:
    return JobFairStore(runtime.redis(), runtime.settings(), clock=lambda: CLOCK())


def point_store() -> ServicePointStore:
    return ServicePointStore(runtime.redis(), runtime.settings(), clock=lambda: CLOCK())


def _text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def _time_entity(tracker: Tracker) -> Optional[str]:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "time" and entity.get("value"):
            return str(entity["value"])
    return None


def fair_filters(tracker: Tracker) -> FairQuery:
    """The filters a message names: time window, online/on-site, kind, audience (no place)."""
    text = _text(tracker)
    query = FairQuery(audience=parse_audience(text))
    if ONLINE_RE.search(text):
        query = replace(query, online=True)
    elif ONSITE_RE.search(text):
        query = replace(query, online=False)
    kinds = set()
    if CAMPUS_RE.search(text):
        kinds.add(FairKind.CAMPUS)
    if DOUBLE_CHOICE_RE.search(text):
        kinds.add(FairKind.DOUBLE_CHOICE)
    query = replace(query, kinds=frozenset(kinds))
    day = resolve_day(text, _time_entity(tracker), CLOCK())
    if day is not None and day.label != LATEST_DAYS_LABEL:
        query = replace(query, start=day.start, end=day.end, window_label=day.label)
    return query


async def place_for(tracker: Tracker) -> Tuple[Optional[str], Optional[str], Optional[Tuple[float, float]]]:
    """(city, district, coordinates) of the search, by the order in the module docstring."""
    city, district, _ambiguous = place_from_turn(tracker)
    if city:
        return city, district, None
    coords = coords_from_entities(tracker)
    if coords:
        return nearest_city(*coords), None, coords
    city = earlier_city(tracker)  # not an earlier question's district
    if city:
        return city, None, None
    remembered = await remembered_location(tracker.sender_id)
    if remembered:
        return nearest_city(remembered[0], remembered[1]), None, (remembered[0], remembered[1])
    return None, None, None


def _pending(tracker: Tracker) -> Optional[FairQuery]:
    """The filters of the fair search that asked for a city, if that was the bot's last question."""
    raw = tracker.get_slot(PENDING_SLOT)
    if not raw or not last_action_in(tracker, {FIND_FAIR_ACTION}):
        return None
    try:
        return FairQuery.from_json(raw)
    except (ValueError, KeyError, TypeError):
        return None


class ActionFindJobFair(TimedSearchAction):
    UNAVAILABLE_RESPONSE = "utter_jobs_unavailable"

    def name(self) -> Text:
        return FIND_FAIR_ACTION

    async def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        query = fair_filters(tracker)
        pending = _pending(tracker)
        if pending is not None and query == FairQuery():
            query = pending  # "济南" in answer to our question keeps the first message's filters
        city, district, _coords = await place_for(tracker)
        if city is None and query.online is not True:
            dispatcher.utter_message(response="utter_jobs_ask_city")
            return [SlotSet(PENDING_SLOT, query.to_json()), SlotSet(FAIRS_PAGE_SLOT, None)]
        query = replace(query, city=city, district=district)
        return await answer_fairs(dispatcher, query, 0) + [SlotSet(PENDING_SLOT, None)]


async def answer_fairs(dispatcher: CollectingDispatcher, query: FairQuery, offset: int) -> List[EventType]:
    """One page of fairs (or what to try instead), and the cursor for "更多"."""
    store = fair_store()
    page = await store.search(query, offset=offset, limit=PAGE_SIZE)
    if page.total == 0 and offset == 0:
        dispatcher.utter_message(text=render_nothing_found(query, await store.alternatives(query)))
        return [SlotSet(FAIRS_PAGE_SLOT, None)]
    text, shown = render_page(page)
    dispatcher.utter_message(text=text)
    next_offset = offset + shown
    cursor = None
    if shown and next_offset < page.total:
        cursor = json.dumps({"q": query.to_json(), "o": next_offset}, ensure_ascii=False)
    return [SlotSet(FAIRS_PAGE_SLOT, cursor)]


class ActionMoreJobFairs(TimedSearchAction):
    UNAVAILABLE_RESPONSE = "utter_jobs_unavailable"

    def name(self) -> Text:
        return MORE_FAIRS_ACTION

    async def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        cursor = tracker.get_slot(FAIRS_PAGE_SLOT)
        try:
            if not cursor or not last_action_in(tracker, {FIND_FAIR_ACTION, MORE_FAIRS_ACTION}):
                raise ValueError("no fair listing to page on")
            data = json.loads(cursor)
            query, offset = FairQuery.from_json(data["q"]), int(data["o"])
        except (ValueError, KeyError, TypeError):
            dispatcher.utter_message(response="utter_jobs_no_more")
            return [SlotSet(FAIRS_PAGE_SLOT, None)]
        return await answer_fairs(dispatcher, query, offset)


class ActionFindJob(TimedSearchAction):
    UNAVAILABLE_RESPONSE = "utter_jobs_unavailable"

    def name(self) -> Text:
        return FIND_JOB_ACTION

    async def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        text = _text(tracker)
        answer = JobSearchAnswer(
            # this message's trade, the one the place question followed, or the profile's (issue #21)
            trade=find_trade(text) or _remembered_trade(tracker) or stated_trade(tracker),
            part_time=wants_part_time(text),
            graduate=is_graduate(text),
        )
        city, district, coords = await place_for(tracker)
        if city is None and coords is None:
            dispatcher.utter_message(text=render_job_search(answer))
            # A location message next goes to the service-point search: let it list job markets.
            types = [PointType.GIG_MARKET] if answer.part_time else sorted(JOB_MARKET_TYPES)
            return [SlotSet(POINT_TYPE_SLOT, "、".join(t.label for t in types))]
        answer.located = True
        answer.place_label = "您" if coords and not _named_place(tracker) else (city or "") + (district or "")
        answer.points = await _job_markets(city, district, coords, answer.part_time)
        if city:
            answer.city = city
            answer.fairs = (await fair_store().search(FairQuery(city=city), limit=MAX_FAIRS)).fairs
        dispatcher.utter_message(text=render_job_search(answer))
        return []


def _named_place(tracker: Tracker) -> bool:
    return place_from_turn(tracker)[0] is not None


def _remembered_trade(tracker: Tracker) -> Optional[str]:
    """After "想找电工的活" → "济南", the trade of the message that asked for the place."""
    if not last_action_in(tracker, {FIND_JOB_ACTION}):
        return None
    for event in reversed(list(tracker.events or [])[:-1]):
        if event.get("event") == "user":
            return find_trade(event.get("text"))
    return None


async def _job_markets(
    city: Optional[str], district: Optional[str], coords: Optional[Tuple[float, float]], part_time: bool
) -> Sequence[PointHit]:
    """The nearest 零工市场 (part-time: those only, if any) and 人力资源市场."""
    kinds = [frozenset({PointType.GIG_MARKET}), JOB_MARKET_TYPES] if part_time else [JOB_MARKET_TYPES]
    for types in kinds:
        if coords:
            query = PointQuery(latitude=coords[0], longitude=coords[1], types=types)
        else:
            query = PointQuery(city=city, district=district, types=types)
        page = await point_store().search(query, limit=MAX_POINTS)
        if page.hits:
            return page.hits
    return []
