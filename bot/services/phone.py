"""Mainland mobile numbers: read from what users type, and masked (138****8000) wherever they
are shown back, logged or counted. The one home of these helpers for the gateway and actions."""
from __future__ import annotations

import re
from typing import Optional

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS_RE = re.compile(r"[\s\-()（）]")
_IN_TEXT_RE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)")
# A number inside free text, separators allowed ("138 0013 8000"), so a log line can be masked
# without first being compacted.
_MASKABLE_RE = re.compile(r"(?<!\d)(?:\+?86[\s\-]?)?(1[3-9]\d)[\s\-]?\d{4}[\s\-]?(\d{4})(?!\d)")


def normalise_phone(text: str) -> Optional[str]:
    """A mainland mobile number from user text ("138 0013 8000", "+86-13800138000")."""
    digits = _SEPARATORS_RE.sub("", str(text or ""))
    digits = re.sub(r"^(\+?86)", "", digits)
    return digits if PHONE_RE.match(digits) else None


def find_phone(text: str) -> Optional[str]:
    """A mobile number anywhere in user text ("我的手机号是138-0013-8000")."""
    raw = str(text or "")
    # as typed first, so a number standing apart from other digits ("订单 42 13800138000") counts
    match = _IN_TEXT_RE.search(raw) or _IN_TEXT_RE.search(_SEPARATORS_RE.sub("", raw))
    return match.group(1) if match else None


def mask_phone(phone: str) -> str:
    """One number as shown back to its owner; anything that is not a number stays hidden too."""
    if len(phone) == 11:
        return phone[:3] + "****" + phone[-4:]
    return "***" if phone else ""


def phone_tail(phone: str) -> str:
    """A number on a staff list: every digit hidden but the last four, enough to match a person
    at the door ("*******5678")."""
    return "*" * max(len(phone) - 4, 3) + phone[-4:] if len(phone) > 4 else ("***" if phone else "")


def mask_phones(text: str) -> str:
    """Every mobile number in free text masked, before the text reaches a log or a statistic."""
    return _MASKABLE_RE.sub(r"\1****\2", text)
