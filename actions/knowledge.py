"""Questions answered from the knowledge base (data/knowledge/), and messages NLU could not place.

`action_knowledge_answer` runs for `ask_policy`, for `nlu_fallback` and for a number right after it
offered a numbered choice (nlu_data/rules/knowledge.yml). It reads the retrieval decision that the
NLU component put in the parse (bot/rasa_server/knowledge_retriever.py) — or, for a parse without one,
decides with lexical retrieval here — and then

* answers the item, with where to confirm it;
* or offers the close topics as a numbered choice (slot `knowledge_choices`) instead of guessing
  — for a message NLU knows is a question (`ask_policy`), the nearest topics even when none is close;
* or says it cannot answer yet and what it can do. The second such miss in a row queues the
  conversation for a counsellor, whose reply says when a person will answer (office hours).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking.manage import answer_named_holding
from actions.camp_info import camp_question_in_form
from actions.done_already import done_already_text, note_facts_after_enrolment
from actions.flow_start import camp_follow_up, enrol_camp_named_before, enrol_after_camp_answer, last_bot_text, other_ways_again, start_named_flow
from actions.form_pause import resume_asked
from actions.handoff import hand_to_human
from actions.profile_confirm import told_facts_text
from actions.knowledge_decision import decision_for, knowledge
from actions.trade_of_interest import trade_of_the_turn
from bot.services.handoff.model import PRIORITY_REPEATED_FAILURE
from bot.services.knowledge.replies import answer_text, choice_text, nothing_close_text
from bot.services.knowledge.retrieval import (
    ANSWER, CHOOSE, NONE, PARSE_KEY, decision_from_payload, reply_kind,
)

ACTION_NAME = "action_knowledge_answer"
CHOICES_SLOT = "knowledge_choices"
MISS_INTENTS = ("nlu_fallback",)
_CHINESE_ORDINALS = {"一": 1, "二": 2, "两": 2, "三": 3}


def chosen_number(tracker: Tracker) -> Optional[int]:
    """"2", "第二个", "选3": the number the user picked, if the message is only that."""
    for entity in tracker.latest_message.get("entities") or ():
        if entity.get("entity") == "number" and str(entity.get("value", "")).isdigit():
            return int(entity["value"])
    text = (tracker.latest_message.get("text") or "").strip()
    match = re.fullmatch(r"(?:第|选)?\s*([1-9一二两三])\s*(?:个|条|项|号)?[。.!！]?", text)
    if not match:
        return None
    token = match.group(1)
    return int(token) if token.isdigit() else _CHINESE_ORDINALS[token]


def intent_name(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def is_miss(event: Dict[str, Any]) -> bool:
    parse = event.get("parse_data") or {}
    if (parse.get("intent") or {}).get("name") not in MISS_INTENTS:
        return False
    if told_facts_text(parse):  # facts about the user, kept and said back: answered
        return False
    decision = decision_from_payload(parse.get(PARSE_KEY), knowledge())
    return decision is None or decision.kind == NONE


def consecutive_misses(events: Sequence[Dict[str, Any]]) -> int:
    """User turns in a row, ending with the latest, that this action could not answer at all
    (nothing close in the knowledge base); a turn answered by any other action ends the run."""
    count = 0
    latest = True
    next_action: Optional[str] = None
    for event in reversed(events):
        kind = event.get("event")
        if kind == "action" and event.get("name") not in ("action_listen", None):
            next_action = event.get("name")
        elif kind == "user":
            if not is_miss(event) or (not latest and next_action != ACTION_NAME):
                break
            count += 1
            latest = False
            next_action = None
        elif kind in ("restart", "session_started"):
            break
    return count


class ActionKnowledgeAnswer(Action):
    def name(self) -> Text:
        return ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        named = await answer_named_holding(dispatcher, tracker)
        if named is not None:
            return named
        kb = knowledge()
        picked = self._picked_item(tracker)
        if picked is not None:
            dispatcher.utter_message(text=answer_text(picked, kb.hotline))
            return [SlotSet(CHOICES_SLOT, None)]
        about_camp = await camp_question_in_form(tracker)  # "收费不" inside the enrolment: the camp's fee
        if about_camp:
            dispatcher.utter_message(text=about_camp)
            return [SlotSet(CHOICES_SLOT, None)]
        started = None if tracker.active_loop_name else start_named_flow((tracker.latest_message or {}).get("text") or "", intent_name(tracker))
        started = started or resume_asked(tracker)  # "继续报名" with a form paused (actions/form_pause.py)
        started = started or (None if tracker.active_loop_name else enrol_after_camp_answer(tracker))
        started = started or (None if tracker.active_loop_name else camp_follow_up(tracker))
        started = started or (None if tracker.active_loop_name else enrol_camp_named_before(tracker))
        if started is not None:  # "…想参加实训营" NLU could not place: the flow it names starts
            return started
        if await note_facts_after_enrolment(dispatcher, tracker):  # "对了 俺是学园林的": kept and said back
            return [SlotSet(CHOICES_SLOT, None)]
        ways = other_ways_again(tracker) or done_already_text(tracker, last_bot_text(tracker))
        if ways:  # "有别的路子没" after a reply that listed them; "就报青岛那个" after the enrolment
            dispatcher.utter_message(text=ways)
            return [SlotSet(CHOICES_SLOT, None)]
        decision = decision_for(tracker.latest_message or {})
        kind = reply_kind(intent_name(tracker), decision)
        trade = trade_of_the_turn(tracker)
        if trade and kind != ANSWER:  # "想做烘焙这一行": said back and kept, whatever the rest found
            dispatcher.utter_message(text=f"好的，记下了：您想做{trade}。之后找工作、看课程时我会按这个帮您找。")
        if kind == ANSWER:
            dispatcher.utter_message(text=answer_text(decision.item, kb.hotline))
            return [SlotSet(CHOICES_SLOT, None)]
        # "俺去年大专毕业的 聊城职业技术学院 还木有找着活": facts about oneself with no question are kept
        # and said back, rather than guessed at with topics the knowledge base is unsure of
        told = told_facts_text(tracker.latest_message or {})
        if kind == CHOOSE and not told:
            dispatcher.utter_message(text=choice_text(decision.options))
            return [SlotSet(CHOICES_SLOT, [o.item.id for o in decision.options])]
        if told:  # "我山师的，今年刚毕业": a profile that listens, not "答不上来"
            dispatcher.utter_message(text=told)
            return [SlotSet(CHOICES_SLOT, None)]
        if consecutive_misses(tracker.events) >= 2:
            await hand_to_human(tracker, dispatcher, reason="repeated_fallback", priority=PRIORITY_REPEATED_FAILURE)
        else:
            dispatcher.utter_message(text=nothing_close_text(kb.hotline))
        return [SlotSet(CHOICES_SLOT, None)]

    @staticmethod
    def _picked_item(tracker: Tracker):
        choices = tracker.get_slot(CHOICES_SLOT) or []
        number = chosen_number(tracker) if choices else None
        if number is None or not 1 <= number <= len(choices):
            return None
        return knowledge().item(str(choices[number - 1]))
