"""What a message says about the facts the 实训营 rules look at: identity, age, graduation year,
学历 and whether the writer has a job ("俺35了还能报不", "大专毕业两年了能参加不", "我大四").

Plain text in, `Facts` out, relative to the day given (去年, 毕业两年, 大三 move with the calendar).
Nothing here decides eligibility (that is `bot.services.eligibility`); a fact the message does not
state stays None, so that a question is answered from what was said and nothing is assumed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence

from bot.language.time_parser import cn_to_int
from bot.services.eligibility import EligibilityRules, employment, graduation_season
from bot.services.request_words import SOMEONE_ELSE

# Having no job, as people say it ("没找着工作", "找不着活", "没活干了"); "活" is colloquial for work.
# "木"/"木有"/"没得" are 没/没有 in dialect ("木有工作", "还木就业", "木找着活"); the kind of job may stand
# between ("一直没找到合适的工作", "一直木有稳定工作")
_NO = r"(?:没有?|木有?|没得)"
# Idle at home, said instead of "no job" ("在家闲着", "在家待着呢", "木干啥"): "干啥" here asks nothing
IDLE_WORDS = r"闲着|闲在家|在家里?(?:待|呆|蹲|歇)着|(?:没|木)(?:事|啥)(?:干|做)|(?:没|木)(?:干|做)啥"
# A job left ("刚辞职", "被裁了", "厂子黄了"), not one the writer only thinks of leaving ("想辞职")
LEFT_JOB_WORDS = (r"(?<!想)(?<!要)(?<!准备)(?<!打算)(?<!考虑)(?:辞职|离职|辞工|被辞|被裁|裁员|下岗)"
                  r"|(?:厂子?|公司|单位)(?:黄了|倒闭|倒了|关门)")
NO_JOB_WORDS = (_NO + r"(找到|找着|找见)?(合适的?|稳定的?|正式的?|一份|份)?(工作|上班|就业|活儿?干)|" + _NO + r"(找到|找着|找见)活|找不[到着](工作|活)"
                r"|失业|待业|无业|" + IDLE_WORDS + "|" + LEFT_JOB_WORDS)
IDLE = re.compile(IDLE_WORDS)
# Identity words, first match wins (so "没工作" is read before "工作"). The enrolment form's
# identity question and eligibility questions read identities the same way.
IDENTITY_PATTERNS = (
    # "离校没就业的", "离校到现在还没工作": a graduate, not a young person out of work
    (re.compile(r"离校未就业|未就业毕业|往届|离校(?:了|后|以后|到现在|到今天)?\s*(?:还|也)?" + _NO + r"(?:就业|工作|找[到着见](?:工作|活))"),
     "离校未就业毕业生"),
    (re.compile(r"应届"), "应届毕业生"),
    (re.compile(NO_JOB_WORDS), "失业青年"),
    (re.compile(r"在校|在读|大学生|学生|大[一二三四]|研[一二三]|毕业班"), "在校生"),
    (re.compile(r"未就业"), "离校未就业毕业生"),
    (re.compile(r"在职|上班|上着班|已经?(就业|工作)|工作了|(?<![没木])有工作|有份工作|在工作|参加工作了|(刚|已经?)入职|^\s*工作\s*$"), "在职人员"),
)
NO_JOB = re.compile(NO_JOB_WORDS + "|未就业")
HAS_JOB = re.compile(r"在职|上班了|在上班|上着班|已经?(就业|工作)|工作了|(?<![没木])有工作|有份工作|在工作|参加工作了|(刚|已经?)入职")
# The two ways the camp reads a question, kept apart on purpose: a short answer with any question
# word in it is no answer ("失业怎么办" names no identity); a sentence is a question to answer
# rather than a request to act on by its shape ("我35了还能报吗" vs "我35了，怎么报名": the latter
# starts the form). One pattern for both changed the reading of 63 of 4,384 messages (nlu_data,
# tests) that state facts, so they stay two patterns in one place.
QUESTION_WORD = re.compile(r"怎么|咋|吗|啥|什么|哪|如何|多少|能不能|[？?]")
# "我这情况行不 前年毕业的 想参加…": "行不"/"中不" ask whether one may, wherever they stand
QUESTION_FORM = re.compile(r"[吗么嘛不没否]\s*[？?。！!~～]*\s*$|[？?]|能不能|可不可以|行不行|能否|是否|符合|条件|资格|(?<![高初不])[行中](?:不|吗)(?![行中])")
EDUCATION_PATTERNS = (
    (re.compile(r"博士"), "博士"),
    (re.compile(r"硕士|研究生"), "硕士"),
    (re.compile(r"本科"), "本科"),
    (re.compile(r"大专|专科|高职"), "大专"),
    (re.compile(r"中专|技校|职高|中职"), "中专"),
    (re.compile(r"高中"), "高中"),
    (re.compile(r"初中"), "初中"),
)
_NUM = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"
AGE_WITH_UNIT = re.compile(rf"(?:虚岁)?{_NUM}\s*周?岁")
# "俺35了", "今年24", "都三十了", for someone else "他19", "俺闺女24了": a bare number after a word that
# introduces one's age
AGE_BARE = re.compile(
    rf"(?:{SOMEONE_ELSE}|我|俺|咱|本人|今年|现在|都|已经|才|刚满|满|年龄|虚岁)\s*(?:今年|已经|都|才|也)?\s*{_NUM}\s*(?:了|啦|咯)?"
    r"(?![\d年届月号日期点个人分万元块kK级])"
)
# "2026年毕业", "25届", also with when in the year: "2026年夏天毕业", "2026年6月毕业"
# the 学历 some say between the year and "毕业" ("前年本科毕业", "2025年大专毕业的")
_LEVEL = r"(?:(?:本科|大专|专科|高职|研究生|硕士|博士|中专|技校|职高|大学)\s*)?"
YEAR_GRADUATED = re.compile(
    r"((?:19|20)\d{2}|\d{2})\s*年?\s*(?:的)?\s*"
    r"(?:(?:夏天|夏季|春天|春季|秋天|秋季|冬天|年底|年初|上半年|下半年|\d{1,2}\s*月份?)\s*)?"
    r"(?:(?:从[^\s，,。！？!?]{2,16}?)?" + _LEVEL + r"毕(?:的)?业|" + _LEVEL + r"届)"
)
# when in the year ("今年6月份", "去年夏天") and the school left ("去年从青科大毕业的")
_WHEN_IN_YEAR = r"(?:(?:夏天|夏季|春天|春季|秋天|秋季|冬天|年底|年初|上半年|下半年|[\d一二三四五六七八九十]{1,3}\s*月份?)\s*)?"
# "从青科大", also without 从 when a school is named ("去年潍坊学院毕业的")
_FROM_SCHOOL = r"(?:从[^\s，,。！？!?]{2,16}?|[^\s，,。！？!?]{1,12}?(?:大学|学院|学校|职院|技校|中专|大专|科大|师大|农大|医大|理工))?"
RELATIVE_YEAR = re.compile(
    r"(大前|前|去|今|明|后)年\s*(?:的)?\s*" + _WHEN_IN_YEAR + r"(?:就|刚刚?|才|已经|要|会)?\s*" + _FROM_SCHOOL
    + _LEVEL + r"毕(?:的)?业"
)
# a birth year said for one's age ("95年的", "我是2003年出生的", "00年生人"); a year giving an age
# outside BIRTH_AGES is something else ("24年的" is no birth year for a job seeker)
BIRTH_YEAR = re.compile(r"(?<![\d年])((?:19|20)\d{2}|\d{2})\s*年\s*(?:出生|生人|生的|生|的)")
BIRTH_AGES = (15, 45)
YEARS_SINCE = re.compile(rf"毕业\s*(?:了|都|已经|有|快|刚|差不多|大概|也)*\s*{_NUM}\s*年")
# "毕业五六年": two neighbouring numerals are a range, read as its lower end
_NUMERALS = "一二三四五六七八九"
JUST_GRADUATED = re.compile(r"刚刚?毕业|才毕业")
# graduated long ago, without a year ("早就毕业了", "毕业好多年了", "毕业十来年"): no year to state back
LONG_AGO = re.compile(r"早就?毕业|毕业(?:了|都|已经|有)?\s*(?:好多|很多|好几|十来|十几|多)年|毕业(?:很久|好久|多年)")
LONG_AGO_IDENTITY = "失业青年"
GRADE = re.compile(r"大[一二三四]|研[一二三]|毕业班")
_RELATIVE = {"大前": -3, "前": -2, "去": -1, "今": 0, "明": 1, "后": 2}
# years until the graduation season, by grade; a 大专 student's 大三 is the final year
_GRADE_YEARS = {"大四": 0, "研三": 0, "毕业班": 0, "大三": 1, "研二": 1, "大二": 2, "研一": 2, "大一": 3}


@dataclass(frozen=True)
class Facts:
    identity: Optional[str] = None
    age: Optional[int] = None
    graduation_year: Optional[int] = None
    education: Optional[str] = None
    employed: Optional[bool] = None
    identity_inferred: bool = False  # read from a graduation year, not said in words

    def stated(self) -> bool:
        facts = (self.identity, self.age, self.graduation_year, self.education, self.employed)
        return any(v is not None for v in facts)

    def as_profile(self) -> Dict[str, str]:
        """The facts as profile fields (what `check_eligibility` and the enrolment form read)."""
        employed = {True: "是", False: "否"}.get(self.employed)  # type: ignore[arg-type]
        values = {
            "identity": self.identity, "age": self.age, "graduation_year": self.graduation_year,
            "education": self.education, "employed": employed,
        }
        return {k: str(v) for k, v in values.items() if v is not None}

    def over(self, profile: Mapping[str, Any]) -> "Facts":
        """These facts, completed by what the profile already holds (the message wins)."""
        known = facts_from_profile(profile)
        return Facts(
            identity=self.identity or known.identity,
            age=self.age if self.age is not None else known.age,
            graduation_year=self.graduation_year or known.graduation_year,
            education=self.education or known.education,
            employed=self.employed if self.employed is not None else known.employed,
            identity_inferred=self.identity_inferred if self.identity else known.identity_inferred,
        )

    def summary(self, today: date) -> str:
        """The facts as the answer repeats them: "35岁、大专、2024年毕业"."""
        parts = []
        if self.age is not None:
            parts.append(f"{self.age}岁")
        if self.education:
            parts.append(self.education)
        if self.graduation_year:
            future = self.graduation_year > today.year
            parts.append(f"{'预计' if future else ''}{self.graduation_year}年毕业")
        if self.identity and not self.identity_inferred:
            parts.append(self.identity)
        elif self.employed is not None and self.identity != "在职人员":
            parts.append("已就业" if self.employed else "未就业")
        return "、".join(parts)


def identity_in_text(text: str, identities: Sequence[str] = ()) -> Optional[str]:
    """The identity a text names: one of `identities` by name, else by the words people use."""
    for identity in identities:
        if identity in text:
            return identity
    return next((identity for pattern, identity in IDENTITY_PATTERNS if pattern.search(text)), None)


def _int(value: Any) -> Optional[int]:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def facts_from_profile(profile: Mapping[str, Any]) -> Facts:
    return Facts(
        identity=str(profile.get("identity") or "").strip() or None,
        age=_int(profile.get("age")),
        graduation_year=_int(profile.get("graduation_year")),
        education=str(profile.get("education") or "").strip() or None,
        employed=employment(profile),
    )


def birth_year_match(text: str, today: date) -> Optional["re.Match[str]"]:
    """Where `text` gives a birth year for an age ("95年的", "2003年出生"), else None."""
    for match in BIRTH_YEAR.finditer(text):
        year = int(match.group(1))
        year += 0 if year >= 100 else (1900 if year > today.year % 100 else 2000)
        if BIRTH_AGES[0] <= today.year - year <= BIRTH_AGES[1]:
            return match
    return None


def _age(text: str, entities: Iterable[Mapping[str, Any]], today: date) -> Optional[int]:
    for pattern in (AGE_WITH_UNIT, AGE_BARE):
        for match in pattern.finditer(text):
            value = cn_to_int(match.group(1))
            if value is not None and 10 <= value <= 70:
                return value
    born = birth_year_match(text, today)
    if born:  # the age this year reaches: "95年的" is 31 all through 2026
        year = int(born.group(1))
        return today.year - (year if year >= 100 else year + (1900 if year > today.year % 100 else 2000))
    for entity in entities:
        value = cn_to_int(str(entity.get("value") or "")) if entity.get("entity") == "age" else None
        if value is not None and 10 <= value <= 70:
            return value
    return None


def _graduation_year(text: str, today: date, season: int, education: Optional[str]) -> Optional[int]:
    match = YEAR_GRADUATED.search(text)
    if match:
        year = int(match.group(1))
        return year + 2000 if year < 100 else year
    match = RELATIVE_YEAR.search(text)
    if match:
        return today.year + _RELATIVE[match.group(1)]
    match = YEARS_SINCE.search(text)
    years = _years(match.group(1)) if match else None
    if years is not None:
        return today.year - years
    if JUST_GRADUATED.search(text):
        return today.year if today.month >= 7 else today.year - 1
    match = GRADE.search(text)
    if match:
        grade = match.group()
        return season + (0 if grade == "大三" and education == "大专" else _GRADE_YEARS[grade])
    return None


def _years(token: str) -> Optional[int]:
    """"5", "五", "十" and a range "五六" (its lower end)."""
    value = cn_to_int(token)
    if value is None and len(token) == 2 and all(c in _NUMERALS for c in token):
        first, second = (_NUMERALS.index(c) for c in token)
        value = first + 1 if second == first + 1 else None
    return value


def _first(patterns: Sequence[Any], text: str) -> Optional[str]:
    return next((value for pattern, value in patterns if pattern.search(text)), None)


def parse_facts(
    text: str, today: date, rules: EligibilityRules, entities: Iterable[Mapping[str, Any]] = ()
) -> Facts:
    """The facts `text` states (NLU entities fill in what the text patterns miss)."""
    entities = list(entities)
    text = str(text or "")
    education = _first(EDUCATION_PATTERNS, text) or _entity_education(entities)
    season = _season(today, rules)
    born = birth_year_match(text, today)
    # a birth year is no graduation year ("00年的 大专毕业两年了"): blanked out for that reading
    undated = text if born is None else text[:born.start()] + " " * (born.end() - born.start()) + text[born.end():]
    graduation_year = _graduation_year(undated, today, season, education)
    employed = False if NO_JOB.search(text) else (True if HAS_JOB.search(text) else None)
    identity = identity_in_text(text, rules.identities) or _entity_identity(entities, rules)
    facts = Facts(identity, _age(text, entities, today), graduation_year, education, employed)
    if identity == "失业青年" and graduation_year is None and _graduate_without_year(text, education):
        # "毕业了还木就业", "毕业后一直没找着活": a graduate whose year the form asks next
        facts = replace(facts, identity="离校未就业毕业生")
    if identity == "失业青年" and graduation_year and "失业青年" not in text:
        # "毕业两年了还没工作" is a graduate without a job, "大四没工作" a student: the year tells
        facts = replace(facts, identity=_identity_from_year(graduation_year, today, rules))
    if facts.identity is None and graduation_year and employed is not True:
        facts = replace(facts, identity=_identity_from_year(graduation_year, today, rules), identity_inferred=True)
    if facts.identity is None and graduation_year is None and employed is not True and LONG_AGO.search(text):
        # "毕业好多年了": neither a student nor a recent graduate; without a job, a 失业青年 (presumed:
        # the form still asks, and a "no" on this presumption is not the answer, eligibility_answer.py)
        facts = replace(facts, identity=LONG_AGO_IDENTITY, identity_inferred=True)
    return facts


# "毕业了", "毕业后", "毕业生": graduated, not about to ("快毕业", "没毕业", "要毕业了")
_GRADUATED = re.compile(r"(?<![没未不快要将])毕业(?!班)")
# 学历 below 高校: "高中毕业后没活干" is a young person out of work, not a 高校 graduate
_BELOW_COLLEGE = ("中专", "高中", "初中")


def _graduate_without_year(text: str, education: Optional[str]) -> bool:
    """Graduated from a 高校 without saying when, and no job: "毕业了还没就业", not "高中毕业 木活干"
    nor "毕业好多年了" (no recent graduate)."""
    return (bool(_GRADUATED.search(text)) and education not in _BELOW_COLLEGE
            and not LONG_AGO.search(text) and "失业青年" not in text)


def _season(today: date, rules: EligibilityRules) -> int:
    final_year = next((g for g in rules.groups.values() if g.final_year_only), None)
    return graduation_season(today, final_year) if final_year else today.year


def _identity_from_year(year: int, today: date, rules: EligibilityRules) -> str:
    """Graduated already → a graduate without a job (nothing said about one); else a student.
    Graduated longer ago than any cohort takes graduates ("毕业五六年了") → a 失业青年, the group
    that asks no graduation year."""
    graduate = next((g for g in rules.groups.values() if g.max_years_since_graduation is not None), None)
    month = graduate.graduation_month if graduate else 7
    left = year < today.year or (year == today.year and today.month >= month)
    if left and today.year - year > _widest_graduate_window(rules):
        return LONG_AGO_IDENTITY
    return "离校未就业毕业生" if left else "在校生"


def _widest_graduate_window(rules: EligibilityRules) -> int:
    """The most years after graduation that any cohort accepts a graduate (0: no graduate group)."""
    windows = [
        g.max_years_since_graduation for cohort in [None, *rules.cohort_limits]
        for g in (rules.groups_for(cohort) if cohort else rules.groups.values())
        if g.max_years_since_graduation is not None
    ]
    return max(windows, default=0)


def _entity_identity(entities: Sequence[Mapping[str, Any]], rules: EligibilityRules) -> Optional[str]:
    for entity in entities:
        if entity.get("entity") == "identity":
            found = identity_in_text(str(entity.get("value") or ""), rules.identities)
            if found:
                return found
    return None


def _entity_education(entities: Sequence[Mapping[str, Any]]) -> Optional[str]:
    for entity in entities:
        if entity.get("entity") == "education":
            found = _first(EDUCATION_PATTERNS, str(entity.get("value") or ""))
            if found:
                return found
    return None
