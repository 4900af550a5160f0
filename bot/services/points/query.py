"""What a user asks for (a query, kept between pages as JSON) and what a search returns."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import FrozenSet, List, Optional, Tuple

from bot.services.points.model import PointType, ServicePoint

RADII_KM: Tuple[float, ...] = (3, 10, 30, 100)  # search radii tried in turn, widest last
# A nearby answer shows the k nearest points. Three: an entry is five lines (about 300 bytes)
# and three fill a phone screen while fitting WeChat's 2,048-byte passive reply with header,
# intro and footer; four or five would often be cut by the size fitter when addresses and
# hours are long. "更多" pages on through the next ones.
NEARBY_K = 3


@dataclass(frozen=True)
class PointQuery:
    """What to look for. Coordinates (GCJ-02) give a distance-ordered search around them;
    without them, city/district list the points of that place. Both may be combined."""

    latitude: Optional[float] = None
    longitude: Optional[float] = None
    city: Optional[str] = None
    district: Optional[str] = None
    types: FrozenSet[PointType] = frozenset()
    open_now_only: bool = False
    # Set by paging: widen from this radius (the one the first page was answered within)
    # instead of from the smallest, so a page never shrinks back to nearer points only.
    radius_km: Optional[float] = None
    # Label of the coordinates, e.g. "您" or "历下区城区", used in replies.
    anchor_label: str = "您"

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def to_json(self) -> str:
        return json.dumps(
            {
                "lat": self.latitude,
                "lon": self.longitude,
                "city": self.city,
                "district": self.district,
                "types": sorted(t.value for t in self.types),
                "open": self.open_now_only,
                "r": self.radius_km,
                "anchor": self.anchor_label,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> "PointQuery":
        data = json.loads(text)
        return cls(
            latitude=data.get("lat"),
            longitude=data.get("lon"),
            city=data.get("city"),
            district=data.get("district"),
            types=frozenset(PointType(t) for t in data.get("types", [])),
            open_now_only=bool(data.get("open")),
            radius_km=data.get("r"),
            anchor_label=data.get("anchor") or "您",
        )


@dataclass(frozen=True)
class PointHit:
    point: ServicePoint
    # From the query's coordinates, or from the city's seat in a whole-city listing;
    # None in a district listing.
    distance_m: Optional[float]
    open_now: Optional[bool]


@dataclass(frozen=True)
class SearchPage:
    query: PointQuery  # the query as answered (radius fixed when coordinates were used)
    hits: List[PointHit]
    total: int  # matches in all pages
    offset: int
    # True when the place had no match and the coordinates of its seat were searched instead.
    fell_back_to_nearby: bool = False

    @property
    def radius_km(self) -> Optional[float]:
        return self.query.radius_km
