"""The dialogue's fallback (RulePolicy `core_fallback_action_name` in config.yml).

Rasa's own `action_default_fallback` answers every low-confidence turn with utter_default ("没太明白").
That is wrong for a message NLU read perfectly well but that answers nothing: "是", "确认", "不要",
"算了", a bare "最近" or city, a bare mobile number, with no question pending (a first message, a reply to an
old push). Those get an answer
that says so and what the user can do; anything else still gets utter_default. Like Rasa's
action, it reverts the user's turn so that the next prediction is not misled by it — but keeps
the facts the user stated in it ("我是青岛科技大学的学生": school, identity, city), which the revert
would otherwise drop with the turn's slot events (bot/rasa_server/fact_components.py).
"""
from __future__ import annotations

from typing import Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.booking.manage import answer_named_holding
from actions.done_already import done_already_text, note_facts_after_enrolment
from actions.flow_start import camp_follow_up, enrol_camp_named_before, enrol_after_camp_answer, last_bot_text, start_named_flow, started_this_turn
from actions.form_pause import resume_asked
from actions.trade_of_interest import trade_of_the_turn

NEXT_STEPS = "可以说“预约指导”“我的预约”“招聘会”，或说“转人工”。"
NOTHING_PENDING: Dict[str, str] = {
    "affirm": "好的。目前没有需要您确认的事项。想办什么直接告诉我，" + NEXT_STEPS,
    "deny": "好的，不办了。还有什么可以帮您的吗？" + NEXT_STEPS,
    "stop": "好的，已停下，没有进行中的事项。还有什么可以帮您的吗？" + NEXT_STEPS,
    "inform": "目前没有等您回答的问题。想办什么直接告诉我，" + NEXT_STEPS,
}
# A mobile number nobody asked for (the forms and the callback offer catch the ones they ask for): say
# where a number is asked instead of staying silent (nlu_data/rules/general.yml sends it here).
PHONE_UNASKED = (
    "收到一个手机号码。现在没有需要您留号码的事项：预约指导课、报名实训营时，我会在填写信息那一步请您留号码；"
    "想请职业指导师联系您，请说“转人工”。"
)
# Slots filled from the user's own facts at every turn (domain.yml from_entity mappings).
FACT_SLOTS = ("camp_identity", "camp_grad_year", "camp_age", "camp_school", "education", "city")
NOTED = "好的，记下了（{facts}），之后办理时不用再说一遍。想办什么直接告诉我，" + NEXT_STEPS
CORRECTED = "好的，已改过来了（{facts}），之后办理时按改过的来。想办什么直接告诉我，" + NEXT_STEPS


def facts_of_the_turn(tracker: Tracker) -> List[SlotSet]:
    """The fact slots Rasa filled from the user's latest message (events after it)."""
    events = list(tracker.events or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    return [
        SlotSet(e["name"], e.get("value")) for e in events[last_user + 1:]
        if e.get("event") == "slot" and e.get("name") in FACT_SLOTS and e.get("value")
    ]


def has_phone(tracker: Tracker) -> bool:
    return any(e.get("entity") == "phone" for e in (tracker.latest_message or {}).get("entities") or ())


class ActionCoreFallback(Action):
    def name(self) -> Text:
        return "action_core_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        named = await answer_named_holding(dispatcher, tracker)
        if named is not None:
            return named
        if started_this_turn(tracker):  # the flow the message named has answered it already
            return []
        done = done_already_text(tracker, last_bot_text(tracker))
        if done:  # "确认" after a booking made on the last answer, "就报青岛那个" after the enrolment
            dispatcher.utter_message(text=done)
            return [UserUtteranceReverted()]
        if await note_facts_after_enrolment(dispatcher, tracker):  # "忘了说 俺今年22" after the enrolment
            return [UserUtteranceReverted()]
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        started = None if tracker.active_loop_name else start_named_flow((tracker.latest_message or {}).get("text") or "", intent)
        started = started or resume_asked(tracker)  # "继续报名" with a form paused (actions/form_pause.py)
        started = started or (None if tracker.active_loop_name else enrol_after_camp_answer(tracker))
        started = started or (None if tracker.active_loop_name else camp_follow_up(tracker))
        started = started or (None if tracker.active_loop_name else enrol_camp_named_before(tracker))
        if started is not None:  # the turn is kept: the flow reads the facts of the message
            return started
        facts = facts_of_the_turn(tracker)
        trade = trade_of_the_turn(tracker)  # said back too, though no slot holds it (actions/trade_of_interest.py)
        said = [str(f["value"]) for f in facts] + ([f"想做{trade}"] if trade else [])
        text = PHONE_UNASKED if intent == "inform" and has_phone(tracker) else NOTHING_PENDING.get(intent)
        if said and intent in ("inform", "affirm", "nlu_fallback", "", "deny"):  # deny: "不对 是去年毕业的" corrects
            noted = "、".join(dict.fromkeys(said))
            dispatcher.utter_message(text=(CORRECTED if intent == "deny" else NOTED).format(facts=noted))
        elif text:
            dispatcher.utter_message(text=text)
        else:
            dispatcher.utter_message(response="utter_default")
        return [UserUtteranceReverted(), *facts]
