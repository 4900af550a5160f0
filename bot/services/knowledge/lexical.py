"""Character n-gram matching of a question against every item's title and variants.

Character 1–3-grams (TF-IDF, sublinear tf) need no word segmentation and cope with the short,
colloquial questions people type in WeChat ("失业金咋领"). An item's score is its best cosine
similarity with any of its texts. Filler words ("请问一下…吗", "…需要什么") are removed first:
measured, leave-one-out top-1 on the variants went from 84/113 to 93/113 with them removed.
"""
from __future__ import annotations

import re
import unicodedata
from typing import List, Sequence, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.services.knowledge.base import KnowledgeItem

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


def item_texts(items: Sequence[KnowledgeItem]) -> Tuple[List[str], np.ndarray]:
    """Every item's title and variants, with the index of the item each belongs to."""
    texts: List[str] = []
    owners: List[int] = []
    for index, item in enumerate(items):
        for text in (item.title, *item.variants):
            texts.append(text)
            owners.append(index)
    return texts, np.array(owners)


class LexicalIndex:
    """Per-item lexical scores (best cosine over the item's texts) for a question."""

    def __init__(self, items: Sequence[KnowledgeItem], synonyms: Sequence[Tuple[str, str]] = ()) -> None:
        self.size = len(items)
        self.synonyms = tuple(synonyms)
        texts, owners = item_texts(items)
        self.owners = owners  # a text that normalises to nothing keeps an all-zero row
        self._vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        self._matrix = self._vectorizer.fit_transform([normalise(t, self.synonyms) for t in texts])

    def text_scores(self, question: str) -> np.ndarray:
        """Cosine with every indexed text (rows are L2-normalised)."""
        norm = normalise(question, self.synonyms)
        if not norm:
            return np.zeros(self._matrix.shape[0])
        return (self._matrix @ self._vectorizer.transform([norm]).T).toarray().ravel()

    def item_scores(self, question: str) -> np.ndarray:
        return best_per_owner(self.text_scores(question), self.owners, self.size)


def best_per_owner(text_scores: np.ndarray, owners: np.ndarray, size: int, floor: float = 0.0) -> np.ndarray:
    """Each item's best score over its texts (`floor` for an item with no text)."""
    best = np.full(size, floor)
    if len(text_scores):
        np.maximum.at(best, owners, text_scores)
    return best
