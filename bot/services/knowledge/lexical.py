"""The text the item classifier's character n-grams see, and the texts it is trained on.

Filler words ("请问一下…吗", "…需要什么") are removed and synonyms unified first: measured with the
earlier nearest-neighbour matcher, leave-one-out top-1 on the variants went from 84/113 to 93/113
with the fillers removed.
"""
from __future__ import annotations

import re
import unicodedata
from typing import List, Sequence, Tuple

import numpy as np

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
