"""Finding the knowledge item a question means, then deciding what to do with it.

Scoring: a linear classifier (LinearSVC) over every item's title and variants, one class per item,
on two kinds of features side by side: character 1–3-grams of the normalised text (`lexical.py`:
no word segmentation needed, robust to 咋/啥 and typos sharing characters) and the e5 sentence vector
(`dense_weight` scales it; e5 knows that 炒鱿鱼 and 辞退 are alike, which no character shares). A
softmax of the margins (`temperature`) gives each item a score in [0, 1]. Measured on the dev corpus
and the policy held-out set, this beat the best-cosine nearest neighbour it replaced: at most 2 %
wrong answers, it left 38–43 instead of 57 of 359 questions unanswered (docs/benchmarks.md).

The decision: an *answer* when the best item reaches `threshold` and beats the second by
`min_margin`; otherwise a numbered *choice* between the items above `choice_floor` (the user picks,
instead of the bot guessing between 就业登记 and 失业登记); otherwise *none* (nothing close).

All settings come from `tune()` on calibration rows — each item's variants predicted by a classifier
trained without them (k-fold), the off-topic calibration questions and the development corpus —
never from the held-out corpus (scripts/eval_questions.py).
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.services.knowledge.base import KnowledgeBase, KnowledgeItem, MatcherSettings
from bot.services.knowledge.lexical import item_texts, normalise

EmbedMany = Callable[[Sequence[str]], np.ndarray]  # (n, d) L2-normalised rows
MAX_OPTIONS = 3
FOLDS = 5
WRONG_COST = 3.0  # a wrong confident answer costs three "not sure"s
OFF_TOPIC_CHOICE_COST = 2.0  # topics offered to a message that should have been declined
ANSWER, CHOOSE, NONE = "answer", "choose", "none"
PARSE_KEY = "knowledge"  # where a parse result carries the decision (bot/rasa_server/knowledge_retriever.py)
QUESTION_INTENT = "ask_policy"  # NLU is sure the message is a question for the knowledge base
# A subsidy item is the answer only to a message that asks about money: "送外卖的社保自己咋交" shares
# 外卖 and 社保 with the 灵活就业 social-insurance subsidy but asks how to pay, so it gets a choice.
MONEY_ITEM_TOPIC = "subsidies"
ASKS_ABOUT_MONEY = re.compile(r"补|贴|返|报销|钱|费|资助")
# A group's overview item yields to another item whose subject the message names, when that item is
# among the next few and not far off (see the_named_subject_over_the_group).
GROUP_TOPIC = "network_services"
NAMED_SUBJECT_DEPTH = 5
NAMED_SUBJECT_FLOOR = 0.02


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



def reply_kind(intent: str, decision: Decision) -> str:
    """What action_knowledge_answer replies to a message of `intent` with this decision: ANSWER
    (the item), CHOOSE (a numbered choice) or NONE ("cannot answer yet"). A question NLU is sure of
    (`QUESTION_INTENT`) gets the nearest topics even when none is close; scripts/eval_questions.py
    scores the same rule, so the evaluation cannot drift from what users get."""
    if decision.kind == ANSWER and decision.item is not None:
        return ANSWER
    if decision.kind == CHOOSE or (decision.options and intent == QUESTION_INTENT):
        return CHOOSE
    return NONE


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


def asks_for_money_if_needed(decision: Decision, question: str, ranked: Sequence[Ranked], settings: MatcherSettings) -> Decision:
    """`decision`, except when it offers a subsidy (as the answer or in a choice) to a message without a
    money word: the items other than the subsidies, scored as if no subsidy were meant, answer when
    one of them is then clear ("送外卖的社保自己咋交": paying it oneself); otherwise a subsidy answer
    becomes a choice between the close items, the subsidy among them, and a choice stays."""
    offers_a_subsidy = any(r.item.topic == MONEY_ITEM_TOPIC for r in decision.options) and decision.kind != NONE
    if not offers_a_subsidy or ASKS_ABOUT_MONEY.search(question or ""):
        return decision
    without = decide(without_subsidies(ranked), settings)
    if without.kind == ANSWER:
        return without
    if decision.item is None or decision.item.topic != MONEY_ITEM_TOPIC:
        return decision  # a choice stays the choice it was
    close = tuple(r for r in ranked[:MAX_OPTIONS] if r.score >= settings.choice_floor)
    return Decision(CHOOSE, close or (ranked[0],))


def without_subsidies(ranked: Sequence[Ranked]) -> List[Ranked]:
    """The ranking of the other items, their scores divided by the share the subsidies did not take
    (the classifier's belief given that no subsidy is meant; the off-topic share stays in)."""
    rest = [r for r in ranked if r.item.topic != MONEY_ITEM_TOPIC]
    left = 1.0 - sum(r.score for r in ranked if r.item.topic == MONEY_ITEM_TOPIC)
    if left <= 1e-6:
        return []
    return [Ranked(r.item, min(1.0, r.score / left)) for r in rest]


def names_subject(item: KnowledgeItem, text: str, synonyms: Sequence[Tuple[str, str]] = ()) -> bool:
    """The question, already normalised (`text`), carries one of the item's `key_terms` (read as the
    matcher reads them)."""
    return any(term and term in text for term in (normalise(t, synonyms) for t in item.key_terms))


def answers_the_named_subject(decision: Decision, question: str, synonyms: Sequence[Tuple[str, str]] = ()) -> Decision:
    """A choice becomes the answer when the question names the subject of the best item offered and
    of no other offered ("简历写一页还是两页" between the résumé and the interview item; "群面被刷了" with
    the interview item alone just under the threshold): that item then clearly covers the question.
    Naming two subjects, or only a lower item's, keeps the choice."""
    if decision.kind != CHOOSE or not decision.options:
        return decision
    text = normalise(question, synonyms)
    named = [option for option in decision.options if names_subject(option.item, text, synonyms)]
    if len(named) == 1 and named[0] is decision.options[0]:
        return Decision(ANSWER, (named[0],))
    return decision


def is_group_overview(item: KnowledgeItem) -> bool:
    """An item about one group's services as a whole (退役军人, 残疾人, 农民工): the group word in a
    message says who asks, not what is asked (docs/question_map.md, rule 7)."""
    return item.topic == GROUP_TOPIC and len(item.audience) == 1


def the_named_subject_over_the_group(
    decision: Decision, question: str, ranked: Sequence[Ranked], synonyms: Sequence[Tuple[str, str]] = ()
) -> Decision:
    """When a group's overview leads (answer or choice) and the message names the subject of exactly
    one other item near the top ("退役军人开修车铺 一次性创业补贴去哪申请": 一次性创业), that item is the
    answer: the group word only says who asks."""
    if decision.kind not in (ANSWER, CHOOSE) or not decision.options or not is_group_overview(decision.options[0].item):
        return decision
    text = normalise(question, synonyms)
    named = [
        r for r in ranked[1:NAMED_SUBJECT_DEPTH]
        if r.score >= NAMED_SUBJECT_FLOOR and not is_group_overview(r.item) and names_subject(r.item, text, synonyms)
    ]
    return Decision(ANSWER, (named[0],)) if len(named) == 1 else decision


def decide(ranked: Sequence[Ranked], settings: MatcherSettings) -> Decision:
    """ANSWER, CHOOSE between the close items, or NONE — which still carries the nearest items, so
    that a message NLU knows is a question can be offered them rather than nothing."""
    if not ranked or ranked[0].score <= 0:
        return Decision(NONE)
    best = ranked[0].score
    second = ranked[1].score if len(ranked) > 1 else 0.0
    if best >= settings.threshold and best - second >= settings.min_margin:
        return Decision(ANSWER, (ranked[0],))
    close = tuple(r for r in ranked[:MAX_OPTIONS] if r.score >= settings.choice_floor)
    return Decision(CHOOSE, close) if close else Decision(NONE, tuple(ranked[:MAX_OPTIONS]))


class ItemClassifier:
    """One class per knowledge item, trained on the items' texts (char n-grams + weighted e5)."""

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[int],
        synonyms: Sequence[Tuple[str, str]],
        embed_many: Optional[EmbedMany],
        settings: MatcherSettings,
    ) -> None:
        self.synonyms = tuple(synonyms)
        self.embed = embed_many if settings.dense_weight > 0 else None
        self.dense_weight = settings.dense_weight
        self.vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        self.vectorizer.fit([normalise(t, self.synonyms) for t in texts])
        self.model = LinearSVC(C=0.5, class_weight="balanced").fit(self.features(texts), list(labels))

    def features(self, texts: Sequence[str]) -> csr_matrix:
        sparse = self.vectorizer.transform([normalise(t, self.synonyms) for t in texts])
        if self.embed is None:
            return sparse
        return hstack([sparse, csr_matrix(np.asarray(self.embed(texts)) * self.dense_weight)]).tocsr()

    def margins(self, texts: Sequence[str]) -> np.ndarray:
        """(n, classes) margins, columns in `model.classes_` order."""
        raw = np.asarray(self.model.decision_function(self.features(texts)))
        if raw.ndim == 1:  # two classes: sklearn gives one margin per text
            raw = np.stack([-raw, raw], axis=1)
        return raw


def softmax(margins: np.ndarray, temperature: float) -> np.ndarray:
    z = margins / max(temperature, 1e-6)
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def training_rows(kb: KnowledgeBase, settings: MatcherSettings) -> Tuple[List[str], np.ndarray]:
    """The items' texts and owners; with `off_topic_class`, the off-topic calibration questions
    too, owned by one more class (index `len(kb.items)`) that stands for "decline"."""
    texts, owners = item_texts(kb.items)
    if settings.off_topic_class and kb.off_topic_calibration:
        texts = texts + list(kb.off_topic_calibration)
        owners = np.concatenate([owners, np.full(len(kb.off_topic_calibration), len(kb.items))])
    return texts, owners


def class_scores(classifier: ItemClassifier, texts: Sequence[str], n_items: int, temperature: float) -> np.ndarray:
    """(n, items) softmax scores; a row the off-topic class wins is all zeros (nothing to answer
    or offer), so the decision and the tuning treat it as "nothing close"."""
    probs = np.zeros((len(texts), n_items + 1))
    probs[:, classifier.model.classes_] = softmax(classifier.margins(texts), temperature)
    scores = probs[:, :n_items]
    scores[probs.argmax(axis=1) == n_items] = 0.0
    return scores


class Retriever:
    """Ranks a knowledge base's items for a question; without `embed_many`, char n-grams only."""

    def __init__(
        self,
        kb: KnowledgeBase,
        embed_many: Optional[EmbedMany] = None,
        settings: Optional[MatcherSettings] = None,
    ) -> None:
        self.kb = kb
        self.settings = settings or kb.settings
        if embed_many is None:
            self.settings = replace(self.settings, dense_weight=0.0)
        self.embed_many = embed_many
        self.texts, self.owners = training_rows(kb, self.settings)
        self.classifier = ItemClassifier(self.texts, self.owners, kb.synonyms, embed_many, self.settings)

    def with_settings(self, settings: MatcherSettings) -> "Retriever":
        """The same retriever deciding with other thresholds (the classifier is kept: same
        `dense_weight` required)."""
        if settings.dense_weight != self.settings.dense_weight:
            return Retriever(self.kb, self.embed_many, settings)
        twin = copy.copy(self)
        twin.settings = settings
        return twin

    def scores(self, questions: Sequence[str]) -> np.ndarray:
        """(n, items) scores in [0, 1], columns in the knowledge base's item order."""
        return class_scores(self.classifier, questions, len(self.kb.items), self.settings.temperature)

    def rank(self, question: str) -> List[Ranked]:
        return self.rank_many([question])[0]

    def rank_many(self, questions: Sequence[str]) -> List[List[Ranked]]:
        """`rank` of each question, scored in one call (each row is scored on its own)."""
        kept = [i for i, question in enumerate(questions) if normalise(question, self.kb.synonyms)]
        ranked: List[List[Ranked]] = [[] for _ in questions]
        if kept:
            for index, scores in zip(kept, self.scores([questions[i] for i in kept])):
                order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
                ranked[index] = [Ranked(self.kb.items[i], float(scores[i])) for i in order]
        return ranked

    def decide(self, question: str) -> Decision:
        return self.decide_many([question])[0]

    def decide_many(self, questions: Sequence[str]) -> List[Decision]:
        return [
            asks_for_money_if_needed(
                the_named_subject_over_the_group(
                    answers_the_named_subject(decide(ranked, self.settings), question, self.kb.synonyms),
                    question, ranked, self.kb.synonyms,
                ),
                question, ranked, self.settings,
            )
            for question, ranked in zip(questions, self.rank_many(questions))
        ]


# --- tuning ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """Calibration questions: the item each should reach (-1: must not be answered) and, per
    question, every item's score."""

    expect: np.ndarray
    scores: np.ndarray


def calibration(retriever: Retriever, questions: Iterable[Tuple[str, Optional[str]]]) -> Calibration:
    """The items' own texts, each scored by a classifier trained without its fold (k-fold), then
    the given (question, expected id or None) pairs scored by the full classifier."""
    kb = retriever.kb
    index = {item.id: i for i, item in enumerate(kb.items)}
    texts, owners = retriever.texts, retriever.owners
    folds = np.arange(len(texts)) % FOLDS
    scores = np.zeros((len(texts), len(kb.items)))
    for fold in range(FOLDS):
        train, test = folds != fold, folds == fold
        partial = ItemClassifier(
            [t for t, keep in zip(texts, train) if keep], owners[train], kb.synonyms,
            retriever.embed_many, retriever.settings,
        )
        scores[test] = class_scores(
            partial, [t for t, keep in zip(texts, test) if keep], len(kb.items), retriever.settings.temperature
        )
    pairs = list(questions)
    own = [int(o) if o < len(kb.items) else -1 for o in owners]  # an off-topic row must not be answered
    expect = own + [index[e] if e is not None else -1 for _, e in pairs]
    if pairs:
        scores = np.vstack([scores, retriever.scores([q for q, _ in pairs])])
    return Calibration(np.array(expect), scores)


CHOICE_FLOORS = tuple(f / 100 for f in range(5, 55, 5))


def grid_costs(scores: np.ndarray, expect: np.ndarray) -> Dict[Tuple[int, int, int], float]:
    """Cost for every (threshold, margin, choice floor) in hundredths.

    A wrong confident answer costs WRONG_COST. Not answering an answerable question costs 1, or 0.5
    when the numbered choice holds the right item (one more step for the user). A choice offered for
    a question that must not be answered costs OFF_TOPIC_CHOICE_COST (it should have been declined);
    "nothing close" for it costs nothing."""
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
            answerable, np.where(chosen & offered_right, 0.5, 1.0), np.where(chosen, OFF_TOPIC_CHOICE_COST, 0.0)
        )
        for t100 in range(15, 96, 3):
            for m100 in range(0, 50, 5):
                answered = (best >= t100 / 100) & (best - second >= m100 / 100)
                cost = WRONG_COST * np.sum(answered & ~correct) + np.sum(np.where(answered, 0.0, not_answered_cost))
                costs[(t100, m100, round(floor * 100))] = float(cost)
    return costs


def tune(
    kb: KnowledgeBase,
    embed_many: Optional[EmbedMany],
    questions: Sequence[Tuple[str, Optional[str]]],
) -> Tuple[MatcherSettings, float]:
    """The settings with the lowest cost on the calibration (`grid_costs`); on equal cost the
    stricter ones. An off-topic question offered a choice or answered is a wrong outcome."""
    weights = (0.0,) if embed_many is None else (1.0, 2.0, 3.0)
    off_topic = set(kb.off_topic_calibration)
    best: Optional[Tuple[float, Tuple[int, int, int, float, float, float], MatcherSettings]] = None
    for off_class in (0.0, 1.0):
        # with the off-topic class, its questions are k-fold rows of the calibration, not extra ones
        pairs = [(q, e) for q, e in questions if not (off_class and e is None and q in off_topic)]
        for weight in weights:
            for temperature in (0.3, 0.5, 1.0):
                candidate = replace(kb.settings, dense_weight=weight, temperature=temperature, off_topic_class=off_class)
                cal = calibration(Retriever(kb, embed_many, candidate), pairs)
                for (t100, m100, f100), cost in grid_costs(cal.scores, cal.expect).items():
                    key = (cost, (-t100, -m100, -f100, off_class, weight, temperature))
                    if best is None or key < best[:2]:
                        best = (cost, key[1], replace(
                            candidate, threshold=t100 / 100, min_margin=m100 / 100, choice_floor=f100 / 100
                        ))
    assert best is not None
    return best[2], best[0]
