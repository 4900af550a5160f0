"""How a camp enrolment form answer is read: an identity (a number from the list, a name, words),
a graduation year, a Shandong city. Plain parsing, no Rasa; `actions/camp.py` uses it."""
from __future__ import annotations

import re
from typing import Any, Optional, Tuple

from bot.language.time_parser import cn_to_int
from bot.services.eligibility import load_rules
from bot.services.eligibility_facts import QUESTION_WORD, identity_in_text
from bot.services.geo import CITIES
from bot.services.schools import find_school

# The 16 cities' short names ("济南"), from the one division table, in its order.
SHANDONG_CITIES = tuple(name[:-1] for name in CITIES)


def first_number(text: Any) -> Optional[int]:
    """The first number in `text`, in digits or Chinese numerals ("二十三岁" as people type an age)."""
    match = re.search(r"\d+", str(text or "")) or re.search(r"[一二三四五六七八九十]{1,3}", str(text or ""))
    return cn_to_int(match.group()) if match else None


def parse_identity(text: Any) -> Optional[str]:
    """The identity answered: a number from the list, a name on it, or words ("没工作")."""
    value = str(text or "").strip()
    choices = list(load_rules().identities)
    if re.fullmatch(r"\d{1,2}", value):
        index = int(value) - 1
        return choices[index] if 0 <= index < len(choices) else None
    return identity_in_text(value, choices)


def is_identity_answer(text: str) -> bool:
    """The whole message names an identity ("应届毕业生", "我是在校生"), not just contains a word
    of one ("失业金怎么领" mentions 失业 and is a question)."""
    value = re.sub(r"^(我是|我现在是|现在是|是)", "", text.strip()).rstrip("。.!！")
    if value in load_rules().identities:
        return True
    return len(value) <= 6 and not QUESTION_WORD.search(value) and identity_in_text(value) is not None


def parse_year(text: Any, current: int) -> Optional[int]:
    value = str(text or "")
    match = re.search(r"(19|20)\d{2}", value)
    if match:
        year = int(match.group())
    else:
        short = re.fullmatch(r"\s*(\d{2})\s*届?\s*", value)
        if not short:
            return None
        year = 2000 + int(short.group(1))
    return year if current - 30 <= year <= current + 6 else None


def parse_city(text: Any) -> Optional[str]:
    value = str(text or "")
    return next((c for c in SHANDONG_CITIES if c in value), None)


# what joins a school and the major said after it ("潍坊学院 汉语言文学", "济南大学，学的会计专业")
_MAJOR_LEAD = re.compile(r"^[\s，,、。;；]*(?:学的是|读的是|专业是|的|学的|学|读的|念的|专业)?[\s:：]*")
_NOT_A_MAJOR = re.compile(r"[没不在是了呢吗么我俺他她]|毕业|上学|读书|大[一二三四]|研[一二三]")
_MAJOR_TAIL = re.compile(r"(?:专业)?[的吧啊呀。！!\s]*$")


def school_and_major(text: str) -> Tuple[str, Optional[str]]:
    """A school answer that names the major after a known school: (school words, major); else (text, None)."""
    text = str(text or "").strip()
    mention = find_school(text)
    if mention is None or mention.start > 2:
        return text, None
    rest = _MAJOR_TAIL.sub("", _MAJOR_LEAD.sub("", text[mention.end:], count=1))
    if not 2 <= len(rest) <= 20 or not re.fullmatch(r"[\u4e00-\u9fa5A-Za-z（）()·]+", rest) or _NOT_A_MAJOR.search(rest):
        return text, None
    return text[:mention.end].strip(), rest
