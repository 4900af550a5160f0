"""The camp form's questions that an action asks (Rasa calls `action_ask_<slot>` instead of a
response): the facts shown back for confirmation and the numbered cohort list, numbered as
`ValidateCampEnrollmentForm.validate_camp_cohort` reads it (both from `offered_cohorts`)."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.camp import CONFIRM, fitting_cohorts, offered_cohorts, profile_from_slots, today


class ActionAskCampFactsConfirm(Action):
    def name(self) -> Text:
        return "action_ask_camp_facts_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        CONFIRM.ask(dispatcher, tracker)
        return []


class ActionAskCampCohort(Action):
    def name(self) -> Text:
        return "action_ask_camp_cohort"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        profile = profile_from_slots(tracker)
        choices = await offered_cohorts(tracker.sender_id, profile)
        if not choices and fitting_cohorts(profile, profile.get("city"), today()):
            dispatcher.utter_message(
                text="适合您的期次您都已报名或在候补中。说“我的报名”查看，说“取消”退出本次报名。"
            )
            return []
        if not choices:
            dispatcher.utter_message(text="目前没有适合您的期次。说“取消”退出，或说“转人工”咨询职业指导师。")
            return []
        lines = [f"{i}. {c.label}，截止{c.enroll_deadline.month}月{c.enroll_deadline.day}日" for i, c in enumerate(choices, 1)]
        held = [c.title for c in fitting_cohorts(profile, profile.get("city"), today()) if c not in choices]
        # "还想再报一期": the cohorts already held are said, so the list is not read as all there is
        intro = f"您已报名{'、'.join(held)}（说“我的报名”查看）。还可以报的期次，回复序号：\n" if held else "请选择期次，回复序号：\n"
        dispatcher.utter_message(text=intro + "\n".join(lines))
        return []
