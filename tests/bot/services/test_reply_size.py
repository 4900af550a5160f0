"""Fitting replies to WeChat's 2,048-byte passive-reply limit (bot/services/reply_size.py)."""
from __future__ import annotations

from hypothesis import given, settings as hsettings, strategies as st

from bot.services.reply_size import byte_len, clip_bytes, count_fitting, fit_lines, fit_list, split_utf8


def test_fit_lines_cuts_at_a_line_and_adds_the_tail() -> None:
    assert fit_lines("短\n文", "\n更多", 2048) == "短\n文"
    text = "\n".join(["一行" * 10] * 20)  # 20 lines of 60 bytes
    fitted = fit_lines(text, "\n……更多", 200)
    assert fitted == "\n".join(["一行" * 10] * 3) + "\n……更多"
    assert byte_len(fitted) <= 200


def test_fit_list_keeps_header_and_footer() -> None:
    lines = [f"{i}. 课程" for i in range(100)]
    text = fit_list(lines, "近期课程：", "说“订阅”", 120)
    assert text.startswith("近期课程：\n0. 课程") and text.endswith("\n说“订阅”")
    assert byte_len(text) <= 120 < byte_len(fit_list(lines, "近期课程：", "说“订阅”", 10_000))


def test_count_fitting_shows_at_least_what_was_asked() -> None:
    assert count_fitting(lambda n: "x" * 100 * n, 5, 250) == 2
    assert count_fitting(lambda n: "x" * 100 * n, 5, 50, at_least=1) == 1
    assert count_fitting(lambda n: "", 0, 50, at_least=1) == 0


def test_clip_bytes_cuts_on_a_character() -> None:
    assert clip_bytes("短", 2048) == "短"
    clipped = clip_bytes("汉" * 100, 10)
    assert clipped == "汉汉…" and byte_len(clipped) <= 10


def test_split_prefers_line_breaks() -> None:
    text = ("第一段" * 200 + "\n\n") * 3  # each paragraph 1,800 bytes
    parts = split_utf8(text)
    assert parts == ["第一段" * 200] * 3
    assert split_utf8("短") == ["短"]
    assert split_utf8("") == [""]


@hsettings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=3000), st.integers(min_value=4, max_value=2048))
def test_split_property(text: str, limit: int) -> None:
    parts = split_utf8(text, limit)
    assert all(len(p.encode("utf-8")) <= limit for p in parts)
    # nothing but line breaks at the cuts is lost
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
