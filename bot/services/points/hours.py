"""Weekly opening hours of a service point, parsed from the text staff type in their sheets."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional, Tuple

_WEEKDAY_CHARS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_DAY = r"(?:周|星期|礼拜)([一二三四五六日天七])"
_DAY_RANGE = re.compile(_DAY + r"\s*(?:至|到|-|~|—|–|－)\s*" + _DAY)
_DAY_SINGLE = re.compile(_DAY)
_TIME_RANGE = re.compile(
    r"(\d{1,2})[:：](\d{2})\s*(?:-|~|至|到|—|–|－)\s*(\d{1,2})[:：](\d{2})"
)
_CLOSED_WORDS = ("休息", "闭馆", "不开放", "关闭", "休馆")
_ALL_DAY_WORDS = ("24小时", "全天")
_EVERY_DAY_WORDS = ("每天", "每日", "全年", "天天")
_WEEKDAY_WORDS = ("工作日",)
_NOTE_WORDS = ("节假日", "节日")  # holiday exceptions cannot be known here: kept as text only

Schedule = Dict[int, Tuple[Tuple[int, int], ...]]  # weekday -> ((start_min, end_min), ...)


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening hours parsed from staff text such as "周一至周五 09:00-17:00".

    Clauses are separated by ';'/'；'/newline: "周一至周五 08:30-12:00,13:30-17:00；周六 09:00-12:00；
    周日休息". Also understood: 每天/工作日/24小时/全天. Holiday notes ("法定节假日除外") are kept
    in the text but not modelled, so on a public holiday "open now" may be wrong.
    """

    text: str
    schedule: Schedule

    @classmethod
    def parse(cls, text: str) -> "OpeningHours":
        """Parse or raise ValueError with a reason in Chinese."""
        raw = (text or "").strip()
        if not raw:
            raise ValueError("营业时间为空")
        schedule: Dict[int, List[Tuple[int, int]]] = {}
        for clause in re.split(r"[;；\n]+", raw):
            clause = clause.strip()
            if not clause:
                continue
            days = _clause_days(clause)
            ranges = _clause_ranges(clause)
            closed = any(word in clause for word in _CLOSED_WORDS)
            if ranges is None and not closed:
                if days is None and any(word in clause for word in _NOTE_WORDS):
                    continue  # a pure holiday note like "法定节假日除外"
                raise ValueError(f"无法识别营业时间“{clause}”，示例：周一至周五 09:00-17:00")
            for day in days if days is not None else range(7):
                if closed and not ranges:
                    schedule[day] = []
                else:
                    schedule[day] = sorted(ranges or [])
        if not schedule:
            raise ValueError(f"无法识别营业时间“{raw}”")
        return cls(raw, {d: tuple(r) for d, r in schedule.items()})

    def is_open(self, moment: datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        return any(start <= minute < end for start, end in self.schedule.get(moment.weekday(), ()))


def _clause_days(clause: str) -> Optional[List[int]]:
    if any(word in clause for word in _EVERY_DAY_WORDS):
        return list(range(7))
    days: List[int] = []
    if any(word in clause for word in _WEEKDAY_WORDS):
        days.extend(range(5))
    rest = clause
    for match in _DAY_RANGE.finditer(clause):
        start, end = _WEEKDAY_CHARS[match.group(1)], _WEEKDAY_CHARS[match.group(2)]
        if end < start:
            raise ValueError(f"星期范围“{match.group(0)}”顺序不对")
        days.extend(range(start, end + 1))
        rest = rest.replace(match.group(0), " ")
    for match in _DAY_SINGLE.finditer(rest):
        days.append(_WEEKDAY_CHARS[match.group(1)])
    return sorted(set(days)) if days else None


def _clause_ranges(clause: str) -> Optional[List[Tuple[int, int]]]:
    if any(word in clause for word in _ALL_DAY_WORDS):
        return [(0, 24 * 60)]
    ranges = []
    for match in _TIME_RANGE.finditer(clause):
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"时间“{match.group(0)}”不合法")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ValueError(f"时间段“{match.group(0)}”结束早于开始")
        ranges.append((start, end))
    return ranges or None



def hours_open(hours: str, moment: datetime) -> bool:
    """Whether an hours text says open at `moment`; unknown or unparseable hours count as closed."""
    if not hours:
        return False
    try:
        return OpeningHours.parse(hours).is_open(moment)
    except ValueError:
        return False
