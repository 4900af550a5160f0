"""Policy and service answers from the curated FAQ (data/knowledge/policy.yml), never from anywhere else.

Matching: character 1–3-gram TF-IDF (sublinear tf) over every question variant and the item
title; a question's score for an item is the best cosine similarity with any of its variants.
Character n-grams need no word segmentation and cope with the short, colloquial questions
people type in WeChat ("失业金咋领").

Confidence: an answer is given only when the best score reaches `threshold` AND beats the
second-best item by `min_margin` (two close items, e.g. 就业登记 vs 失业登记, mean "not sure");
otherwise the bot says it is not sure, names the closest topics and offers a counsellor.
Both values are chosen from data, not by feel: `scripts/eval_policy.py --tune` asks every
variant of a matcher built without it (leave-one-out) plus the off-topic calibration questions,
and grid-searches the pair with the lowest cost, where a wrong confident answer costs 3 times a
"not sure" (at the chosen point that is ≥ 92 % precision on this pessimistic calibration set).
The held-out set (tests/policy_heldout.yml) is only used to report, never to tune.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.settings import PROJECT_ROOT

FAQ_PATH = PROJECT_ROOT / "data" / "knowledge" / "policy.yml"
DEFAULT_THRESHOLD = 0.41
DEFAULT_MARGIN = 0.12
WRONG_COST = 3.0
SUGGEST_MIN = 0.35  # below this a topic is too far off to suggest

# Words that carry no topic: removing them keeps "请问一下…吗" and "…需要什么材料" from making an
# unrelated question look like a FAQ variant. Measured: leave-one-out top-1 on the variants went
# from 84/113 to 93/113 and the chosen threshold from 0.63 to 0.45 (scripts/eval_policy.py).
_FILLERS = (
    "请问一下", "请问", "问一下", "我想问", "想问问", "想咨询", "咨询一下", "你好", "您好",
    "我想知道", "想了解", "了解一下", "告诉我", "麻烦", "谢谢",
)
_GENERIC = re.compile(
    r"怎么办|怎么样|怎么|怎样|如何|什么样|什么|哪些|哪里|哪儿|在哪|去哪|多少|可不可以|可以"
    r"|能不能|能否|(?<![技职功可])能|需要|要不要|应该|有没有|是不是|一下|[吗呢呀啊吧哈嘛哦啦的了我你是有想还给不]"
)
_PUNCT = re.compile(r"[\s，。！？、,.!?~～…:：;；\"'“”‘’()（）【】《》\-]+")


def normalise(text: str, synonyms: Sequence[Tuple[str, str]] = ()) -> str:
    """Canonical text for matching: NFKC, lower case, synonyms unified, filler words removed."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _PUNCT.sub("", text)
    for filler in _FILLERS:
        text = text.replace(filler, "")
    for alias, canonical in synonyms:
        text = text.replace(alias, canonical)
    return _GENERIC.sub("", text)


@dataclass(frozen=True)
class FaqItem:
    id: str
    title: str
    variants: Tuple[str, ...]
    answer: str
    source: str
    last_reviewed: str
    review_note: str = ""


@dataclass(frozen=True)
class PolicyMatch:
    item: Optional[FaqItem]  # the best item, even when not confident
    score: float
    confident: bool
    alternatives: Tuple[Tuple[FaqItem, float], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Faq:
    items: Tuple[FaqItem, ...]
    threshold: float
    min_margin: float
    hotline: str
    off_topic_calibration: Tuple[str, ...]
    synonyms: Tuple[Tuple[str, str], ...] = ()


def load_faq(path: Path = FAQ_PATH) -> Faq:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    defaults = raw.get("defaults") or {}
    items = []
    for entry in raw["items"]:
        for required in ("id", "title", "variants", "answer", "source", "last_reviewed"):
            if not entry.get(required):
                raise ValueError(f"FAQ item {entry.get('id')!r} lacks {required}")
        items.append(
            FaqItem(
                id=str(entry["id"]),
                title=str(entry["title"]),
                variants=tuple(str(v) for v in entry["variants"]),
                answer="".join(str(entry["answer"]).split()),  # Chinese: no spaces
                source=str(entry["source"]),
                last_reviewed=str(entry["last_reviewed"]),
                review_note=str(entry.get("review_note") or defaults.get("review_note") or ""),
            )
        )
    if len({i.id for i in items}) != len(items):
        raise ValueError("FAQ ids must be unique")
    matcher = raw.get("matcher") or {}
    return Faq(
        items=tuple(items),
        threshold=float(matcher.get("threshold", DEFAULT_THRESHOLD)),
        min_margin=float(matcher.get("min_margin", DEFAULT_MARGIN)),
        hotline=str(defaults.get("hotline", "12333")),
        off_topic_calibration=tuple(str(q) for q in raw.get("off_topic_calibration") or ()),
        synonyms=_synonym_pairs(raw.get("synonyms") or {}),
    )


def _synonym_pairs(table: Dict[str, Sequence[str]]) -> Tuple[Tuple[str, str], ...]:
    """(alias, canonical) pairs, longest alias first so that 主动离职 wins over 离职."""
    pairs = [(str(a), str(c)) for c, aliases in table.items() for a in aliases if str(a) != str(c)]
    return tuple(sorted(pairs, key=lambda p: (-len(p[0]), p[0])))


class PolicyMatcher:
    """Ranks FAQ items for a question; `match()` adds the confidence decision."""

    def __init__(
        self,
        items: Sequence[FaqItem],
        threshold: float = DEFAULT_THRESHOLD,
        synonyms: Sequence[Tuple[str, str]] = (),
        min_margin: float = DEFAULT_MARGIN,
    ) -> None:
        self.items = list(items)
        self.threshold = threshold
        self.min_margin = min_margin
        self.synonyms = tuple(synonyms)
        texts: List[str] = []
        owners: List[int] = []
        for index, item in enumerate(self.items):
            for text in (item.title, *item.variants):
                norm = normalise(text, self.synonyms)
                if norm:
                    texts.append(norm)
                    owners.append(index)
        self._owners = np.array(owners)
        self._vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1
        )
        self._matrix = self._vectorizer.fit_transform(texts)

    def rank(self, question: str) -> List[Tuple[FaqItem, float]]:
        """All items, best first, with their scores (max cosine over the item's variants)."""
        norm = normalise(question, self.synonyms)
        if not norm:
            return [(item, 0.0) for item in self.items]
        vec = self._vectorizer.transform([norm])
        sims = (self._matrix @ vec.T).toarray().ravel()  # rows are L2-normalised: cosine
        best = np.zeros(len(self.items))
        np.maximum.at(best, self._owners, sims)
        order = sorted(range(len(self.items)), key=lambda i: (-best[i], i))
        return [(self.items[i], float(best[i])) for i in order]

    def match(self, question: str) -> PolicyMatch:
        ranked = self.rank(question)
        top, score = ranked[0]
        margin = score - (ranked[1][1] if len(ranked) > 1 else 0.0)
        return PolicyMatch(
            item=top if score > 0 else None,
            score=score,
            confident=score >= self.threshold and margin >= self.min_margin,
            alternatives=tuple(ranked[1:3]),
        )


@lru_cache(maxsize=4)
def default_matcher(path: Path = FAQ_PATH) -> PolicyMatcher:
    faq = load_faq(path)
    return PolicyMatcher(faq.items, faq.threshold, faq.synonyms, faq.min_margin)


def choose_threshold(
    scored: Iterable[Tuple[bool, bool, float, float]], wrong_cost: float = WRONG_COST
) -> Tuple[float, float, Dict[str, float]]:
    """Pick (threshold, min_margin) with the lowest cost on calibration results.

    `scored` holds (on_topic, top1_correct, score, margin over the second item) per calibration
    question. Answering costs nothing when correct and `wrong_cost` when wrong (wrong item, or
    any answer to an off-topic question); "not sure" costs 1 for an on-topic question and
    nothing for an off-topic one. Grid: thresholds 0.20–0.89 and margins 0.00–0.38 in steps of
    0.01 / 0.02; on equal cost the stricter pair wins (caution).
    """
    rows = list(scored)
    best: Optional[Tuple[float, float, float]] = None  # cost, -t, -m
    for t100 in range(20, 90):
        for m100 in range(0, 40, 2):
            t, m = t100 / 100, m100 / 100
            cost = 0.0
            for on_topic, correct, s, gap in rows:
                if s >= t and gap >= m:
                    cost += 0.0 if (on_topic and correct) else wrong_cost
                elif on_topic:
                    cost += 1.0
            key = (cost, -t, -m)
            if best is None or key < best:
                best = key
    assert best is not None
    return -best[1], -best[2], {"cost": best[0], "n": float(len(rows))}


def leave_one_out(
    items: Sequence[FaqItem], synonyms: Sequence[Tuple[str, str]] = ()
) -> List[Tuple[bool, bool, float, float]]:
    """Each variant asked of a matcher built without it: (True, correct, score, margin)."""
    out = []
    for i, item in enumerate(items):
        for j, variant in enumerate(item.variants):
            reduced = list(items)
            reduced[i] = FaqItem(
                item.id, item.title, item.variants[:j] + item.variants[j + 1 :], item.answer,
                item.source, item.last_reviewed,
            )
            ranked = PolicyMatcher(reduced, synonyms=synonyms).rank(variant)
            out.append(
                (True, ranked[0][0].id == item.id, ranked[0][1], ranked[0][1] - ranked[1][1])
            )
    return out


# --- replies ---------------------------------------------------------------------------------


def answer_text(item: FaqItem, hotline: str = "12333") -> str:
    """The answer with where to confirm it; fits a WeChat passive reply."""
    reviewed = item.last_reviewed
    try:
        d = date.fromisoformat(reviewed)
        reviewed = f"{d.year}年{d.month}月{d.day}日"
    except ValueError:
        pass
    hotline_note = "" if hotline in item.source else f"；也可拨打{hotline}人社服务热线"
    return (
        f"【{item.title}】{item.answer}\n"
        f"请以官方为准，办理前可向这里确认：{item.source}{hotline_note}。"
        f"（本条信息整理于{reviewed}）"
    )


def not_sure_text(match: PolicyMatch, hotline: str = "12333") -> str:
    lines = ["这个问题我不太确定，怕说错误导您。"]
    suggestions = [i.title for i, s in ((match.item, match.score), *match.alternatives) if i and s >= SUGGEST_MIN]
    if suggestions:
        lines.append("您是不是想问：" + "、".join(f"“{t}”" for t in suggestions[:3]) + "？可以换个说法再问我。")
    lines.append(f"也可以说“转人工”请职业指导师解答，或拨打{hotline}人社服务热线咨询。")
    return "\n".join(lines)
