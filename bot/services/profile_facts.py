"""Facts about the user in any message, as NLU entities: age, graduation year, identity, 学历,
school and the school's city ("我去年毕业的，山师的，今年24" → graduation_year, school, city, age).

`bot/nlu/fact_components.py` adds these to every parse; domain.yml maps them to slots, so a form
never asks for what the user already said. Reading the words is `eligibility_facts.parse_facts`
(relative to the day: 去年, 25届, 大三) and `schools.find_school`; this module only turns them
into entities with a span.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, Iterable, List, Mapping, Optional

from bot.services.eligibility import EligibilityRules
from bot.services.eligibility_facts import Facts, parse_facts
from bot.services.schools import find_school

# Entity types this module decides; another extractor's guesses of these are replaced.
FACT_ENTITIES = ("age", "graduation_year", "identity", "education")
SCHOOL_ENTITY = "school"
CITY_ENTITY = "city"
EXTRACTOR = "ProfileFactExtractor"
_GRADUATION_WORDS = re.compile(r"毕业|届|大[一二三四]|研[一二三]|毕业班")
# Whose facts: someone else's ("我儿子去年毕业"), the writer's ("我失业了，失业金怎么领"), or a
# topic rather than a person ("失业金怎么领", "2025届毕业生有什么政策").
_SOMEONE_ELSE = re.compile(r"他|她|孩子|儿子|女儿|闺女|朋友|同学|家人|亲戚|老公|老婆|爱人|弟弟|妹妹|哥哥|姐姐")
_FIRST_PERSON = re.compile(r"我|俺|咱|本人|自己")
_TOPIC = re.compile(r"附近|周边|旁边|政策|补贴|失业金|失业保险|失业登记|待遇|有哪些|有什么|怎么|如何|多少钱|在哪")


def _span(text: str, *words: Optional[str]) -> tuple:
    """Where the first of `words` occurs in the text; the whole message when none does."""
    for word in words:
        if word:
            start = text.find(word)
            if start >= 0:
                return start, start + len(word)
    return 0, len(text)


def speaks_of_self(text: str) -> bool:
    """Whether the facts in `text` are the writer's own (see the patterns above)."""
    if _SOMEONE_ELSE.search(text):
        return False
    return bool(_FIRST_PERSON.search(text)) or not _TOPIC.search(text)


def _entity(kind: str, value: Any, start: int, end: int) -> Dict[str, Any]:
    return {"entity": kind, "value": str(value), "start": start, "end": end, "extractor": EXTRACTOR}


def _fact_entities(text: str, facts: Facts) -> List[Dict[str, Any]]:
    found: List[Dict[str, Any]] = []
    if facts.age is not None:
        found.append(_entity("age", facts.age, *_span(text, f"{facts.age}岁", str(facts.age))))
    if facts.graduation_year is not None:
        year = facts.graduation_year
        found.append(_entity("graduation_year", year, *_span(text, str(year), str(year)[2:] + "届", "毕业")))
    if facts.identity and not facts.identity_inferred:
        # an identity read from a graduation year alone is a guess: the form still asks for it
        found.append(_entity("identity", facts.identity, *_span(text, facts.identity)))
    if facts.education:
        found.append(_entity("education", facts.education, *_span(text, facts.education)))
    return found


def fact_entities(
    text: str, today: date, rules: EligibilityRules, entities: Iterable[Mapping[str, Any]] = ()
) -> List[Dict[str, Any]]:
    """The message's entities with the profile facts decided here: other extractors' age, identity,
    education and graduation-year guesses replaced by ours (none when the facts are not the
    writer's own), a known school named officially, and the school's city added when the message
    names no city."""
    entities = [dict(e) for e in entities]
    text = str(text or "")
    own = speaks_of_self(text)
    kept = [e for e in entities if e.get("entity") not in FACT_ENTITIES]
    if own:
        kept += _fact_entities(text, parse_facts(text, today, rules, entities))
    mention = find_school(text)
    if mention is None:
        return kept
    if own:  # "我是山师的"; "山大附近的服务点" names a place only
        kept = [e for e in kept if e.get("entity") != SCHOOL_ENTITY]
        kept.append(_entity(SCHOOL_ENTITY, mention.school.name, mention.start, mention.end))
    if not any(e.get("entity") == CITY_ENTITY for e in kept):
        kept.append(_entity(CITY_ENTITY, mention.school.city, mention.start, mention.end))
    return kept


def graduation_year_answer(text: str, today: date, rules: EligibilityRules) -> Optional[int]:
    """The year in an answer to "哪一年毕业": "2025", "25届", "去年", "明年", "大三"."""
    text = str(text or "").strip()
    asked = text if _GRADUATION_WORDS.search(text) else f"{text}毕业"
    return parse_facts(asked, today, rules).graduation_year
