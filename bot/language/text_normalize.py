"""Length-preserving clean-up of what WeChat users type, applied before tokenisation.

Every output character sits at the same offset as the input character it came from, so entity
spans annotated in training data (and reported by extractors) still point at the user's text:
- full-width ASCII -> half-width (ＡＢＣ１２３ -> ABC123, ideographic space -> space);
- traditional -> simplified Chinese (OpenCC t2s; per character when a phrase changes length);
- emoji, WeChat "[微笑]" stickers, zero-width joiners, variation selectors -> spaces;
- repeated punctuation ("？？？", "!!!") -> the first mark followed by spaces;
- tabs/newlines -> spaces. The tokenizer drops whitespace tokens (rasa #7910);
- quote marks around the whole message (an instruction copied with them: "“订阅”") -> spaces;
- a "/" that the steps above would leave as the first non-space character -> a space, so that
  what a user typed ("😀/restart", "[微笑]/inform{…}") never becomes a Rasa intent trigger.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# WeChat's built-in stickers arrive as text, e.g. "[微笑]", "[捂脸]", "[OK]", "/::)".
_WECHAT_STICKER = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,4}\]|/::?[^\s\u4e00-\u9fff]{1,3}")
_INVISIBLE = {"\u200d", "\u200b", "\u200c", "\u2060", "\ufeff", "\u20e3"}


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    if ch in _INVISIBLE or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF:
        return True
    if 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x1F1E6 <= cp <= 0x1F1FF:
        return True
    return unicodedata.category(ch) == "So"


def _to_halfwidth(ch: str) -> str:
    cp = ord(ch)
    if cp == 0x3000:
        return " "
    if 0xFF01 <= cp <= 0xFF5E:
        return chr(cp - 0xFEE0)
    return ch


def to_simplified(text: str) -> str:
    """繁 -> 简 without changing the length (phrase conversions that would are done per char)."""
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    out = []
    for ch in text:
        c = _t2s().convert(ch)
        out.append(c if len(c) == 1 else ch)
    return "".join(out)


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") or ch in "~～"


def normalize_text(text: str) -> str:
    """Normalise ``text`` keeping ``len(result) == len(text)`` (see module docstring)."""
    if not text:
        return text
    text = _WECHAT_STICKER.sub(lambda m: " " * len(m.group(0)), text)
    chars = [" " if _is_emoji(ch) else _to_halfwidth(ch) for ch in text]
    chars = [" " if ch in "\t\r\n\v\f" else ch for ch in chars]
    # Repeated punctuation: keep the first mark of a run.
    before = list(chars)
    for i in range(1, len(chars)):
        if _is_punct(before[i]) and _is_punct(before[i - 1]):
            chars[i] = " "
    result = defuse_trigger(unquote(to_simplified("".join(chars))))
    assert len(result) == len(text)
    return result


# Quote marks a user copies with an instruction the bot gave them (回复“订阅” -> "“订阅”").
_QUOTES = "“”\"'‘’「」『』"


def unquote(text: str) -> str:
    """Blank the quote marks around the whole message ("“取消1”" -> " 取消1 "). Length-preserving."""
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or text[start] in _QUOTES):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in _QUOTES):
        end -= 1
    if start == 0 and end == len(text):
        return text
    return " " * start + text[start:end] + " " * (len(text) - end)


def defuse_trigger(text: str) -> str:
    """Blank every "/" before the first other non-space character.

    Rasa's RegexMessageHandler runs after the pipeline on the *normalised* text, strips it and
    reads a leading "/" as "/intent{entities}" at confidence 1.0. The gateway drops slashes a
    user types first, but an emoji, zero-width character or sticker in front of the slash only
    becomes a space here, so the slash must be neutralised here too. Length-preserving."""
    end = 0
    while end < len(text) and (text[end].isspace() or text[end] == "/"):
        end += 1
    if "/" not in text[:end]:
        return text
    return " " * end + text[end:]


def is_blank(text: str) -> bool:
    """True when nothing but whitespace is left (an emoji-only message, for instance)."""
    return not text or not text.strip()
