"""Rasa graph component: a request to a flow phrased as a question goes to the flow, and a message
a flow took without naming what the flow does goes to a confident knowledge answer.

Runs after the intent classifiers and KnowledgeRetriever (it reads the knowledge decision) and
before FallbackClassifier (which then judges the merged confidence). The rules and their reasons:
bot/services/knowledge/flow_preference.py and flow_anchors.py.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

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

PLACE_ENTITIES = ("city", "district")  # PlaceNormalizer's; a named place asks the point search


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
            preferred = settled_ranking(message.get(TEXT) or "", ranking, message.get(PARSE_KEY), self._min_share, places)
            if preferred is None:
                continue
            top = preferred[0]
            message.set(
                INTENT,
                {INTENT_NAME_KEY: top[INTENT_NAME_KEY], PREDICTED_CONFIDENCE_KEY: top[PREDICTED_CONFIDENCE_KEY]},
                add_to_output=True,
            )
            message.set(INTENT_RANKING_KEY, preferred, add_to_output=True)
        return messages
