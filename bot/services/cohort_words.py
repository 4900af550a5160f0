"""A camp cohort named in words rather than by its number ("报线上那期", "就报青岛那个",
"青岛线下那期", "最早开班那期"): the one cohort among those offered that the words fit, or None when they fit
none or several (the numbered list then decides)."""
from __future__ import annotations

import re
from typing import Optional, Sequence

from bot.services.camp import Cohort

_ONLINE_RE = re.compile(r"线上|网上|在线|网课")
_OFFLINE_RE = re.compile(r"线下|现场|当面|本地")
_ISSUE_RE = re.compile(r"第\s*(\d{1,2})\s*期")
# "最早开班的那期", "最近那期就行": the one that starts first
_SOONEST_RE = re.compile(r"最早|最快|最先|最近|早点|尽早|尽快")


def _city_stem(city: str) -> str:
    return city[:-1] if city.endswith("市") and len(city) > 2 else city


_STRICT_RE = re.compile(r"期|线上|线下|网上")


def named_cohort(text: str, choices: Sequence[Cohort], strict: bool = False) -> Optional[Cohort]:
    """The single cohort of `choices` that `text` names by mode, city or issue number; `strict` (a
    message that is no answer to the cohort question) wants "期"/"线上"/"线下" said, so that the city
    one lives in ("人就在济南，想报那个实训营") picks nothing."""
    text = text or ""
    if strict and not _STRICT_RE.search(text):
        return None
    found = list(choices)
    if _ONLINE_RE.search(text):
        found = [c for c in found if c.online]
    elif _OFFLINE_RE.search(text):
        found = [c for c in found if not c.online]
    cities = [c for c in found if not c.online and _city_stem(c.city) in text]
    if cities:
        found = cities
    issue = _ISSUE_RE.search(text)
    if issue:
        found = [c for c in found if f"第{issue.group(1)}期" in c.title]
    if found and _SOONEST_RE.search(text):
        found = [min(found, key=lambda c: (c.start, c.online, c.id))]
    narrowed = len(found) < len(choices) or len(choices) == 1
    # at the cohort question a choice's city chosen is a name for it ("就报临沂的吧"; not "俺叫王青岛")
    chosen = any(re.search(rf"(报|选|去|要){_city_stem(c.city)}|{_city_stem(c.city)}的", text) for c in cities)
    return found[0] if len(found) == 1 and narrowed and (_names_some_cohort(text) or chosen) else None


def _names_some_cohort(text: str) -> bool:
    """The words are about a cohort at all (a mode, a place, "那期"/"那个"), not any message."""
    return bool(_ONLINE_RE.search(text) or _OFFLINE_RE.search(text) or _ISSUE_RE.search(text) or _SOONEST_RE.search(text)
                or re.search(r"那期|这期|那个|这个|那一期|期次", text))
