"""How a camp enrolment form answer is read: an identity (a number from the list, a name, words),
a graduation year, a Shandong city. Plain parsing, no Rasa; `actions/camp.py` uses it."""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any, Optional, Tuple

from bot.language.time_parser import cn_to_int
from bot.services.eligibility import load_rules
from bot.services.eligibility_facts import IDLE, QUESTION_WORD, birth_year_match, identity_in_text, parse_facts
from bot.language.places import all_place_surface_forms, normalize_place
from bot.services.geo import CITIES
from bot.services.schools import find_school

# The 16 cities' short names ("济南"), from the one division table, in its order.
SHANDONG_CITIES = tuple(name[:-1] for name in CITIES)


def first_number(text: Any) -> Optional[int]:
    """The first number in `text`, in digits or Chinese numerals ("二十三岁" as people type an age)."""
    match = re.search(r"\d+", str(text or "")) or re.search(r"[一二三四五六七八九十]{1,3}", str(text or ""))
    return cn_to_int(match.group()) if match else None


AGES = (10, 70)  # what the age question takes; anything else is no age


def parse_age(text: Any, today: date) -> Optional[int]:
    """The age answered: "22", "二十二", "22岁了", "俺今年22", or a birth year ("00年的", "2003年出生")."""
    value = str(text or "")
    age = parse_facts(value, today, load_rules()).age
    if age is None and birth_year_match(value, today) is None:
        age = first_number(value)
    return age if age is not None and AGES[0] <= age <= AGES[1] else None


def parse_identity(text: Any, today: Optional[date] = None) -> Optional[str]:
    """The identity answered: a number from the list, a name on it, or words ("没工作"). Given the
    day, words of no job said with a graduation are a graduate's ("去年毕业的 木找着工作")."""
    value = str(text or "").strip()
    rules = load_rules()
    choices = list(rules.identities)
    if re.fullmatch(r"\d{1,2}", value):
        index = int(value) - 1
        return choices[index] if 0 <= index < len(choices) else None
    named = identity_in_text(value, choices)
    if today is None or (named is not None and named in value):  # an identity named as such stays as said
        return named
    return parse_facts(value, today, rules).identity or named


# An identity described rather than named is longer ("去年毕业的 木找着工作", "在家闲着 木干啥"); a
# longer message is about something else
IDENTITY_ANSWER_MAX_CHARS = 14


def is_identity_answer(text: str) -> bool:
    """The whole message names or describes an identity ("应届毕业生", "我是在校生", "刚辞职",
    "在家闲着 木干啥"), not just contains a word of one ("失业金怎么领" mentions 失业 and is a question)."""
    value = re.sub(r"^(我是|我现在是|现在是|是)", "", text.strip()).rstrip("。.!！")
    if value in load_rules().identities:
        return True
    asks = QUESTION_WORD.search(IDLE.sub("", value))  # "木干啥" says idle, it asks nothing
    return len(value) <= IDENTITY_ANSWER_MAX_CHARS and not asks and identity_in_text(value) is not None


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


def parse_city_answer(text: Any) -> Optional[str]:
    """The city answered to "哪个城市": a city named ("俺在淄博张店"), else the city of a district or
    county said alone ("黄岛区这边", "俺在章丘", "寿光"). Only for that answer: elsewhere a district's
    short name may be part of a person's name ("王东平")."""
    city = parse_city(text)
    if city is None:
        found, _ = normalize_place(str(text or ""))
        city = parse_city(found)
    return city


# The words around a place in an answer to "哪个城市" ("俺在…这边", "…的"); anything else makes the
# message more than a place ("济南附近有服务点吗")
_PLACE_FILLER = re.compile(r"[俺我咱在住家是的这那边儿里呢啊吧哈呀,，。.!！\s]")


@lru_cache(maxsize=1)
def _place_forms() -> "re.Pattern[str]":
    forms = [f for kind in all_place_surface_forms().values() for f in kind]
    return re.compile("|".join(re.escape(f) for f in sorted(set(forms), key=len, reverse=True)))


def only_a_place(text: str) -> bool:
    """The message says where the user is and nothing else ("俺在淄博张店", "青岛黄岛区这边")."""
    rest = _place_forms().sub("", str(text or ""))
    return parse_city_answer(text) is not None and not _PLACE_FILLER.sub("", rest)


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
