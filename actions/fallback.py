"""The dialogue's fallback (RulePolicy `core_fallback_action_name` in config.yml).

Rasa's own `action_default_fallback` answers every low-confidence turn with utter_default ("没太明白").
That is wrong for a message NLU read perfectly well but that answers nothing: "是", "确认", "不要",
"算了", a bare "最近" or city with no question pending (a first message, a reply to an old push). Those get an answer
that says so and what the user can do; anything else still gets utter_default. Like Rasa's
action, it reverts the user's turn so that the next prediction is not misled by it.
"""
from __future__ import annotations

from typing import Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

NEXT_STEPS = "可以说“预约指导”“我的预约”“招聘会”，或说“转人工”。"
NOTHING_PENDING: Dict[str, str] = {
    "affirm": "好的。目前没有需要您确认的事项。想办什么直接告诉我，" + NEXT_STEPS,
    "deny": "好的，不办了。还有什么可以帮您的吗？" + NEXT_STEPS,
    "stop": "好的，已停下，没有进行中的事项。还有什么可以帮您的吗？" + NEXT_STEPS,
    "inform": "目前没有等您回答的问题。想办什么直接告诉我，" + NEXT_STEPS,
}


class ActionCoreFallback(Action):
    def name(self) -> Text:
        return "action_core_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        text = NOTHING_PENDING.get(intent)
        if text:
            dispatcher.utter_message(text=text)
        else:
            dispatcher.utter_message(response="utter_default")
        return [UserUtteranceReverted()]
