"""The knowledge base and its decision for a parse, as the action server sees them: what the knowledge
answer, the fallback and every form's side-question check share (no action imports here, so the
forms can ask "can the knowledge base answer this?" without importing the actions that answer)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

from bot.services.knowledge.base import KnowledgeBase, load_knowledge
from bot.services.knowledge.retrieval import PARSE_KEY, Decision, Retriever, decision_from_payload


@lru_cache(maxsize=1)
def knowledge() -> KnowledgeBase:
    return load_knowledge()


@lru_cache(maxsize=1)
def lexical_retriever() -> Retriever:
    return Retriever(knowledge())  # no e5 in the action server: lexical scores only


def decision_for(parse: Dict[str, Any]) -> Decision:
    """The NLU component's decision carried in the parse, or a lexical one for a parse without it."""
    decision = decision_from_payload(parse.get(PARSE_KEY), knowledge())
    return decision if decision is not None else lexical_retriever().decide(parse.get("text") or "")
