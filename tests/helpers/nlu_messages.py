"""Parsed messages for the tests of the intent-ranking components (flow preference, flow anchors)."""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.services.knowledge.retrieval import PARSE_KEY


def ranking(*pairs: Tuple[str, float]) -> List[Dict[str, object]]:
    """An intent ranking from (name, confidence) pairs, best first."""
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def parsed_message(text: str, pairs: List[Tuple[str, float]], knowledge: Dict[str, Any]) -> Message:
    """A message as NLU leaves it for the components: the first pair its intent, the pairs its
    ranking, `knowledge` the knowledge retriever's decision."""
    message = Message({TEXT: text})
    message.set(INTENT, {"name": pairs[0][0], "confidence": pairs[0][1]})
    message.set(INTENT_RANKING_KEY, ranking(*pairs))
    message.set(PARSE_KEY, knowledge)
    return message
