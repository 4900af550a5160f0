"""The one home for fitting text to WeChat's passive-reply size (2,048 bytes of UTF-8): how many
items fit, cutting at line boundaries with a continuation line, clipping, and splitting into parts."""
from __future__ import annotations

from typing import Callable, List, Sequence

PASSIVE_REPLY_MAX_BYTES = 2048


def byte_len(text: str) -> int:
    return len(text.encode("utf-8"))


def count_fitting(render: Callable[[int], str], total: int, limit: int, *, at_least: int = 0) -> int:
    """The number n <= total of leading items to show: `render(n)` is the reply with n items, and
    items are added while the next one still fits (the first `at_least` are shown regardless)."""
    shown = 0
    while shown < total and (shown < at_least or byte_len(render(shown + 1)) <= limit):
        shown += 1
    return shown


def fit_lines(text: str, tail: str, limit: int = PASSIVE_REPLY_MAX_BYTES) -> str:
    """`text` if it fits, else its leading lines that fit with `tail` (a "more…" line) after them."""
    if byte_len(text) <= limit:
        return text
    lines = text.split("\n")
    shown = count_fitting(lambda n: "\n".join(lines[:n]) + tail, len(lines), limit)
    return "\n".join(lines[:shown]) + tail


def fit_list(lines: Sequence[str], header: str, footer: str, limit: int = PASSIVE_REPLY_MAX_BYTES) -> str:
    """Header, as many leading lines as fit, footer; one per line, empty parts left out."""

    def render(n: int) -> str:
        return "\n".join(p for p in [header, *lines[:n], footer] if p)

    return render(count_fitting(render, len(lines), limit))


def clip_bytes(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut hard at a character boundary so that text + ellipsis fits (the last resort)."""
    if byte_len(text) <= limit:
        return text
    return text.encode("utf-8")[: limit - byte_len(ellipsis)].decode("utf-8", "ignore") + ellipsis


def split_utf8(text: str, limit: int = PASSIVE_REPLY_MAX_BYTES) -> List[str]:
    """Split text into parts of at most `limit` UTF-8 bytes, at character boundaries.

    A part ends at the last line break that fits (a blank line preferred, then a single
    newline), then at a sentence end, and only as a last resort in the middle of a line.
    """
    if limit < 4:
        raise ValueError("limit must allow at least one UTF-8 character")
    parts: List[str] = []
    rest = text
    while len(rest.encode("utf-8")) > limit:
        # the longest prefix (in characters) whose encoding fits
        encoded = rest.encode("utf-8")[:limit]
        prefix = encoded.decode("utf-8", errors="ignore")
        cut = len(prefix)
        for separators in (("\n\n",), ("\n",), ("。", "！", "？", "；", ". ", "!", "?")):
            positions = [prefix.rfind(sep) + len(sep) for sep in separators if sep in prefix]
            best = max(positions, default=-1)
            if best > len(prefix) // 3:
                cut = best
                break
        head, rest = rest[:cut].rstrip("\n"), rest[cut:].lstrip("\n")
        if head:
            parts.append(head)
    rest = rest.rstrip("\n")
    if rest or not parts:
        parts.append(rest)
    return parts
