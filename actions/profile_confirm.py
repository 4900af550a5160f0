"""Facts the user already gave, shown back once instead of asked again: the one confirmation step
for any form whose questions the profile facts answer (bot/rasa_server/fact_components.py fills their slots
from any message, the profile fills the rest when the form starts).

A form that uses it:
1. lists `<confirm slot>` in its domain `required_slots` and maps it like `camp_facts_confirm`;
2. at its start, returns `start_events(...)`: the slot set to None when there is something to show
   back (the form then asks it through `ConfirmFacts.ask`), True when there is nothing;
3. in `required_slots` puts the confirm slot first while `pending(...)`;
4. validates it with `ConfirmFacts.validate`: "对" keeps the facts, "不对，是2024年毕业的" corrects
   the facts named, a bare "不对" clears them so the form asks each again.
The camp enrolment form (actions/camp.py) is today's only form that asks these facts; the booking
form's name and phone are shown back in its own confirmation before booking.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Dict, List, Mapping, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.services.eligibility import load_rules
from bot.services.eligibility_facts import QUESTION_WORD
from bot.services.profile_facts import fact_entities

YES = re.compile(r"^(对|对的|对啊|对呀|是|是的|没错|正确|嗯|嗯嗯|好|好的|确认|没问题|ok|OK)[。.!！~～]*$")
NO = re.compile(r"^(不对|不是|错了|有误|不正确|改一下|更正)")
# entity of bot/services/profile_facts.py -> the profile field the forms' fact slots hold
ENTITY_FIELDS = {
    "identity": "identity", "graduation_year": "graduation_year", "age": "age",
    "school": "school", "city": "city",
}


def fact_line(facts: Mapping[str, Any]) -> str:
    """"您是2025届离校未就业毕业生，今年24岁，学校是山东师范大学，在济南，对吗？" from profile fields."""
    said = facts_summary(facts)
    return said + "，对吗？回复“对”继续；有变化请直接更正，例如“不对，是去年毕业的”。" if said else ""


def facts_summary(facts: Mapping[str, Any]) -> str:
    """"您是2025届离校未就业毕业生，今年24岁，学校是山东师范大学，在济南" ("" when there are none)."""
    identity, year = facts.get("identity"), facts.get("graduation_year")
    parts = []
    if identity and year:
        parts.append(f"您是{year}届{identity}")
    elif identity or year:
        parts.append(f"您是{identity}" if identity else f"您{year}年毕业")
    if facts.get("age"):
        parts.append(f"今年{facts['age']}岁")
    if facts.get("school"):
        parts.append(f"学校是{facts['school']}")
    if facts.get("city"):
        parts.append(f"在{facts['city']}")
    if not parts:
        return ""
    if not parts[0].startswith("您"):
        parts[0] = "您" + parts[0]
    return "，".join(parts)


# facts that make a message about the user (a city alone is where they ask about, not who they are)
PERSONAL_FIELDS = ("identity", "graduation_year", "age", "school")


def facts_in_entities(entities: Any) -> Dict[str, str]:
    """The profile facts among a parse's entities (bot/services/profile_facts.py), as profile
    fields; a city that is only the school's is left out (where the school is, not the user)."""
    found: Dict[str, str] = {}
    school = next((e for e in entities or () if e.get("entity") == "school"), None)
    for entity in entities or ():
        field = ENTITY_FIELDS.get(str(entity.get("entity")))
        if field == "city" and school and (entity.get("start"), entity.get("end")) == (school.get("start"), school.get("end")):
            continue
        if field and field not in found and entity.get("value"):
            found[field] = str(entity["value"])
    return found


def told_facts_text(message: Mapping[str, Any]) -> str:
    """What to say to a message that only tells about the user ("我山师的，今年6月份刚毕业，还没找着
    工作"): the facts shown back as kept, and where they help; "" for a question or no such facts."""
    text = str(message.get("text") or "")
    facts = facts_in_entities(message.get("entities"))
    if QUESTION_WORD.search(text) or not any(f in facts for f in PERSONAL_FIELDS):
        return ""
    return (f"好的，记下了：{facts_summary(facts)}。之后报名、预约时不用再填。\n"
            "您可以说“实训营能报吗”看看能不能参加实训营，也可以说“找工作”或“预约指导课”。")


def corrections(text: str, today: date) -> Dict[str, str]:
    """The facts a correction names ("不对，是2024年毕业的" -> graduation_year), as profile fields."""
    found: Dict[str, str] = {}
    for entity in fact_entities(text, today, load_rules()):
        field = ENTITY_FIELDS.get(str(entity.get("entity")))
        if field and field not in found:
            found[field] = str(entity["value"])
    return found


def pending(tracker: Tracker, confirm_slot: str) -> bool:
    """The form's start asked for a confirmation (the slot set to None, in this turn or before)
    and no answer was settled in an earlier turn; a value set after the latest user message is
    the answer being validated now, not yet a settled one."""
    events = list(tracker.events or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    asked = False
    for index, event in enumerate(events):
        if event.get("event") != "slot" or event.get("name") != confirm_slot:
            continue
        if event.get("value") is None:
            asked = True
        elif index < last_user:
            asked = False
    return asked


@dataclass(frozen=True)
class ConfirmFacts:
    """One form's confirmation: its confirm slot and which of its slots hold which profile field."""

    confirm_slot: str
    slots: Mapping[str, str]  # form slot -> profile field
    normalise: Mapping[str, Callable[[str], Optional[str]]]  # profile field -> form value (None: unusable)

    def known(self, tracker: Tracker) -> Dict[str, Any]:
        return {field: tracker.get_slot(slot) for slot, field in self.slots.items() if tracker.get_slot(slot)}

    def start_events(self, prefilled: Mapping[str, Any]) -> List[EventType]:
        """At the form's start: ask for a confirmation when facts were filled in for the user."""
        return [SlotSet(self.confirm_slot, None if fact_line(prefilled) else True)]

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        dispatcher.utter_message(text=fact_line(self.known(tracker)))

    def validate(self, value: Any, text: str, today: date, dispatcher: CollectingDispatcher) -> Dict[str, Any]:
        if value is None:  # the form's start asking (validated in the same turn), not an answer
            return {self.confirm_slot: None}
        fixed = self._corrected_slots(text, today)
        if fixed:
            dispatcher.utter_message(text="好的，已更正。")
            return {**fixed, self.confirm_slot: True}
        if value is True or YES.match(text):
            return {self.confirm_slot: True}
        if value is False or NO.match(text):
            dispatcher.utter_message(text="好的，下面逐项向您确认。")
            return {**{slot: None for slot in self.slots}, self.confirm_slot: True}
        dispatcher.utter_message(text="请回复“对”确认；有变化请直接更正，例如“不对，是去年毕业的”。")
        return {self.confirm_slot: None}

    def answers(self, text: str, today: date) -> bool:
        """The message answers the confirmation (whatever intent NLU gave it)."""
        return bool(YES.match(text) or NO.match(text) or self._corrected_slots(text, today))

    def _corrected_slots(self, text: str, today: date) -> Dict[str, str]:
        by_field = {field: slot for slot, field in self.slots.items()}
        fixed: Dict[str, str] = {}
        for field, value in corrections(text, today).items():
            normalised = self.normalise.get(field, str)(value)
            if field in by_field and normalised:
                fixed[by_field[field]] = normalised
        return fixed
