"""Finding the knowledge item a question means: lexical and dense scores together, then a decision.

Score of an item = (1 − w) · lexical + w · dense, where lexical is the character n-gram cosine
(`lexical.py`) and dense the e5 cosine of the question with the item's closest text, rescaled from
[dense_floor, 1] to [0, 1] (e5 puts unrelated Chinese sentences around 0.75, so raw cosines would
crowd into a narrow band). Both scores take the best text of each item.

The decision: an *answer* when the best item reaches `threshold` and beats the second by
`min_margin`; otherwise a numbered *choice* between the items above `choice_floor` (the user picks,
instead of the bot guessing between 就业登记 and 失业登记); otherwise *none* (nothing close).

All weights and thresholds come from `tune()` on calibration rows — leave-one-out over the items'
own variants, the off-topic calibration questions and the development corpus — never from the
held-out corpus (scripts/eval_questions.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from bot.services.knowledge.base import KnowledgeBase, KnowledgeItem, MatcherSettings
from bot.services.knowledge.lexical import LexicalIndex, best_per_owner, item_texts

EmbedMany = Callable[[Sequence[str]], np.ndarray]  # (n, d) L2-normalised rows
MAX_OPTIONS = 3
WRONG_COST = 3.0  # a wrong confident answer costs three "not sure"s
ANSWER, CHOOSE, NONE = "answer", "choose", "none"


@dataclass(frozen=True)
class Ranked:
    item: KnowledgeItem
    score: float


@dataclass(frozen=True)
class Decision:
    kind: str  # ANSWER | CHOOSE | NONE
    options: Tuple[Ranked, ...] = ()

    @property
    def item(self) -> Optional[KnowledgeItem]:
        return self.options[0].item if self.kind == ANSWER else None

    def as_payload(self) -> Dict[str, Any]:
        """What the NLU component adds to the parse result (JSON-safe)."""
        return {
            "decision": self.kind,
            "options": [{"id": r.item.id, "score": round(r.score, 4)} for r in self.options],
        }


def decision_from_payload(payload: Any, kb: KnowledgeBase) -> Optional[Decision]:
    """The decision carried in a parse result; None if absent or naming unknown items."""
    if not isinstance(payload, dict) or payload.get("decision") not in (ANSWER, CHOOSE, NONE):
        return None
    options = []
    for option in payload.get("options") or ():
        item = kb.item(str((option or {}).get("id")))
        if item is None:
            return None
        options.append(Ranked(item, float(option.get("score") or 0.0)))
    return Decision(payload["decision"], tuple(options))


def decide(ranked: Sequence[Ranked], settings: MatcherSettings) -> Decision:
    if not ranked or ranked[0].score <= 0:
        return Decision(NONE)
    best = ranked[0].score
    second = ranked[1].score if len(ranked) > 1 else 0.0
    if best >= settings.threshold and best - second >= settings.min_margin:
        return Decision(ANSWER, (ranked[0],))
    close = tuple(r for r in ranked[:MAX_OPTIONS] if r.score >= settings.choice_floor)
    return Decision(CHOOSE, close) if close else Decision(NONE)


class Retriever:
    """Ranks a knowledge base's items for a question; `embed_many` adds the dense score."""

    def __init__(
        self,
        kb: KnowledgeBase,
        embed_many: Optional[EmbedMany] = None,
        settings: Optional[MatcherSettings] = None,
    ) -> None:
        self.kb = kb
        self.settings = settings or kb.settings
        self.lexical = LexicalIndex(kb.items, kb.synonyms)
        self._embed = embed_many if self.settings.dense_weight > 0 else None
        texts, self._owners = item_texts(kb.items)
        self._vectors = self._embed(texts) if self._embed else None

    def with_settings(self, settings: MatcherSettings) -> "Retriever":
        twin = object.__new__(Retriever)
        twin.__dict__.update(self.__dict__)
        twin.settings = settings
        return twin

    def text_scores(self, question: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Lexical cosine per item text, and dense cosine per item text (None without e5)."""
        lexical = self.lexical.text_scores(question)
        dense = None
        if self._vectors is not None and self._embed is not None:
            dense = self._vectors @ self._embed([question])[0]
        return lexical, dense

    def item_scores(self, question: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Per item: the best lexical cosine and the best dense cosine (None without e5)."""
        lexical, dense = self.text_scores(question)
        size = len(self.kb.items)
        best_dense = None if dense is None else best_per_owner(dense, self._owners, size, floor=-1.0)
        return best_per_owner(lexical, self._owners, size), best_dense

    def rank(self, question: str) -> List[Ranked]:
        lexical, dense = self.item_scores(question)
        return self._ranked(mix(lexical, dense, self.settings))

    def _ranked(self, scores: np.ndarray) -> List[Ranked]:
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [Ranked(self.kb.items[i], float(scores[i])) for i in order]

    def decide(self, question: str) -> Decision:
        return decide(self.rank(question), self.settings)


def mix(lexical: np.ndarray, dense: Optional[np.ndarray], settings: MatcherSettings) -> np.ndarray:
    """Item scores from per-item lexical and dense cosines (works on rows × items matrices too)."""
    weight = settings.dense_weight
    if dense is None or weight <= 0:
        return lexical
    floor = settings.dense_floor
    return (1 - weight) * lexical + weight * np.clip((dense - floor) / (1.0 - floor), 0.0, 1.0)


# --- tuning ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """Calibration questions as matrices: per question, per item lexical and dense cosines."""

    expect: np.ndarray  # item index, or -1 for a question that must not be answered
    lexical: np.ndarray
    dense: Optional[np.ndarray]


def calibration(retriever: Retriever, questions: Iterable[Tuple[str, Optional[str]]]) -> Calibration:
    """Each item text left out in turn (its own row masked), then the given (question, id or None).

    Leave-one-out masks the text's own similarity; the TF-IDF weights still count it, which makes
    the lexical side very slightly optimistic."""
    kb = retriever.kb
    index = {item.id: i for i, item in enumerate(kb.items)}
    size = len(kb.items)
    expect, lexical_rows, dense_rows = [], [], []
    texts, owners = item_texts(kb.items)
    asked = [(text, int(owners[i]), i) for i, text in enumerate(texts)]
    asked += [(q, index[e] if e is not None else -1, None) for q, e in questions]
    for text, owner, own_row in asked:
        lexical, dense = retriever.text_scores(text)
        if own_row is not None:
            lexical = lexical.copy()
            lexical[own_row] = 0.0
            if dense is not None:
                dense = dense.copy()
                dense[own_row] = -1.0
        expect.append(owner)
        lexical_rows.append(best_per_owner(lexical, retriever._owners, size))
        if dense is not None:
            dense_rows.append(best_per_owner(dense, retriever._owners, size, floor=-1.0))
    return Calibration(np.array(expect), np.vstack(lexical_rows), np.vstack(dense_rows) if dense_rows else None)


CHOICE_FLOORS = tuple(f / 100 for f in range(20, 65, 5))


def grid_costs(scores: np.ndarray, expect: np.ndarray) -> Dict[Tuple[int, int, int], float]:
    """Cost for every (threshold, margin, choice floor) in hundredths.

    A wrong confident answer costs WRONG_COST. Not answering an answerable question costs 1, or 0.5
    when the numbered choice holds the right item (one more step for the user). A choice offered for
    a question that must not be answered costs 1; "nothing close" for it costs nothing."""
    rows = np.arange(len(scores))
    order = np.argsort(-scores, axis=1)[:, :MAX_OPTIONS]
    top_scores = scores[rows[:, None], order]
    best = top_scores[:, 0]
    second = top_scores[:, 1] if top_scores.shape[1] > 1 else np.zeros(len(scores))
    answerable = expect >= 0
    correct = order[:, 0] == expect
    costs = {}
    for floor in CHOICE_FLOORS:
        offered_right = np.any((order == expect[:, None]) & (top_scores >= floor), axis=1)
        chosen = best >= floor
        not_answered_cost = np.where(
            answerable, np.where(chosen & offered_right, 0.5, 1.0), np.where(chosen, 1.0, 0.0)
        )
        for t100 in range(25, 90, 2):
            for m100 in range(0, 30, 3):
                answered = (best >= t100 / 100) & (best - second >= m100 / 100)
                cost = WRONG_COST * np.sum(answered & ~correct) + np.sum(np.where(answered, 0.0, not_answered_cost))
                costs[(t100, m100, round(floor * 100))] = float(cost)
    return costs


def tune(retriever: Retriever, cal: Calibration) -> Tuple[MatcherSettings, float]:
    """The settings with the lowest cost on the calibration (`grid_costs`); on equal cost the
    stricter ones. An off-topic row offered a choice or answered is a wrong, not a free, outcome."""
    weights = (0.0,) if cal.dense is None else (0.0, 0.2, 0.35, 0.5, 0.65, 0.8)
    best: Optional[Tuple[float, Tuple[int, int, int, float], MatcherSettings]] = None
    for weight in weights:
        for floor in ((0.75,) if weight == 0 else (0.7, 0.75, 0.8, 0.85)):
            candidate = replace(retriever.settings, dense_weight=weight, dense_floor=floor)
            scores = mix(cal.lexical, cal.dense, candidate)
            for (t100, m100, f100), cost in grid_costs(scores, cal.expect).items():
                key = (cost, (-t100, -m100, -f100, weight))
                if best is None or key < best[:2]:
                    best = (cost, key[1], replace(
                        candidate, threshold=t100 / 100, min_margin=m100 / 100, choice_floor=f100 / 100
                    ))
    assert best is not None
    return best[2], best[0]
