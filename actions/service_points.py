"""Finding career-guidance service points in the chat (intent `find_service_point`, paging on `more`).

Thin: read entities, slots and the remembered WeChat location, call
`bot.services.points`. Where to search, in order:
1. latitude/longitude entities of this turn (a WeChat location message,
   `/find_service_point{"latitude": 36.66, "longitude": 117.07}`) -> nearest points;
2. a place named this turn ("济南历下区", "我在青岛黄岛", 莱芜) -> the points of that place;
3. the location the WeChat channel remembered (`bot.services.location.LocationStore`),
   if not older than LOCATION_MAX_AGE;
4. latitude/longitude slots, then the city slot from earlier turns (a city named before, or the
   city of the user's school: bot/rasa_server/fact_components.py); a district from an earlier question is
   not carried over to a search that names no place (`earlier_city`; issue #21);
5. nothing -> ask for a place or a location and say how to send one in WeChat.
A type ("附近的零工市场") filters any of these. The paging cursor lives in the `points_page`
slot; `action_more_service_points` only pages when the last listing was ours.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import AbstractSet, Any, Dict, FrozenSet, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.form_pause import continue_interrupted
from actions.flow_start import other_ways_again
from actions.timed import TimedSearchAction, within_timeout
from bot.clock import SHANGHAI, system_clock
from bot.services.geo import match_place
from bot.services.location import LocationStore
from bot.services.points.model import PointType, parse_point_types
from bot.services.points.query import PointQuery
from bot.services.points.replies import PAGE_SIZE, render_page
from bot.services.points.store import ServicePointStore
from bot.services.reply_size import PASSIVE_REPLY_MAX_BYTES, byte_len

try:  # the shared place normaliser (bot/language/places.py); our own matcher otherwise
    from bot.language.places import normalize_place as _shared_normalize_place
except ImportError:  # pragma: no cover - depends on the checkout
    _shared_normalize_place = None

# The actions' clock; tests replace it with a FrozenClock.
CLOCK = system_clock
LOCATION_MAX_AGE = timedelta(days=7)

PAGE_SLOT = "points_page"
TYPE_SLOT = "point_type"
CITY_SLOT, DISTRICT_SLOT = "city", "district"
FIND_ACTION = "action_find_service_point"
MORE_ACTION = "action_more_service_points"
_OUR_ACTIONS = {FIND_ACTION, MORE_ACTION}
# Actions that run between turns without being "the last thing the bot said".
_IGNORED_ACTIONS = {"action_listen", "action_extract_slots", "action_session_start", "action_unlikely_intent"}


def store() -> ServicePointStore:
    return ServicePointStore(runtime.redis(), runtime.settings(), clock=lambda: CLOCK())


# --------------------------------------------------------------------------------------
# Reading the turn
# --------------------------------------------------------------------------------------


def _float(value: Any) -> Optional[float]:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


def _valid_coords(lat: Optional[float], lon: Optional[float]) -> Optional[Tuple[float, float]]:
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None
    return lat, lon


def _entities(tracker: Tracker, name: str) -> List[Any]:
    return [
        e.get("value")
        for e in (tracker.latest_message or {}).get("entities", []) or []
        if e.get("entity") == name and e.get("value") not in (None, "")
    ]


def coords_from_entities(tracker: Tracker) -> Optional[Tuple[float, float]]:
    lats, lons = _entities(tracker, "latitude"), _entities(tracker, "longitude")
    if not lats or not lons:
        return None
    return _valid_coords(_float(lats[-1]), _float(lons[-1]))


def label_from_entities(tracker: Tracker) -> str:
    """The place name WeChat sent with the location (its `Label`), clipped for the reply."""
    labels = [str(v).strip() for v in _entities(tracker, "location_label") if str(v).strip()]
    return labels[-1][:30] if labels else ""


def normalize_place(text: str, city_hint: Optional[str] = None) -> Tuple[Optional[str], Optional[str], bool]:
    """(city, district, ambiguous) for a place mention; ambiguous = district without a city."""
    if not text:
        return None, None, False
    if _shared_normalize_place is not None:
        city, district = _shared_normalize_place(text, city_hint=city_hint)
        # Cross-check with our table: the import validated districts against it.
        if city or district:
            return city, district, bool(district and not city)
    match = match_place(f"{city_hint or ''}{text}")
    if match is None:
        return None, None, False
    return match.city, match.district, bool(match.ambiguous_district)


def place_from_turn(tracker: Tracker) -> Tuple[Optional[str], Optional[str], bool]:
    mentioned = [str(v) for v in _entities(tracker, "city") + _entities(tracker, "district")]
    if mentioned:
        city, district, ambiguous = normalize_place("".join(mentioned))
        if city or ambiguous:
            return city, district, ambiguous
    return normalize_place((tracker.latest_message or {}).get("text") or "")


def earlier_city(tracker: Tracker) -> Optional[str]:
    """The city named earlier in the conversation; never the district of an earlier question
    ("历下区有招聘会吗", then "附近的服务点" days later is not about 历下区)."""
    city, _district, _ambiguous = normalize_place(str(tracker.get_slot(CITY_SLOT) or ""))
    return city


def types_from_turn(tracker: Tracker) -> FrozenSet[PointType]:
    for value in reversed(_entities(tracker, "point_type")):
        types = parse_point_types(str(value))
        if types:
            return types
    slot = tracker.get_slot(TYPE_SLOT)
    if slot:
        types = parse_point_types(str(slot))
        if types:
            return types
    return parse_point_types((tracker.latest_message or {}).get("text") or "")


def _parse_at(value: Any) -> Optional[datetime]:
    if value in (None, ""):
        return None
    number = _float(value)
    if number is not None:
        return datetime.fromtimestamp(number, SHANGHAI)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


async def remembered_location(openid: str) -> Optional[Tuple[float, float, str]]:
    """(lat, lon, label) the WeChat channel stored for this user, if recent enough."""
    data = await LocationStore(runtime.redis(), runtime.settings()).recall(openid)
    if data is None:
        return None
    coords = _valid_coords(_float(data.get("latitude")), _float(data.get("longitude")))
    if coords is None:
        return None
    at = _parse_at(data.get("at"))
    if at is not None and CLOCK() - at > LOCATION_MAX_AGE:
        return None
    return coords[0], coords[1], str(data.get("label") or "")


# --------------------------------------------------------------------------------------
# Answering
# --------------------------------------------------------------------------------------


async def answer(
    dispatcher: CollectingDispatcher, query: PointQuery, offset: int, intro: str = ""
) -> List[EventType]:
    """Search, reply with one page that fits WeChat, and remember the cursor for "更多"."""
    page = await store().search(query, offset=offset, limit=PAGE_SIZE)
    budget = PASSIVE_REPLY_MAX_BYTES - byte_len(intro)
    text, shown = render_page(page, max_bytes=budget, original=query)
    dispatcher.utter_message(text=intro + text)
    next_offset = offset + shown
    cursor = None
    if shown and next_offset < page.total:
        cursor = json.dumps({"q": page.query.to_json(), "o": next_offset}, ensure_ascii=False)
    return [SlotSet(PAGE_SLOT, cursor)]


class ActionFindServicePoint(TimedSearchAction):
    UNAVAILABLE_RESPONSE = "utter_points_unavailable"
    OWN_WORDS = re.compile(r"服务点|服务站|驿站|市场|中心|人社|社保|附近|哪里|哪儿|在哪|地址|位置|怎么走|办事|窗口|机构")

    def name(self) -> Text:
        return FIND_ACTION

    async def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        types = types_from_turn(tracker)
        done = [SlotSet(TYPE_SLOT, None), SlotSet(DISTRICT_SLOT, None)]  # both apply to this search only

        coords = coords_from_entities(tracker)
        if coords:
            # The location came in this very message: not "上次".
            label = label_from_entities(tracker)
            intro = f"按您发送的位置{f'（{label}）' if label else ''}查找：\n"
            query = PointQuery(latitude=coords[0], longitude=coords[1], types=types)
            return await answer(dispatcher, query, 0, intro) + done

        city, district, ambiguous = place_from_turn(tracker)
        if ambiguous and not city:
            dispatcher.utter_message(response="utter_points_ask_city", district=district or "市中区")
            return self._keep_type(types)
        if city:
            query = PointQuery(city=city, district=district, types=types)
            return await answer(dispatcher, query, 0) + done

        remembered = await remembered_location(tracker.sender_id)
        if remembered:
            lat, lon, label = remembered
            intro = f"按您上次发送的位置{f'（{label}）' if label else ''}查找：\n"
            query = PointQuery(latitude=lat, longitude=lon, types=types)
            return await answer(dispatcher, query, 0, intro) + done

        slot_coords = _valid_coords(
            _float(tracker.get_slot("latitude")), _float(tracker.get_slot("longitude"))
        )
        if slot_coords:
            query = PointQuery(latitude=slot_coords[0], longitude=slot_coords[1], types=types)
            return await answer(dispatcher, query, 0, "按您之前发送的位置查找：\n") + done

        city = earlier_city(tracker)
        if city:
            return await answer(dispatcher, PointQuery(city=city, types=types), 0) + done

        dispatcher.utter_message(response="utter_points_ask_location")
        return self._keep_type(types)

    @staticmethod
    def _keep_type(types: FrozenSet[PointType]) -> List[EventType]:
        """Asked for a place: remember the type so the next turn's answer still filters by it."""
        label = "、".join(sorted(t.label for t in types)) if types else None
        if types and len(types) > 1:
            label = "职业指导工作室"
        return [SlotSet(TYPE_SLOT, label), SlotSet(PAGE_SLOT, None)]


def last_action_in(tracker: Tracker, names: AbstractSet[str]) -> bool:
    """Whether the bot's last action before the user's latest message is one of `names`."""
    events = list(tracker.events or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in reversed(events[:last_user]):
        if event.get("event") == "action" and event.get("name") not in _IGNORED_ACTIONS:
            return event.get("name") in names
    return False


def last_listing_was_ours(tracker: Tracker) -> bool:
    """Whether the bot's last action before the user's latest message was a point listing."""
    return last_action_in(tracker, _OUR_ACTIONS)


class ActionMoreServicePoints(Action):
    def name(self) -> Text:
        return MORE_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        cursor = tracker.get_slot(PAGE_SLOT)
        if not cursor or not last_listing_was_ours(tracker):
            back = continue_interrupted(tracker)  # "继续" meant the assessment, not a list
            if back is not None:
                return back
            ways = other_ways_again(tracker)  # "那还有啥别的办法" after a reply that listed them
            if ways:
                dispatcher.utter_message(text=ways)
                return [SlotSet(PAGE_SLOT, None)]
            dispatcher.utter_message(response="utter_points_no_more")
            return [SlotSet(PAGE_SLOT, None)]
        try:
            data = json.loads(cursor)
            query, offset = PointQuery.from_json(data["q"]), int(data["o"])
        except (ValueError, KeyError, TypeError):
            dispatcher.utter_message(response="utter_points_no_more")
            return [SlotSet(PAGE_SLOT, None)]
        return await within_timeout(dispatcher, answer(dispatcher, query, offset), "utter_points_unavailable")
