"""Eligibility as a question ("俺35了还能报实训营不", "大专毕业两年了能参加不"): answered from
config/eligibility.yml before any personal data is asked. `ActionCampInfo` answers when the camp
question is about eligibility, `ActionCampEnrollStart` when "能报吗" with facts was read as a wish
to enrol; both live in actions/camp.py and call `answer_eligibility` here.

The facts said are kept in the form's slots (identity only when said in words), so that a later
"报名" does not ask for them again and a follow-up ("30岁") completes the earlier ones.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.camp_ahead import studies_in_passing
from actions.camp_answers import first_number
from actions.flow_start import last_bot_text
from bot.services.camp import CampCatalogue
from bot.services.eligibility import load_rules
from bot.services.eligibility_answer import AGE_QUESTION, IDENTITY_QUESTION, YEAR_QUESTION, eligibility_answer, ruled_out
from bot.services.eligibility_facts import QUESTION_FORM, Facts, parse_facts
from bot.services.profile_facts import graduation_year_answer
from bot.services.profiles import ProfileStore
from bot.services.request_words import asks_bot_to_sign_up, enrols_if_allowed

# form slot -> profile field, for the facts an eligibility answer uses
FACT_SLOTS = {"camp_identity": "identity", "camp_grad_year": "graduation_year", "camp_age": "age"}
# asks about being allowed in, with or without facts ("实训营对年龄有要求吗", "在职的能参加吗")
ELIGIBILITY_WORDS = re.compile(
    r"能报|能参加|能去|可以报|可以参加|可以去|报得了|符合|条件|要求|资格|适合|限制|够格|行不行|能不能|可不可以"
    r"|收不收|还收|收人|收我|收俺|让不让"
)


# The one question the answer asked (bot/services/eligibility_answer.py `one_question`): a reply that is
# only a number is the age, a year "2027"/"去年" the graduation year, a list number the identity listed,
# whether or not NLU tagged it as one
ASKED_FOR_AGE = re.compile(r"告诉我您的[^，。]*年龄|" + re.escape(AGE_QUESTION[:-1]))
ASKED_FOR_YEAR = re.compile(re.escape(YEAR_QUESTION[:6]))
LISTED_IDENTITY = re.compile(r"^(\d)\. (\S+)$", re.M)
PLAUSIBLE_AGE = (14, 80)  # below: a list number, not an age
BARE_AGE_REPLY = re.compile(r"^\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:周?岁)?(?:了|吧|啊)?\s*$")
SHORT_REPLY = 8


def answered_entities(text: str, asked: str, day: date) -> List[Dict[str, str]]:
    """What a short reply to the question `asked` answers, as entities."""
    if len(text.strip()) > SHORT_REPLY:
        return []
    age = first_number(text) if BARE_AGE_REPLY.match(text) else None
    if age and PLAUSIBLE_AGE[0] <= age <= PLAUSIBLE_AGE[1] and ASKED_FOR_AGE.search(asked):
        return [{"entity": "age", "value": str(age)}]
    year = graduation_year_answer(text, day, load_rules()) if ASKED_FOR_YEAR.search(asked) else None
    if year:
        return [{"entity": "graduation_year", "value": str(year)}]
    listed = dict(LISTED_IDENTITY.findall(asked)) if IDENTITY_QUESTION in asked else {}
    number = re.fullmatch(r"\s*(\d)\s*", text)
    if number and number.group(1) in listed:
        return [{"entity": "identity", "value": listed[number.group(1)]}]
    return []


def message_facts(tracker: Tracker, day: date) -> Facts:
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    entities = list(message.get("entities") or [])
    said = {e.get("entity") for e in entities}
    entities += [e for e in answered_entities(text, last_bot_text(tracker), day) if e["entity"] not in said]
    return parse_facts(text, day, load_rules(), entities)


def is_eligibility_question(text: str, facts: Facts) -> bool:
    """For a camp question (or a fact given right after one): is it about who may join?"""
    return facts.stated() or bool(ELIGIBILITY_WORDS.search(text))


def asks_with_facts(text: str, facts: Facts) -> bool:
    """For an enrolment wish: is it really "may I, being X?" (answered before any form)."""
    return facts.stated() and bool(QUESTION_FORM.search(text))


async def _known(tracker: Tracker) -> Dict[str, Any]:
    """What is already known: the profile, then facts said earlier in this conversation."""
    known: Dict[str, Any] = dict(await ProfileStore(runtime.redis(), runtime.settings()).get(tracker.sender_id))
    known.update({field: tracker.get_slot(slot) for slot, field in FACT_SLOTS.items() if tracker.get_slot(slot)})
    return known


def fact_slots(facts: Facts) -> Dict[str, str]:
    """The enrolment-form slots the facts fill (an identity only when said, not inferred)."""
    values = {
        "camp_identity": None if facts.identity_inferred else facts.identity,
        "camp_grad_year": facts.graduation_year,
        "camp_age": facts.age,
    }
    return {slot: str(value) for slot, value in values.items() if value is not None}


async def rules_out(tracker: Tracker, facts: Facts, catalogue: CampCatalogue, day: date, city: Optional[str]) -> bool:
    """What the user said, with what is known of them, closes every open cohort: the answer is no."""
    return ruled_out(facts.over(await _known(tracker)), catalogue.open_cohorts(day, city), day, load_rules())


async def answer_eligibility(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    facts: Facts,
    catalogue: CampCatalogue,
    day: date,
    city: Optional[str],
    enrolling: bool = False,
    offer: bool = False,
) -> List[EventType]:
    """Say whether the user may join (and which cohorts, why, what else; or that the enrolment
    follows: `enrolling`); remember the facts."""
    rules = load_rules()
    merged = facts.over(await _known(tracker))
    said = (tracker.latest_message or {}).get("text") or ""
    text = eligibility_answer(merged, catalogue.open_cohorts(day, city), day, rules, said, enrolling, offer)
    dispatcher.utter_message(text=text)
    shown_back = fact_slots(facts)
    # the answer said the facts back ("按您的情况（23岁、失业青年）"): an enrolment that follows does not ask to confirm them again
    confirmed = [SlotSet("camp_facts_confirm", True)] if shown_back else []
    # "25届的 学的会计 还收不": the major (and a school) said with the question are not asked again either
    passing = {slot: value for slot, value in studies_in_passing(said).items() if not tracker.get_slot(slot)}
    return [SlotSet(slot, value) for slot, value in {**shown_back, **passing}.items()] + confirmed


async def answer_before_form(
    dispatcher: CollectingDispatcher, tracker: Tracker, facts: Facts, catalogue: CampCatalogue, day: date, city: Optional[str]
) -> List[EventType]:
    """What the enrolment start answers before any form: "我35了还能报吗" is a question, answered,
    and no form starts (no name, no phone); so is a wish whose facts rule the user out ("俺38了 想报
    实训营": the plain no and what else there is). "能的话给俺报上": answered, and the enrolment follows
    when the answer is not no. Ends with action_listen when no form is to follow; [] when nothing
    is to be answered first."""
    text = (tracker.latest_message or {}).get("text") or ""
    if not facts.stated():
        return []
    out = await rules_out(tracker, facts, catalogue, day, city)
    if not out and not (asks_with_facts(text, facts) or enrols_if_allowed(text)):
        return []  # a wish with facts: the form takes them
    if not out and (enrols_if_allowed(text) or asks_bot_to_sign_up(text)):
        return await answer_eligibility(dispatcher, tracker, facts, catalogue, day, city, enrolling=True)
    return await answer_eligibility(dispatcher, tracker, facts, catalogue, day, city) + [FollowupAction("action_listen")]
