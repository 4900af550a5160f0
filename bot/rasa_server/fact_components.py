"""Rasa graph component: the facts a user states about themself, in any message, as entities
(age, graduation_year, identity, education, school and the school's city). The logic is
`bot.services.profile_facts.fact_entities`; domain.yml maps the entities to slots (filled at every
turn by action_extract_slots), so that a form skips what was already said.

Runs after PlaceNormalizer (a city the user named wins over the school's) and TimeNormalizer.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_server.entity_components import TimeNormalizer
from bot.services.eligibility import EligibilityRules, load_rules
from bot.services.profile_facts import fact_entities
from bot.services.schools import load_schools


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class ProfileFactExtractor(GraphComponent):
    """Profile facts relative to the message's day ("去年毕业" read on 1 January is last year's)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ProfileFactExtractor":
        load_schools()  # read the gazetteer now, not on the first message
        return cls(load_rules())

    def __init__(self, rules: EligibilityRules) -> None:
        self._rules = rules

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue  # a trigger (menu click, location) states no facts
            today = TimeNormalizer._message_time(message).date()
            entities = fact_entities(text, today, self._rules, message.get(ENTITIES) or [])
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
