"""A job fair as staff files hold it, its kinds and audiences, and how sample dates follow the calendar.

Times are Asia/Shanghai, timezone-aware. Sample rows (the shipped `data/job_fairs.csv`, every one
marked 示例) keep the dates they were written with; readers move them forward by whole weeks
(`sample_shift_weeks`) so that the earliest sample fair never starts before today. Whole weeks keep
each fair on its weekday (a weekend fair stays a weekend fair), and shifting at read time rather
than at import keeps the sample valid for as long as the product runs without anyone re-importing.
Real rows are never moved.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Dict, FrozenSet, Mapping, Optional, Tuple

from bot.clock import SHANGHAI

# A fair longer than this is a typo (an online 专场 may run for weeks, not months); the bound also
# lets the store find ongoing fairs by start time alone.
MAX_DURATION = timedelta(days=31)


class FairKind(str, enum.Enum):
    """Kinds of recruitment event (value = stable code)."""

    ONSITE = "onsite"
    DOUBLE_CHOICE = "double_choice"
    CAMPUS = "campus"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @classmethod
    def parse(cls, value: str) -> "FairKind":
        """A code ('online') or a Chinese label or spelling ('线上专场', '网络招聘会') -> FairKind."""
        value = (value or "").strip()
        for member in cls:
            if value in (member.value, member.label) or value in _KIND_VARIANTS[member]:
                return member
        raise ValueError(value)


_KIND_LABELS: Dict[FairKind, str] = {
    FairKind.ONSITE: "线下招聘会",
    FairKind.DOUBLE_CHOICE: "双选会",
    FairKind.CAMPUS: "校园招聘",
    FairKind.ONLINE: "线上专场",
}
_KIND_VARIANTS: Dict[FairKind, Tuple[str, ...]] = {
    FairKind.ONSITE: ("招聘会", "现场招聘会", "线下"),
    FairKind.DOUBLE_CHOICE: ("供需见面会", "双向选择会", "毕业生双选会"),
    FairKind.CAMPUS: ("校招", "校园招聘会", "校园宣讲会", "宣讲会"),
    FairKind.ONLINE: ("线上", "网络招聘会", "线上招聘会", "直播带岗", "云招聘"),
}

ANY_AUDIENCE = "不限"
AUDIENCES: Tuple[str, ...] = ("应届生", "离校未就业毕业生", "失业人员", "农民工", "退役军人", "残疾人", ANY_AUDIENCE)

# What users call each audience; longest first when scanning a message. ("不限" is no filter.)
_AUDIENCE_WORDS: Tuple[Tuple[str, str], ...] = tuple(
    sorted(
        {
            "应届生": "应届生",
            "应届毕业生": "应届生",
            "应届": "应届生",
            "毕业生": "应届生",
            "大学生": "应届生",
            "高校毕业生": "应届生",
            "离校未就业": "离校未就业毕业生",
            "离校未就业毕业生": "离校未就业毕业生",
            "失业人员": "失业人员",
            "失业": "失业人员",
            "下岗": "失业人员",
            "农民工": "农民工",
            "务工人员": "农民工",
            "退役军人": "退役军人",
            "退伍": "退役军人",
            "退役": "退役军人",
            "残疾人": "残疾人",
            "残疾": "残疾人",
        }.items(),
        key=lambda item: -len(item[0]),
    )
)


def parse_audience(text: Optional[str]) -> Optional[str]:
    """The audience a text names ('我是应届生' -> '应届生'); None when it names none."""
    for word, audience in _AUDIENCE_WORDS:
        if word in (text or ""):
            return audience
    return None


@dataclass(frozen=True)
class JobFair:
    """One recruitment event; `starts_at`/`ends_at` are aware datetimes in Asia/Shanghai."""

    id: str
    title: str
    kind: FairKind
    city: str  # one of the 16 prefecture-level cities, full name ("济南市")
    district: str  # county-level unit, full name; "" for a city-wide or online event
    venue: str  # the place, or the platform of an online event
    starts_at: datetime
    ends_at: datetime
    audience: FrozenSet[str] = frozenset({ANY_AUDIENCE})
    organiser: str = ""
    how_to_join: str = ""
    url: str = ""
    note: str = ""
    active: bool = True
    sample: bool = False

    @property
    def online(self) -> bool:
        return self.kind is FairKind.ONLINE

    @property
    def audience_text(self) -> str:
        return "、".join(sorted(self.audience, key=AUDIENCES.index))

    def serves(self, audience: Optional[str]) -> bool:
        return audience is None or ANY_AUDIENCE in self.audience or audience in self.audience

    def shifted(self, weeks: int) -> "JobFair":
        if not weeks:
            return self
        delta = timedelta(weeks=weeks)
        return replace(self, starts_at=self.starts_at + delta, ends_at=self.ends_at + delta)

    def to_hash(self) -> Dict[str, str]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind.value,
            "city": self.city,
            "district": self.district,
            "venue": self.venue,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "audience": self.audience_text,
            "organiser": self.organiser,
            "how_to_join": self.how_to_join,
            "url": self.url,
            "note": self.note,
            "active": "1" if self.active else "0",
            "sample": "1" if self.sample else "0",
        }

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> "JobFair":
        return cls(
            id=data["id"],
            title=data["title"],
            kind=FairKind(data["kind"]),
            city=data["city"],
            district=data.get("district", ""),
            venue=data.get("venue", ""),
            starts_at=datetime.fromisoformat(data["starts_at"]).astimezone(SHANGHAI),
            ends_at=datetime.fromisoformat(data["ends_at"]).astimezone(SHANGHAI),
            audience=frozenset(a for a in data.get("audience", "").split("、") if a) or frozenset({ANY_AUDIENCE}),
            organiser=data.get("organiser", ""),
            how_to_join=data.get("how_to_join", ""),
            url=data.get("url", ""),
            note=data.get("note", ""),
            active=data.get("active", "1") == "1",
            sample=data.get("sample", "0") == "1",
        )


def sample_shift_weeks(earliest_sample_start: Optional[date], today: date) -> int:
    """Whole weeks that move the sample so that its earliest fair starts today or later (0 if it does)."""
    if earliest_sample_start is None or earliest_sample_start >= today:
        return 0
    return -(-(today - earliest_sample_start).days // 7)
