"""The one bearer-token check, shared by the action server and the gateway's monitoring paths."""
from __future__ import annotations

import hmac
from typing import Optional


def bearer_matches(header: Optional[str], token: str) -> bool:
    """True when `header` is exactly "Bearer <token>"; constant time, so timing tells nothing.

    An empty token never matches: a missing setting must not open the door to "Bearer ".
    """
    if not token:
        return False
    return hmac.compare_digest((header or "").encode(), f"Bearer {token}".encode())
