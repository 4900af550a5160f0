"""What the booking service returns: a record, the outcome of a change, a booking with its slot."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from bot.services.workshops import Slot, Workshop


@dataclass(frozen=True)
class Booking:
    code: str
    openid: str
    slot_id: str
    name: str
    phone: str
    status: str
    source: str
    created_at: str
    cancelled_at: str = ""
    marked_at: str = ""  # the last attendance mark (the staff console and CLI)
    marked_by: str = ""

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> "Booking":
        return cls(**{k: data.get(k, "") for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class BookingResult:
    """Outcome of `book` / `join_waitlist`.

    status: confirmed | duplicate (already booked: `code` is the existing booking) | full
    (offer the waitlist; `waiting` > 0 if already on it) | limit (too many active bookings) |
    closed (started/cancelled slot) | no_slot | waiting (on the waitlist at `position`) |
    available (a seat is free: book instead of waiting)
    """

    status: str
    code: str = ""
    waiting: int = 0
    position: int = 0
    active: int = 0

    @property
    def booked(self) -> bool:
        return self.status in ("confirmed", "duplicate")


@dataclass(frozen=True)
class CancelResult:
    """status: cancelled | not_found | not_active | too_late."""

    status: str
    slot_id: str = ""
    promoted: Tuple[Tuple[str, str], ...] = ()  # (openid, code) of users given the seat


@dataclass(frozen=True)
class BookingView:
    """A booking with its slot and workshop, for replies and the console."""

    booking: Booking
    slot: Optional[Slot]
    workshop: Optional[Workshop]


@dataclass(frozen=True)
class SessionRow:
    """A workshop session (slot) as staff see it: seats taken of capacity, the waitlist."""

    slot: Slot
    workshop: Workshop
    taken: int
    waiting: int
