"""Everything a user has signed up for, in one numbered list: workshop bookings, workshop waitlist
places and camp enrolments (enrolled or waitlisted), each cancelled by its number or its code.

A plain domain module: the writes stay with their owners (`BookingService`, `EnrollmentStore`,
whose cancel promotes the waitlist atomically); this module only adds the camp cut-off.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import List, Optional

from bot.services.booking.service import BookingService
from bot.services.camp import CampCatalogue, Cohort, EnrollmentStore, fmt_date
from bot.services.workshops import normalise_topic

BOOKING, BOOKING_WAIT, CAMP = "booking", "booking_wait", "camp"
# What may stand between the characters of a typed code: spaces (also full-width), dashes, dots.
CODE_SEPARATORS = r"[\s\u3000\-－—_.·]{0,2}"
# What users call the camp when they name the one to cancel ("取消实训营那个").
CAMP_WORDS_RE = re.compile(r"实训营|训练营|实训")


def plain(text: str) -> str:
    """`text` as half-width upper case: a Chinese keyboard in full-width mode types "ＡＢ１２"."""
    return unicodedata.normalize("NFKC", text or "").upper()


@dataclass(frozen=True)
class Holding:
    """One thing the user holds. `ref` is what a pending choice stores (kind:scope:code)."""

    kind: str
    scope: str  # slot id (workshop) or cohort id (camp)
    code: str  # booking or enrolment code; "" for a workshop waitlist place
    line: str  # how the list shows it
    cohort: Optional[Cohort] = None
    topic: str = ""  # a workshop's topic (bot.services.workshops.TOPICS): "把面试那个退了" names it

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.scope}:{self.code}"

    def named_in(self, text: str) -> bool:
        """True when `text` contains this holding's code (any case, not inside a longer word), also
        typed in parts ("TS9 LFC", "ts9-lfc", "JN 123 456") as people copy or read it out."""
        if not self.code:
            return False
        spaced = CODE_SEPARATORS.join(re.escape(char) for char in self.code.upper())
        return re.search(rf"(?<![0-9A-Z]){spaced}(?![0-9A-Z])", plain(text)) is not None


@dataclass(frozen=True)
class EnrolmentCancel:
    """status: cancelled | started (the user must call `cohort.contact`) | not_found."""

    status: str
    promoted: Optional[str] = None  # enrolment code of the waitlisted applicant given the seat


async def workshop_holdings(service: BookingService, openid: str) -> List[Holding]:
    found = []
    for view in await service.my_bookings(openid):
        when = view.slot.label() if view.slot else ""
        title = view.workshop.title if view.workshop else ""
        where = view.workshop.where if view.workshop else ""
        line = f"【指导预约】{when} {title}\n   地点：{where}\n   预约码：{view.booking.code}"
        topic = view.workshop.topic if view.workshop else ""
        found.append(Holding(BOOKING, view.booking.slot_id, view.booking.code, line, topic=topic))
    for slot, position in await service.my_waitlists(openid):
        workshop = await service.catalogue.get_workshop(slot.workshop_id)
        title = workshop.title if workshop else ""
        line = f"【指导候补】{slot.label()} {title}（候补第{position}位）"
        found.append(Holding(BOOKING_WAIT, slot.id, "", line, topic=workshop.topic if workshop else ""))
    return found


def _camp_line(cohort: Cohort, record: dict, today: date) -> str:
    if record["status"] == "waitlisted":
        state = f"候补第{record.get('waitlist_position') or '?'}位"
    else:
        state = "已报名"
    started = f"，已于{fmt_date(cohort.start)}开营" if today >= cohort.start else ""
    return f"【实训营】{cohort.label}\n   {state}{started}，报名编号：{record['code']}"


async def camp_holdings(
    store: EnrollmentStore, catalogue: CampCatalogue, openid: str, today: date
) -> List[Holding]:
    """Enrolled and waitlisted places in cohorts that have not ended, soonest first."""
    found = []
    for cohort in sorted(catalogue.cohorts, key=lambda c: (c.start, c.id)):
        if cohort.end < today:
            continue
        record = await store.find(openid, cohort.id)
        if record and record.get("status") in ("enrolled", "waitlisted"):
            found.append(Holding(CAMP, cohort.id, record["code"], _camp_line(cohort, record, today), cohort))
    return found


async def joined_cohort_ids(store: EnrollmentStore, openid: str, cohorts: List[Cohort]) -> set:
    """Ids of `cohorts` the user is enrolled or waitlisted in (a cancelled place frees the cohort)."""
    return {c.id for c in cohorts if await store.find(openid, c.id)}


async def cancel_enrolment(store: EnrollmentStore, openid: str, cohort: Cohort, today: date) -> EnrolmentCancel:
    """Cancel the user's place in `cohort` unless it has started (then only staff can, on the
    phone); a freed seat goes to the head of the waitlist in the store's one script."""
    if today >= cohort.start:
        return EnrolmentCancel("started")
    try:
        promoted = await store.cancel(openid, cohort.id)
    except KeyError:
        return EnrolmentCancel("not_found")
    return EnrolmentCancel("cancelled", promoted)


def find_holding(holdings: List[Holding], text: str) -> Optional[Holding]:
    """The holding whose code the user typed, if any."""
    return next((h for h in holdings if h.named_in(text)), None)


def named_by_words(holdings: List[Holding], text: str) -> List[Holding]:
    """The holdings the words of `text` name: the camp ("取消实训营那个") or a workshop topic ("把面试那个
    讲座退了"); [] when the words name neither. A cohort's city or title ("济南那期") names it too."""
    if CAMP_WORDS_RE.search(text):
        camp = [h for h in holdings if h.kind == CAMP]
        by_place = [h for h in camp if h.cohort and (h.cohort.city in text or h.cohort.title in text)]
        return by_place or camp
    topic = normalise_topic(text)
    return [h for h in holdings if h.kind != CAMP and h.topic == topic] if topic else []
