"""Booking codes in what users type (mobile numbers: `bot.services.phone`)."""
from __future__ import annotations

import re
from typing import List

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # the same alphabet as the Lua `new_code`
CODE_RE = re.compile(r"(?<![0-9A-Za-z])([2-9A-HJ-NP-Za-hj-np-z]{6})(?![0-9A-Za-z])")


def find_codes(text: str) -> List[str]:
    """Booking-code candidates in user text (upper-cased); callers match them against the
    user's own bookings, so an English word that looks like a code does no harm."""
    return [m.group(1).upper() for m in CODE_RE.finditer(str(text or ""))]
