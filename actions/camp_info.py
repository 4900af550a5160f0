"""The camp's information: what it is, who may join ("俺35了还能报不": actions/camp_eligibility.py), and
questions with an answer of their own (a full cohort, what to bring, the fee: bot/services/camp_topics.py),
before or inside the enrolment form (actions/camp.py)."""
from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.camp import FORM, current_catalogue, today, user_city
from actions.camp_eligibility import answer_eligibility, is_eligibility_question, message_facts
from actions.flow_start import asks_to_be_enrolled, last_bot_text, subscribe_said
from bot.services.camp import camp_info_text
from bot.services.eligibility_answer import asked_one_question
from bot.services.camp_topics import camp_topic_answer


class ActionCampInfo(Action):
    def name(self) -> Text:
        return "action_camp_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        request = None if tracker.active_loop_name else asks_to_be_enrolled(text) or subscribe_said(text)
        if request is not None:  # "实训营能给俺报上不": no description, the enrolment
            return request
        city = await user_city(tracker)
        facts = message_facts(tracker, today())
        if is_eligibility_question(text, facts):
            return await answer_eligibility(dispatcher, tracker, facts, current_catalogue(), today(), city,
                                            offer=asked_one_question(last_bot_text(tracker)))  # a reply to its question
        topic = camp_topic_answer(text, current_catalogue().open_cohorts(today(), city))
        dispatcher.utter_message(text=topic or camp_info_text(current_catalogue(), today(), city))
        return []


async def camp_question_in_form(tracker: Tracker) -> Optional[str]:
    """Inside the enrolment, a question about the camp itself that NLU took for another subject
    ("收费不" as a policy question): its answer (bot/services/camp_topics.py), else None."""
    if tracker.active_loop_name != FORM:
        return None
    cohorts = current_catalogue().open_cohorts(today(), await user_city(tracker))
    return camp_topic_answer(tracker.latest_message.get("text") or "", cohorts, fee=True)
