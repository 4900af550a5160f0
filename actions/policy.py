"""Policy and service questions: answered only from the curated FAQ, or "not sure" + counsellor."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.services.policy import answer_text, default_matcher, load_faq, not_sure_text


class ActionPolicyAnswer(Action):
    def name(self) -> Text:
        return "action_policy_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = (tracker.latest_message or {}).get("text") or ""
        hotline = load_faq_hotline()
        match = default_matcher().match(text)
        if match.confident and match.item is not None:
            dispatcher.utter_message(text=answer_text(match.item, hotline))
        else:
            dispatcher.utter_message(text=not_sure_text(match, hotline))
        return []


_HOTLINE: List[str] = []


def load_faq_hotline() -> str:
    if not _HOTLINE:
        _HOTLINE.append(load_faq().hotline)
    return _HOTLINE[0]
