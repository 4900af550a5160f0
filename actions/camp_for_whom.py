"""An enrolment made for someone else ("给俺儿报一个", "帮俺弟报个实训营"): whose facts go where.

A parent who says "俺儿子今年20了 高中毕业在家待着" and then "给他报个实训营" has told the son's
facts, not their own. The NLU gives no fact entities for someone else's words
(bot/services/profile_facts.py `speaks_of_self`), so the form would ask them again; and the user's
profile (what later conversations prefill from) must not take the son's name, age or school. A
counsellor writes the son's facts on the son's form and leaves the parent's own record alone:

- `enrols_someone_else`: the enrolment run (the message that started it and those since) signs up
  someone else;
- `facts_said_for_them`: the facts the conversation's messages about someone else gave, as the
  form's slots (the latest said wins);
- `save_own_profile`: the profile is written only for an enrolment of the user's own.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Dict, List, Mapping

from rasa_sdk import Tracker

from actions import runtime
from actions.flow_start import ENROL_START
from bot.services.eligibility import load_rules
from bot.services.eligibility_facts import parse_facts
from bot.services.profile_facts import speaks_of_self
from bot.services.profiles import ProfileStore
from bot.services.request_words import for_someone_else
from bot.services.schools import find_school

# how far back the facts about someone else are read (the conversation's recent messages)
RECENT_MESSAGES = 8


def _user_texts(events: List[Mapping[str, Any]]) -> List[str]:
    return [str(e.get("text") or "") for e in events if e.get("event") == "user"]


def run_texts(tracker: Tracker, starting: bool = False) -> List[str]:
    """The user's messages of this enrolment run: the one that started it and those since (only the
    latest while the enrolment is `starting`)."""
    events = list(tracker.events or [])
    if starting:
        return [str((tracker.latest_message or {}).get("text") or "")]
    start = max((i for i, e in enumerate(events) if e.get("event") == "action" and e.get("name") == ENROL_START), default=-1)
    if start < 0:
        return [str((tracker.latest_message or {}).get("text") or "")]
    began = max((i for i, e in enumerate(events[:start]) if e.get("event") == "user"), default=start)
    return _user_texts(events[began:]) + [str((tracker.latest_message or {}).get("text") or "")]


def enrols_someone_else(tracker: Tracker, starting: bool = False) -> bool:
    return any(for_someone_else(text) for text in run_texts(tracker, starting))


def facts_said_for_them(tracker: Tracker, day: date) -> Dict[str, str]:
    """The form's slots the recent messages about someone else fill ("他今年22了" -> camp_age,
    "俺闺女在青岛科技大学上大四" -> camp_school, camp_grad_year)."""
    texts = _user_texts(list(tracker.events or []))[-RECENT_MESSAGES:]
    texts.append(str((tracker.latest_message or {}).get("text") or ""))
    found: Dict[str, str] = {}
    for text in texts:
        if speaks_of_self(text) and not for_someone_else(text):
            continue
        facts = parse_facts(text, day, load_rules())
        values = {"camp_age": facts.age, "camp_grad_year": facts.graduation_year,
                  "camp_identity": None if facts.identity_inferred else facts.identity}
        found.update({slot: str(value) for slot, value in values.items() if value is not None})
        school = find_school(text)
        if school is not None:
            found["camp_school"] = school.school.name
    return found


async def save_own_profile(tracker: Tracker, fields: Dict[str, Any]) -> None:
    """The user's profile takes what the form holds, unless the form is someone else's."""
    if enrols_someone_else(tracker):
        return
    await ProfileStore(runtime.redis(), runtime.settings()).update(tracker.sender_id, fields)
