from datetime import datetime, timezone

import pytest

from bot.clock import SHANGHAI
from bot.language.time_parser import looks_like_time, parse_time_expression

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)  # a Saturday


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("明天下午", "2026-11-29T13:00:00+08:00", "2026-11-29T17:59:59+08:00"),
        ("下周三", "2026-12-02T00:00:00+08:00", "2026-12-02T23:59:59+08:00"),
        ("后天上午十点", "2026-11-30T10:00:00+08:00", "2026-11-30T10:59:59+08:00"),
        ("明早9点半", "2026-11-29T09:30:00+08:00", "2026-11-29T09:30:59+08:00"),
        ("今晚", "2026-11-28T18:00:00+08:00", "2026-11-28T23:59:59+08:00"),
        ("十二月五号", "2026-12-05T00:00:00+08:00", "2026-12-05T23:59:59+08:00"),
        ("明天下午3点到5点", "2026-11-29T15:00:00+08:00", "2026-11-29T17:00:00+08:00"),
    ],
)
def test_parses_relative_to_now(text, start, end):
    assert parse_time_expression(text, NOW) == (start, end)


def test_past_dates_without_year_mean_the_next_one():
    # 3月5号 said in November is next March; a bare weekday already past is next week's.
    assert parse_time_expression("3月5号", NOW)[0] == "2027-03-05T00:00:00+08:00"
    assert parse_time_expression("周三", NOW)[0] == "2026-12-02T00:00:00+08:00"
    assert parse_time_expression("礼拜三", NOW)[0] == "2026-12-02T00:00:00+08:00"
    assert parse_time_expression("12号下午", NOW)[0] == "2026-12-12T13:00:00+08:00"
    assert parse_time_expression("2027年1月3日", NOW)[0] == "2027-01-03T00:00:00+08:00"


@pytest.mark.parametrize("text", ["俺下周下午都有空", "下礼拜上午都中", "想约个老师练练面试 俺下周下午都有空"])
def test_a_week_with_a_part_of_the_day_but_no_day_is_that_week(text):
    # NOW is Saturday 2026-11-28: next week is Mon 11-30 to Sun 12-06 (the user picks the afternoon session)
    assert parse_time_expression(text, NOW) == ("2026-11-30T00:00:00+08:00", "2026-12-06T23:59:59+08:00")


def test_a_part_of_the_day_alone_or_with_a_day_is_read_as_before():
    assert parse_time_expression("下周三下午", NOW) == ("2026-12-02T13:00:00+08:00", "2026-12-02T17:59:59+08:00")
    assert parse_time_expression("下午有空", NOW)[0] == "2026-11-28T13:00:00+08:00"


def test_past_clock_time_without_a_day_means_tomorrow():
    # NOW is 10:00: 上午9点半 and 早上 are gone today, 下午3点 and 14:00 are still ahead.
    assert parse_time_expression("上午9点半", NOW)[0] == "2026-11-29T09:30:00+08:00"
    assert parse_time_expression("早上", NOW)[0].startswith("2026-11-29T")
    assert parse_time_expression("9:30", NOW)[0] == "2026-11-29T09:30:00+08:00"
    assert parse_time_expression("下午3点", NOW)[0] == "2026-11-28T15:00:00+08:00"
    assert parse_time_expression("14:00", NOW)[0] == "2026-11-28T14:00:00+08:00"
    # A day was named: today is meant even when it is past (the booking flow says it is over).
    assert parse_time_expression("今天上午9点", NOW)[0] == "2026-11-28T09:00:00+08:00"


@pytest.mark.parametrize("text", ["2月30号", "13月1号", "每周三", "你好", "", "   ", "下个月"])
def test_impossible_or_non_time_gives_none(text):
    assert parse_time_expression(text, NOW) is None


def test_now_in_other_timezone_is_converted():
    utc_now = datetime(2026, 11, 28, 17, 0, tzinfo=timezone.utc)  # 2026-11-29 01:00 in Shanghai
    assert parse_time_expression("明天", utc_now)[0] == "2026-11-30T00:00:00+08:00"


def test_naive_now_is_taken_as_shanghai():
    assert parse_time_expression("明天", datetime(2026, 11, 28, 23, 0))[0] == "2026-11-29T00:00:00+08:00"


@pytest.mark.parametrize("text", ["明天下午", "周三", "2月30号", "9点半", "下个月", "今晚", "十二月二十二号"])
def test_time_like_text_is_recognised_even_when_impossible(text):
    assert looks_like_time(text)


@pytest.mark.parametrize("text", ["苏瑶", "你好", "周杰伦的歌", "改简历", ""])
def test_names_and_plain_words_do_not_look_like_time(text):
    assert not looks_like_time(text)


@pytest.mark.parametrize("phone", ["13988171239", "139 8817 1239", "15912345678"])
def test_a_phone_number_in_the_message_is_not_read_as_a_time(phone):
    said = parse_time_expression(f"约个面试指导 下周三 我叫卢思琪 电话{phone}", NOW)
    assert said == parse_time_expression("下周三", NOW) == ("2026-12-02T00:00:00+08:00", "2026-12-02T23:59:59+08:00")
    assert parse_time_expression(f"电话{phone}", NOW) is None
