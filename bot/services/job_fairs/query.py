"""What a user asks for (a query, kept between pages as JSON) and what a search returns."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import FrozenSet, List, Optional, Tuple

from bot.services.job_fairs.model import FairKind, JobFair

# With no time named, a search covers the coming 30 days.
DEFAULT_WINDOW = timedelta(days=30)
# How far "later dates" look when the window itself has nothing.
LATER_HORIZON = timedelta(days=180)


@dataclass(frozen=True)
class FairQuery:
    """Filters of a search; None means "any". Without a window: from now on for DEFAULT_WINDOW."""

    city: Optional[str] = None
    district: Optional[str] = None
    start: Optional[datetime] = None
    end: Optional[datetime] = None
    online: Optional[bool] = None  # True: 线上专场 only; False: on-site only
    audience: Optional[str] = None
    kinds: FrozenSet[FairKind] = frozenset()
    window_label: str = ""  # the user's words for the window ("下周"), for replies

    def window(self, now: datetime) -> Tuple[datetime, datetime]:
        """The time window searched: past moments are never searched."""
        start = max(self.start or now, now)
        end = self.end or (start + DEFAULT_WINDOW)
        return start, max(end, start)

    def to_json(self) -> str:
        return json.dumps(
            {
                "city": self.city,
                "district": self.district,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "online": self.online,
                "audience": self.audience,
                "kinds": sorted(k.value for k in self.kinds),
                "label": self.window_label,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> "FairQuery":
        data = json.loads(text)
        return cls(
            city=data.get("city"),
            district=data.get("district"),
            start=datetime.fromisoformat(data["start"]) if data.get("start") else None,
            end=datetime.fromisoformat(data["end"]) if data.get("end") else None,
            online=data.get("online"),
            audience=data.get("audience"),
            kinds=frozenset(FairKind(k) for k in data.get("kinds", [])),
            window_label=data.get("label") or "",
        )


@dataclass(frozen=True)
class FairPage:
    query: FairQuery
    fairs: List[JobFair]  # sample dates already moved to the calendar
    total: int  # matches in all pages
    offset: int


@dataclass(frozen=True)
class FairAlternatives:
    """What to offer when a search finds nothing."""

    later: List[JobFair] = field(default_factory=list)  # same place and filters, after the window
    other_cities: List[Tuple[str, int]] = field(default_factory=list)  # (city, fairs in the window)
    online: List[JobFair] = field(default_factory=list)  # 线上专场 in the window, any city

    @property
    def empty(self) -> bool:
        return not (self.later or self.other_cities or self.online)
