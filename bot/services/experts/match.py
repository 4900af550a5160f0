"""Which experts answer a request: the specialties asked for, nearest level to the user first.

Order: experts with more of the asked specialties first; among equals the user's own county, then
their city (city-level before county-level experts of other counties), then the province; experts
of other cities are not offered as matches — they are the "closest" offer when nothing nearer fits.
Without a known place the province's experts come first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

from bot.services.experts.model import Expert

MAX_SHOWN = 5


@dataclass(frozen=True)
class ExpertRequest:
    specialties: Tuple[str, ...]
    city: str = ""  # "青岛市"
    county: str = ""


@dataclass
class ExpertMatches:
    request: ExpertRequest
    experts: List[Expert] = field(default_factory=list)  # nearest first
    elsewhere: List[Expert] = field(default_factory=list)  # other cities: offered when nothing nearer


def proximity(expert: Expert, city: str, county: str) -> int:
    """0 same county, 1 the user's city, 2 another county of the city, 3 province, 4 elsewhere."""
    if expert.level == "省级":
        return 3
    if not city or expert.city != city:
        return 4
    if expert.level == "市级":
        return 1
    return 0 if county and expert.county == county else 2


def match_experts(experts: Sequence[Expert], request: ExpertRequest) -> ExpertMatches:
    """Active experts with at least one asked specialty (every active one when none is asked)."""
    wanted = set(request.specialties)
    scored = []
    for expert in experts:
        if not expert.active:
            continue
        hits = len(wanted & set(expert.specialties))
        if wanted and not hits:
            continue
        near = proximity(expert, request.city, request.county)
        scored.append(((-hits, near, expert.id), near, expert))
    scored.sort(key=lambda item: item[0])
    result = ExpertMatches(request)
    for _, near, expert in scored:
        (result.elsewhere if near == 4 else result.experts).append(expert)
    return result
