"""Booking codes and mobile numbers in what users type, and the masked number shown back to them."""
from __future__ import annotations

import re
from typing import List, Optional

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # the same alphabet as the Lua `new_code`
CODE_RE = re.compile(r"(?<![0-9A-Za-z])([2-9A-HJ-NP-Za-hj-np-z]{6})(?![0-9A-Za-z])")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else phone


def normalise_phone(text: str) -> Optional[str]:
    """A mainland mobile number from user text ("138 0013 8000", "+86-13800138000")."""
    digits = re.sub(r"[\s\-()（）]", "", str(text or ""))
    digits = re.sub(r"^(\+?86)", "", digits)
    return digits if PHONE_RE.match(digits) else None


def find_phone(text: str) -> Optional[str]:
    """A mobile number anywhere in user text ("我的手机号是138-0013-8000")."""
    compact = re.sub(r"[\s\-()（）]", "", str(text or ""))
    match = re.search(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)", compact)
    return match.group(1) if match else None


def find_codes(text: str) -> List[str]:
    """Booking-code candidates in user text (upper-cased); callers match them against the
    user's own bookings, so an English word that looks like a code does no harm."""
    return [m.group(1).upper() for m in CODE_RE.finditer(str(text or ""))]
