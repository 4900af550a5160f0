"""Facts about the user in any message, as NLU entities: age, graduation year, identity, 学历,
school and the school's city, the trade they want to do ("我去年毕业的，山师的，今年24" → graduation_year, school, city, age).

`bot/rasa_server/fact_components.py` adds these to every parse; domain.yml maps them to slots, so a form
never asks for what the user already said. Reading the words is `eligibility_facts.parse_facts`
(relative to the day: 去年, 25届, 大三) and `schools.find_school`; this module only turns them
into entities with a span.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, Iterable, List, Mapping, Optional, Pattern, Tuple

from bot.services.eligibility import EligibilityRules
from bot.language.time_parser import cn_to_int
from bot.services.eligibility_facts import (
    AGE_BARE,
    AGE_WITH_UNIT,
    EDUCATION_PATTERNS,
    GRADE,
    IDENTITY_PATTERNS,
    JUST_GRADUATED,
    RELATIVE_YEAR,
    YEAR_GRADUATED,
    YEARS_SINCE,
    Facts,
    birth_year_match,
    parse_facts,
)
from bot.services.schools import find_school
from bot.services.trades import trade_of_interest

# Entity types this module decides; another extractor's guesses of these are replaced.
FACT_ENTITIES = ("age", "graduation_year", "identity", "education")
SCHOOL_ENTITY = "school"
CITY_ENTITY = "city"
TRADE_ENTITY = "trade"  # the trade the writer wants to do ("想干电工", "学电商"): bot/services/trades.py
EXTRACTOR = "ProfileFactExtractor"
_GRADUATION_WORDS = re.compile(r"毕业|届|大[一二三四]|研[一二三]|毕业班")
# Whose facts: someone else's ("我儿子去年毕业"), the writer's ("我失业了，失业金怎么领"), or a
# topic rather than a person ("失业金怎么领", "2025届毕业生有什么政策").
_SOMEONE_ELSE = re.compile(r"他|她|孩子|儿子|女儿|闺女|朋友|同学|家人|亲戚|老公|老婆|爱人|弟弟|妹妹|哥哥|姐姐")
_FIRST_PERSON = re.compile(r"我|俺|咱|本人|自己")
_TOPIC = re.compile(r"附近|周边|旁边|政策|补贴|失业金|失业保险|失业登记|待遇|有哪些|有什么|怎么|如何|多少钱|在哪")


def _match_span(text: str, patterns: Iterable[Pattern[str]], group: int = 0) -> Optional[Tuple[int, int]]:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return match.span(group)
    return None


def _spans(text: str, facts: Facts, today: date) -> Dict[str, Tuple[int, int]]:
    """Where each fact is said (the words that state it), for entity offsets; the whole message
    when it was put together from several places."""
    whole = (0, len(text))
    age = None
    if facts.age is not None:
        age = next((m.span(1) for p in (AGE_WITH_UNIT, AGE_BARE) for m in p.finditer(text)
                    if cn_to_int(m.group(1)) == facts.age), None)
        born = birth_year_match(text, today) if age is None else None
        age = born.span() if born else age
    named = text.find(facts.identity) if facts.identity else -1
    identity = (named, named + len(str(facts.identity))) if named >= 0 else _match_span(
        text, (pattern for pattern, _ in IDENTITY_PATTERNS))
    education = _match_span(text, (p for p, value in EDUCATION_PATTERNS if value == facts.education))
    year = _match_span(text, (YEAR_GRADUATED, RELATIVE_YEAR, YEARS_SINCE, JUST_GRADUATED, GRADE))
    return {"age": age or whole, "identity": identity or whole, "education": education or whole,
            "graduation_year": year or whole}


def speaks_of_self(text: str) -> bool:
    """Whether the facts in `text` are the writer's own (see the patterns above)."""
    if _SOMEONE_ELSE.search(text):
        return False
    return bool(_FIRST_PERSON.search(text)) or not _TOPIC.search(text)


def _entity(kind: str, value: Any, start: int, end: int) -> Dict[str, Any]:
    return {"entity": kind, "value": str(value), "start": start, "end": end, "extractor": EXTRACTOR}


def _fact_entities(text: str, facts: Facts, others: List[Dict[str, Any]], today: date) -> List[Dict[str, Any]]:
    values = {
        "age": facts.age, "graduation_year": facts.graduation_year, "education": facts.education,
        # an identity read from a graduation year alone is a guess: the form still asks for it
        "identity": None if facts.identity_inferred else facts.identity,
    }
    spans = _spans(text, facts, today)
    for other in others:  # another extractor that found the same fact knows its words better ("应届生")
        kind = other.get("entity")
        if kind in values and str(other.get("value")) == str(values[kind]) and other.get("start") is not None:
            spans[kind] = (other["start"], other["end"])
    return [_entity(kind, value, *spans[kind]) for kind, value in values.items() if value is not None]


def _plausible(entity: Mapping[str, Any], text: str) -> bool:
    """Not another extractor's age that is a year ("24届", "22年毕业")."""
    end = entity.get("end")
    return not (entity.get("entity") == "age" and isinstance(end, int) and text[end:end + 1] in ("届", "年"))


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
    kept = [e for e in entities if e.get("entity") not in FACT_ENTITIES + (TRADE_ENTITY,)]
    if own:
        guesses = [e for e in entities if e.get("entity") in FACT_ENTITIES and _plausible(e, text)]
        kept += _fact_entities(text, parse_facts(text, today, rules, guesses), guesses, today)
        trade = trade_of_interest(text)
        if trade:
            kept.append(_entity(TRADE_ENTITY, *trade))
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
