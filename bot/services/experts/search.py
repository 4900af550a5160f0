"""An expert search from start to reply: what the chat calls (`actions/experts.py`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

from bot.services.booking.service import BookingService
from bot.services.experts.match import ExpertRequest, match_experts
from bot.services.experts.model import Expert, specialties_in
from bot.services.experts.replies import menu, render, shown_experts
from bot.services.experts.store import ExpertStore
from bot.services.workshops import Slot


@dataclass
class SearchAnswer:
    text: str
    shown: List[Expert]  # in the order the reply numbers them


async def next_free(booking: BookingService, expert: Expert) -> Optional[Slot]:
    found = await booking.open_slots(limit=1, workshop_id=expert.workshop_id)
    return found[0][0] if found else None


async def search(store: ExpertStore, booking: BookingService, text: str, city: str = "", county: str = "") -> SearchAnswer:
    """Experts for a message in the user's words, nearest to (city, county) first."""
    wanted = specialties_in(text)
    if not wanted:
        return SearchAnswer(menu(), [])
    matches = match_experts(await store.all_experts(), ExpertRequest(wanted, city, county))
    shown = shown_experts(matches)
    free: Dict[str, Optional[Slot]] = {e.id: await next_free(booking, e) for e in shown}
    return SearchAnswer(render(matches, free), shown)
