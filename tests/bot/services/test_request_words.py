"""Requests made in so many words, whatever intent NLU gave them (bot/services/request_words.py)."""
from __future__ import annotations

import pytest

from bot.services.request_words import (
    asks_bot_to_sign_up,
    asks_to_enrol,
    cancels_a_code,
    corrected_phone,
    enrols_if_allowed,
    for_someone_else,
)


@pytest.mark.parametrize("text", [
    "给俺整一个训练营 俺21 木有工作 搁济南",
    "俺去年潍坊学院毕业的 到现在一直在家闲着 想去恁那个求职营",
    "俺儿子去年大专毕业的 一直没找着活 给他报个实训营中不",  # a request to the bot, even with a question's end
    "帮俺弟报个名 就恁们那个青年求职的培训 他19 在临沂待业",
    "俺想报实训营 俺是失业青年 21岁 在青岛黄岛这边",
    "你好俺想参加实训营俺待业23岁在青岛黄岛",
    "俺闺女24了 一直没工作 俺想给她报上恁那个实训营",
    "前年毕业的 听人说有个训练营 俺想报",
    "实训营 俺22了还能报不 能的话给俺报上",
    "实训营还能报不 俺想去",  # the question, then the wish said outright
    "那个训练营现在还能报名吗 俺挺想去的",
    "俺23 实训营俺能报不 能报俺就报",
])
def test_a_request_to_enrol_is_read_in_the_words_people_use(text: str) -> None:
    assert asks_to_enrol(text)


@pytest.mark.parametrize("text", [
    "恁们那个实训营俺能参加不 俺20 在家没活干",  # a question only: answered, nobody enrolled
    "俺35了还能报实训营不", "实训营怎么报名", "训练营要钱吗", "想问问实训营啥时候开班",
    "实训营还能报吗 俺想去问问",  # going to ask is no wish to join
    "取消实训营报名", "我报的实训营在哪看", "我报了实训营", "不想报实训营了", "帮我报个名",  # no camp named
])
def test_questions_cancellations_and_other_things_are_no_request(text: str) -> None:
    assert not asks_to_enrol(text)


def test_whether_one_may_join_and_the_enrolment_if_so_are_told_apart() -> None:
    assert enrols_if_allowed("俺22了还能报不 能的话给俺报上")
    assert enrols_if_allowed("我大四 实训营我能去不 能去的话直接帮我报上")
    assert not enrols_if_allowed("俺22了还能报实训营不")
    assert asks_bot_to_sign_up("俺儿子去年大专毕业的 给他报个实训营中不") and not asks_bot_to_sign_up("俺能报不")


@pytest.mark.parametrize("text, cancels", [
    ("你好 编号online-123456那个 家里有事去不了了", True),
    ("取消 ab23cd", True),
    ("ＡＢ２３ＣＤ 来不了了", True),  # a full-width keyboard
    ("手机13953358812 有事去不了", False),  # a phone number is no code
    ("ABCDEF去不了", False),
    ("编号AB23CD是啥", False),
])
def test_a_code_named_with_a_cancel_word_is_a_cancellation(text: str, cancels: bool) -> None:
    assert cancels_a_code(text) is cancels


@pytest.mark.parametrize("text, phone", [
    ("不对 手机号输错了 是13900001234", "13900001234"),
    ("号码打错了 应该是139 0000 1234", "13900001234"),
    ("刚才那个电话不对 换成13900001234", "13900001234"),
    ("13900001234", None),  # a number alone: an answer, no correction
    ("俺叫张三 电话13900001234", None),
    ("不对 名字打错了 是房晓冬", None),
])
def test_a_phone_correction_gives_the_new_number(text: str, phone) -> None:
    assert corrected_phone(text) == phone


@pytest.mark.parametrize("text, how", [
    ("实训营这个咋报名啊 俺瞅瞅", True),
    ("俺想上实训营 咋弄", True),
    ("在青岛工地干了两年 回日照老家了 俺24 听说有个啥求职实训营 咋报", True),
    ("实训营 我这情况能报不", False),  # whether one may: answered first
    ("实训营咋报名 要交钱不", True),
    ("实训营报名费怎么交", False),
    ("实训营怎么取消报名", False),
    ("失业登记咋弄", False),  # no camp named
])
def test_asking_how_to_join_the_camp_is_told_from_whether_one_may(text: str, how: bool) -> None:
    from bot.services.request_words import asks_how_to_join

    assert asks_how_to_join(text) == how


@pytest.mark.parametrize("text, other", [
    ("那个实训营 给俺儿报一个", True), ("帮俺弟报个实训营 他19", True), ("中 给她报上吧", True),
    ("俺是替俺闺女问的", True), ("给俺报上吧", False), ("帮我报一个呗", False), ("俺儿童时期学过画画", False),
])
def test_a_sign_up_for_a_son_a_brother_or_her_is_for_someone_else(text: str, other: bool) -> None:
    assert for_someone_else(text) is other
