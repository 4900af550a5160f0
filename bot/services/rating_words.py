"""Reading a satisfaction rating from what a user types on a phone: "5", "5分", "五星", "4 老师很耐心",
"非常满意", "不满意，等太久了". Plain text helpers, no Redis.

Only ever asked while a rating request is pending (bot/services/satisfaction.py): then a bare "5"
is a score. Anything that merely starts with a digit ("5月份有招聘会吗", "3号能预约吗") is not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

MAX_SCORE = 5
COMMENT_MAX_CHARS = 200

_NUMERALS = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")

# a score: optional lead-in (打/给/评), a numeral, an optional unit; then the end or a separator
_SCORE = re.compile(
    r"^(?:我?(?:打|给|评)(?:个)?)?\s*(?P<n>[1-5一二两三四五])"
    r"(?:\s*(?P<unit>分|颗星星|颗星|星星|星))?(?P<extra>好评|满分)?(?P<rest>.*)$",
    re.S,
)
# after a unit the comment may follow directly ("5分老师很耐心"), but not a longer word ("5分钟", "3星期")
_NOT_A_UNIT = ("钟", "期", "座")
_MEASURE_WORDS = ("个", "号", "月", "点", "天", "岁", "年", "块", "元", "份", "位", "次", "小时", "周", "场", "家")
# words alone, longest first so that "非常不满意" is not read as "满意"
_WORDS = (
    ("非常不满意", 1), ("很不满意", 1), ("特别不满意", 1), ("太差了", 1), ("太差", 1), ("很差", 1), ("差评", 1),
    ("不太满意", 2), ("不满意", 2), ("不怎么样", 2), ("比较差", 2),
    ("一般般", 3), ("一般", 3), ("还行吧", 3), ("还行", 3), ("凑合", 3), ("马马虎虎", 3),
    ("比较满意", 4), ("挺满意", 4), ("还不错", 4), ("满意", 4),
    ("非常满意", 5), ("很满意", 5), ("特别满意", 5), ("十分满意", 5), ("超级满意", 5), ("太满意了", 5),
    ("好评", 5), ("非常好", 5), ("很好", 5),
)
_WORDS_BY_LENGTH = sorted(_WORDS, key=lambda pair: -len(pair[0]))
_PARTICLES = ("了", "的", "啊", "呀", "吧", "哦", "哈")
_SEPARATORS = " \t\r\n,，。.!！、;；~～:："


@dataclass(frozen=True)
class ParsedRating:
    score: int
    comment: str = ""
    bare: bool = False  # a numeral alone ("5"): could as well answer a numbered list


    @property
    def low(self) -> bool:
        return self.score <= 2


def parse_rating(text: str) -> Optional[ParsedRating]:
    """The score (1–5) and the words after it, or None when the message is not a rating."""
    cleaned = (text or "").translate(_FULL_WIDTH).strip()
    if not cleaned:
        return None
    match = _SCORE.match(cleaned)
    if match and _ends_score(match):
        comment = clean_comment(match.group("rest").lstrip("".join(_PARTICLES)))
        bare = not (match.group("unit") or match.group("extra") or comment)
        return ParsedRating(_NUMERALS[match.group("n")], comment, bare)
    for word, score in _WORDS_BY_LENGTH:
        if cleaned.startswith(word):
            rest = cleaned[len(word):]
            # "满意度怎么查" is a question that happens to start with a satisfaction word
            if rest and rest[0] not in _SEPARATORS and not rest.startswith(_PARTICLES):
                return None
            return ParsedRating(score, clean_comment(rest.lstrip("".join(_PARTICLES))))
    return None


def _ends_score(match: "re.Match[str]") -> bool:
    """The numeral stands alone: the message ends, a separator follows, or a unit ends it."""
    rest = match.group("rest")
    if not rest:
        return True
    if rest[0] in _SEPARATORS:
        # "5 个岗位", "3 号能约吗": a number with its measure word, typed with a space
        return not rest.lstrip(_SEPARATORS).startswith(_MEASURE_WORDS)
    return bool(match.group("unit") or match.group("extra")) and not rest.startswith(_NOT_A_UNIT)


def clean_comment(text: str) -> str:
    """The comment as kept: separators trimmed, cut to a sane length (the caller masks phones)."""
    return (text or "").strip(_SEPARATORS)[:COMMENT_MAX_CHARS]
