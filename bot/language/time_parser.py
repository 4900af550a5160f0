"""Chinese date/time expressions -> ISO 8601 intervals in Asia/Shanghai.

Plain helper (no Rasa): the TimeNormalizer component and the booking code both call
``parse_time_expression(text, now)``. It wraps jionlp's rule-based ``parse_time`` (offline, no
model download) and fixes what matters for booking a slot:
- colloquial shortcuts jionlp does not know (明早, 今晚, 礼拜天 ...);
- future preference: "周三", "3月5号", "12号" said after that day mean the next one, and a bare
  clock time or part of the day already past ("上午9点半" at 10:00) means tomorrow's;
- impossible dates (2月30号, 13月1号) give None, never an exception.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Optional, Tuple

from bot.clock import SHANGHAI, system_clock

logger = logging.getLogger(__name__)


_REWRITES = [
    ("明早", "明天早上"),
    ("明晚", "明天晚上"),
    ("今早", "今天早上"),
    ("今晚", "今天晚上"),
    ("后早", "后天早上"),
    ("礼拜天", "周日"),
    ("礼拜日", "周日"),
    ("星期天", "周日"),
    ("礼拜", "周"),
    ("点钟", "点"),
    ("号号", "号"),
]

# What a time expression looks like, without parsing it: relative days and parts of the day,
# weekdays, months and dates, clock times. DIET gets these as token features (lookups.yml, generated
# by build_resources), and TimeNormalizer uses them to tell an impossible date from a non-time.
TIME_HINTS = [
    r"(大?后|今|明|昨|前)(天|早|晚)|[上下中]午|早上|晚上|傍晚|凌晨|一早|周末|月底|月初",
    r"(这|本|下下?|上)个?(周|星期|礼拜)[一二三四五六日天1-7]?|(周|星期|礼拜)[一二三四五六日天1-7]",
    r"(这|本|下下?|上)个?月|\d{1,2}月(\d{1,2}[日号]?)?|[一二三四五六七八九十]{1,3}月[一二三四五六七八九十\d]{0,3}[日号]?",
    r"\d{1,2}[日号]|[一二三四五六七八九十]{1,3}[日号]|\d{4}年",
    r"\d{1,2}(点|:)(半|钟|\d{1,2}分?)?|[一二两三四五六七八九十]{1,3}点(半|钟|[一二三四五六七八九十\d]{1,3}分?)?",
]
# A phone number or a code in the same message ("下周三 我叫卢思琪 电话13988171239") is no time: jionlp
# would read a year out of its digits (1712). Mobiles and runs of 9+ digits go; 8-digit dates stay.
_NOT_A_TIME_NUMBER = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|\d{9,}")
_TIME_HINT = re.compile("|".join(f"(?:{pattern})" for pattern in TIME_HINTS))

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(\d{1,4}|[零〇一二两三四五六七八九十]{1,3})"
_YEAR = re.compile(r"(\d{2,4}|[零〇一二三四五六七八九]{2,4})年|今年|明年|去年|前年|后年")
_MONTH = re.compile(_NUM + r"月(?!份?底|份?初)")
_DAY = re.compile(_NUM + r"[号日](?![子常])")
_BARE_WEEKDAY = re.compile(r"(?<![上下这本])(周|星期)[一二三四五六日1-7]")
_PART_OF_DAY = re.compile(r"[上下中]午|早上|晚上|傍晚|凌晨")
_CLOCK = re.compile(_NUM + r"[点:]")
# "下周下午都有空", "下礼拜上午": a week and a part of the day but no day, which jionlp cannot read; the
# week is the window (the sessions offered are that week's, the user picks the afternoon one)
_WEEK_NO_DAY = re.compile(r"(这|本|下下?)个?(周|星期)(?![一二三四五六日天末1-7])")


def cn_to_int(token: str) -> Optional[int]:
    """Digits or a Chinese numeral up to 99 ("35", "三十五", "十") -> the number, else None."""
    if token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if "十" in token:
        head, _, tail = token.partition("十")
        tens = _CN_DIGITS.get(head, None) if head else 1
        ones = _CN_DIGITS.get(tail, None) if tail else 0
        if tens is None or ones is None:
            return None
        return tens * 10 + ones
    if len(token) == 1:
        return _CN_DIGITS.get(token)
    return None


def _has_impossible_parts(text: str) -> bool:
    for m in _MONTH.finditer(text):
        n = cn_to_int(m.group(1))
        if n is not None and not 1 <= n <= 12:
            return True
    for m in _DAY.finditer(text):
        n = cn_to_int(m.group(1))
        if n is not None and not 1 <= n <= 31:
            return True
    return False


def _to_local(now: Optional[datetime]) -> datetime:
    if now is None:
        return system_clock()
    if now.tzinfo is None:
        return now.replace(tzinfo=SHANGHAI)
    return now.astimezone(SHANGHAI)


def _add_months(moment: datetime, months: int) -> Optional[datetime]:
    month0 = moment.month - 1 + months
    try:
        return moment.replace(year=moment.year + month0 // 12, month=month0 % 12 + 1)
    except ValueError:  # 31号 in a 30-day month
        return None


def _future_shift(text: str, start: datetime, end: datetime, now: datetime) -> Optional[Tuple[datetime, datetime]]:
    """If a year-less expression resolved to the past, move it to its next occurrence."""
    if end >= now or _YEAR.search(text):
        return start, end
    if _BARE_WEEKDAY.search(text):
        return start + timedelta(days=7), end + timedelta(days=7)
    if _MONTH.search(text):
        try:
            return start.replace(year=start.year + 1), end.replace(year=end.year + 1)
        except ValueError:  # 2月29号 with no leap year next
            return None
    day_words = _PART_OF_DAY.sub("", text)
    if re.search(r"今|明|后天|昨|前天|周|星期|下|上|这|本", day_words):
        return start, end
    if _DAY.search(text):
        s, e = _add_months(start, 1), _add_months(end, 1)
        return (s, e) if s and e else None
    if _CLOCK.search(text) or _PART_OF_DAY.search(text):  # "上午9点半" said at 10:00: tomorrow's
        return start + timedelta(days=1), end + timedelta(days=1)
    return start, end


_parser = None


def _jionlp_parse(text: str, base: datetime) -> Optional[dict]:
    global _parser
    if _parser is None:
        from jionlp.gadget.time_parser import TimeParser  # imported lazily: jionlp prints a banner

        _parser = TimeParser()
    try:
        return _parser(text, time_base=base.replace(tzinfo=None))
    except Exception as exc:  # jionlp raises ValueError and others on text it cannot read
        logger.debug("jionlp could not parse %r: %s", text, exc)
        return None


def warm_up() -> None:
    """Build jionlp's parser now (about 0.5 s) instead of on the first user message."""
    _jionlp_parse("明天下午", datetime(2026, 1, 1, 9, 0, tzinfo=SHANGHAI))


def looks_like_time(text: str) -> bool:
    """True if some part of ``text`` reads as a date or time (明天, 周三, 2月30号, 9点半)."""
    return bool(text) and _TIME_HINT.search(text) is not None


def parse_time_expression(text: str, now: Optional[datetime] = None) -> Optional[Tuple[str, str]]:
    """Parse a Chinese time expression relative to ``now`` (Asia/Shanghai).

    Returns ``(start_iso, end_iso)`` with +08:00 offsets, e.g. for "明天下午" on 2026-11-28:
    ``("2026-11-29T13:00:00+08:00", "2026-11-29T17:59:59+08:00")``; None if the text is not a
    time, is impossible (2月30号), or is a recurring period (每周三).
    """
    if not text or not text.strip():
        return None
    local_now = _to_local(now)
    cleaned = _NOT_A_TIME_NUMBER.sub("", re.sub(r"\s+", "", text))
    for old, new in _REWRITES:
        cleaned = cleaned.replace(old, new)
    if _has_impossible_parts(cleaned):
        return None
    result = _jionlp_parse(cleaned, local_now)
    if not result and _WEEK_NO_DAY.search(cleaned) and _PART_OF_DAY.search(cleaned):
        result = _jionlp_parse(_PART_OF_DAY.sub("", cleaned), local_now)
    if not result or result.get("type") not in ("time_point", "time_span"):
        return None
    times = result.get("time") or []
    if len(times) != 2 or not all(isinstance(t, str) for t in times):
        return None
    try:
        start = datetime.strptime(times[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
        end = datetime.strptime(times[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    except ValueError:
        return None
    shifted = _future_shift(cleaned, start, end, local_now)
    if shifted is None:
        return None
    start, end = shifted
    return start.isoformat(), end.isoformat()
