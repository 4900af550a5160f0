import pytest

from bot.language.text_normalize import is_blank, normalize_text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我想預約履歷指導", "我想预约履历指导"),
        ("濟南歷下區有沒有驛站", "济南历下区有没有驿站"),
        ("ｈｅｌｌｏ　１２３", "hello 123"),
        ("３ｑ", "3q"),
        ("在吗？？？？", "在吗?   "),
        ("谢谢😂😂", "谢谢  "),
        ("[微笑]你好", "    你好"),
        ("我\t在\n济南", "我 在 济南"),
    ],
)
def test_normalize(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize("text", ["😂", "👍🏻👍🏻", "👨‍👩‍👧", "[捂脸][捂脸]", "！！！"])
def test_emoji_only_becomes_blank_or_one_mark(text):
    out = normalize_text(text)
    assert len(out) == len(text)
    assert is_blank(out) or out.strip() == "!"


def test_length_is_preserved_for_mixed_text():
    text = "濟南ＡＢＣ🙂🙂！！我叫王梓涵　电话１３８１２３４５６７８"
    out = normalize_text(text)
    assert len(out) == len(text)
    assert out[out.index("13812345678"):][:11] == "13812345678"


@pytest.mark.parametrize(
    "typed",
    ["😀/restart", "\u200b/restart", "[微笑]/restart", '😀/inform{"city":"济南"}', "👍🏻 / /restart", "😀／restart"],
)
def test_no_slash_is_left_first_after_normalisation(typed):
    # Rasa strips the normalised text and reads a leading "/" as an intent trigger.
    out = normalize_text(typed)
    assert len(out) == len(typed)
    assert not out.strip().startswith("/")


def test_slashes_inside_a_sentence_are_kept():
    assert normalize_text("改简历/面试辅导") == "改简历/面试辅导"


@pytest.mark.parametrize("typed, read", [
    ("“订阅”", " 订阅 "), ("「取消1」", " 取消1 "), ('"继续"', " 继续 "),
    ("回复“订阅”是吧", "回复“订阅”是吧"),  # quotes inside a sentence stay
])
def test_quotes_around_a_copied_instruction_are_blanked(typed, read):
    assert normalize_text(typed) == read
