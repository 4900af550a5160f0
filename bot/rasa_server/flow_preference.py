"""Rasa graph component: a request to a flow phrased as a question goes to the flow, and a message
a flow took without naming what the flow does goes to a confident knowledge answer. A message that
asks in so many words to be enrolled in the camp, or to cancel a code it names, goes to that flow
whatever the classifiers made of it (bot/services/request_words.py).

Runs after the intent classifiers and KnowledgeRetriever (it reads the knowledge decision) and
before FallbackClassifier (which then judges the merged confidence). The rules and their reasons:
bot/services/knowledge/flow_preference.py and flow_anchors.py.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES, ENTITY_ATTRIBUTE_TYPE, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.services.knowledge.flow_anchors import settled_ranking
from bot.services.knowledge.flow_preference import MIN_SHARE
from bot.services.knowledge.retrieval import PARSE_KEY
from bot.services.request_words import asks_to_enrol, cancels_a_code, corrected_phone

PLACE_ENTITIES = ("city", "district")  # PlaceNormalizer's; a named place asks the point search
# intents a plain request in words does not override: they are about something held, or a stop
HELD = ("cancel_booking", "my_bookings", "unsubscribe", "request_human")
KEEPS = HELD + ("stop", "deny")


def requested_in_words(text: str, intent: str) -> Optional[str]:
    """The intent the words plainly say when the classifiers chose another, else None."""
    if corrected_phone(text) and intent not in HELD:  # an answer correcting a number ("不对 …", "…预约的号")
        return "inform"
    if intent in KEEPS:
        return None
    if cancels_a_code(text):
        return "cancel_booking"
    return "enroll_camp" if asks_to_enrol(text) else None  # also when the classifiers were unsure of it


def as_first(intent: str, ranking: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """`intent` first and sure (the words decided it), the classifiers' others after it at zero."""
    rest = [{"name": r.get("name"), "confidence": 0.0} for r in ranking if r.get("name") != intent]
    return [{"name": intent, "confidence": 1.0}] + rest


def with_phone(message: Message, phone: str) -> None:
    """The number as a `phone` entity when the entity extractor missed it (the rules read it)."""
    entities = list(message.get(ENTITIES) or [])
    if phone and not any(e.get(ENTITY_ATTRIBUTE_TYPE) == "phone" for e in entities):
        start = (message.get(TEXT) or "").find(phone)
        entities.append({"entity": "phone", "value": phone, "start": start, "end": start + len(phone),
                         "extractor": "FlowIntentPreference"})
        message.set(ENTITIES, entities, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FlowIntentPreference(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_share": MIN_SHARE}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._min_share = float({**self.get_default_config(), **config}["min_share"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "FlowIntentPreference":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            ranking = message.get(INTENT_RANKING_KEY) or []
            places = any(e.get(ENTITY_ATTRIBUTE_TYPE) in PLACE_ENTITIES for e in message.get(ENTITIES) or ())
            text = message.get(TEXT) or ""
            asked = requested_in_words(text, str((message.get(INTENT) or {}).get(INTENT_NAME_KEY) or ""))
            preferred = as_first(asked, ranking) if asked else settled_ranking(
                text, ranking, message.get(PARSE_KEY), self._min_share, places)
            if preferred is None:
                continue
            if asked == "inform":
                with_phone(message, corrected_phone(text) or "")
            top = preferred[0]
            message.set(
                INTENT,
                {INTENT_NAME_KEY: top[INTENT_NAME_KEY], PREDICTED_CONFIDENCE_KEY: top[PREDICTED_CONFIDENCE_KEY]},
                add_to_output=True,
            )
            message.set(INTENT_RANKING_KEY, preferred, add_to_output=True)
        return messages
