"""Which city's counsellors a handoff goes to (each city's hours and callback promise are in
config.py: `CityDesk`, `HandoffConfig.for_city`).

* `find_user_place`: the user's city (and county) for a new item, from, in this order, the
  profile, the last shared location, a city or county named in the request or the conversation
  before it, and the subscribe scene of the QR code the user followed; none -> the provincial pool.
  Each source is asked of the service that owns it (profiles, location).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping, Optional, Sequence

from bot.services import geo
from bot.services.location import LocationStore
from bot.services.profiles import ProfileStore

PROVINCE_POOL = "province"
CITY_POOL = "city"


@dataclass(frozen=True)
class UserPlace:
    city: str = ""
    district: str = ""
    source: str = ""  # profile | location | chat | scene | "" (unknown: the provincial pool)


Texts = Callable[[], Awaitable[Sequence[Mapping[str, Any]]]]


def place_in_text(text: str) -> Optional[UserPlace]:
    match = geo.match_place(text)
    if match is None or not match.city:
        return None
    return UserPlace(match.city, match.district or "")


async def find_user_place(
    redis: Any, settings: Any, openid: str, text: str = "", history: Optional[Texts] = None,
) -> UserPlace:
    """Where the user is, as well as we know (see the module's docstring for the order)."""
    profile = await ProfileStore(redis, settings).get(openid)
    city = geo.normalize_city(profile.get("city", ""))
    if city:
        return UserPlace(city, geo.normalize_district(city, profile.get("district", "")) or "", "profile")
    located = await LocationStore(redis, settings).recall(openid)
    try:
        nearest = geo.nearest_city(float(located["latitude"]), float(located["longitude"])) if located else None
    except (KeyError, TypeError, ValueError):
        nearest = None
    if nearest:
        return UserPlace(nearest, "", "location")
    named = await _named_in_chat(text, history)
    if named:
        return UserPlace(named.city, named.district, "chat")
    scene = place_in_text(profile.get("qr_scene", ""))
    return UserPlace(scene.city, scene.district, "scene") if scene else UserPlace()


async def _named_in_chat(text: str, history: Optional[Texts]) -> Optional[UserPlace]:
    """A place in the request itself, else the newest user message before it that names one."""
    found = place_in_text(text)
    if found or history is None:
        return found
    try:
        turns = await history()
    except Exception:  # the request must be kept even without its context
        return None
    for turn in reversed(list(turns)):
        if turn.get("kind", "user") == "user":
            found = place_in_text(str(turn.get("text", "")))
            if found:
                return found
    return None
