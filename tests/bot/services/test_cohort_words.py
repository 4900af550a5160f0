"""A camp cohort named in words at the cohort question (bot/services/cohort_words.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import system_clock
from bot.services.camp import Cohort
from bot.services.cohort_words import named_cohort


def _cohort(cid: str, city: str, title: str, online: bool = False) -> Cohort:
    start = system_clock().date() + timedelta(days=20)
    return Cohort(id=cid, city=city, title=title, venue="示例场地", online=online, start=start,
                  end=start + timedelta(days=4), schedule="白天", content="", capacity=30, fee="免费",
                  certificate="", contact="12333", enroll_deadline=start - timedelta(days=3))


QINGDAO = _cohort("qd-8", "青岛市", "青岛第8期")
JINAN = _cohort("jn-12", "济南市", "济南第12期")
ONLINE = _cohort("online-4", "线上", "线上第4期", online=True)
CHOICES = [QINGDAO, JINAN, ONLINE]


@pytest.mark.parametrize("text, cohort", [
    ("报线上那期吧", ONLINE),
    ("就报青岛那个", QINGDAO),
    ("俺要青岛线下那期", QINGDAO),
    ("济南那期中不", JINAN),
    ("第12期", JINAN),
    ("就报济南的吧", JINAN),  # the city chosen, no "那期"
])
def test_words_that_fit_one_offered_cohort_pick_it(text: str, cohort: Cohort) -> None:
    assert named_cohort(text, CHOICES) == cohort


@pytest.mark.parametrize("text", ["线下那期", "随便吧", "俺叫王青岛", "不知道选哪个", ""])
def test_words_that_fit_several_or_none_pick_nothing(text: str) -> None:
    assert named_cohort(text, CHOICES) is None


def test_the_only_cohort_offered_is_picked_by_that_period_words() -> None:
    assert named_cohort("报那期", [ONLINE]) == ONLINE
    assert named_cohort("嗯嗯", [ONLINE]) is None


def test_outside_the_cohort_question_only_words_about_a_cohort_pick_one() -> None:
    assert named_cohort("人就在济南 那个实训营俺也想报一个", CHOICES, strict=True) is None
    assert named_cohort("那就报济南那期", CHOICES, strict=True) == JINAN
    assert named_cohort("给俺报线上的", CHOICES, strict=True) == ONLINE


def test_the_soonest_is_named_by_when_it_starts() -> None:
    later = _cohort("jn-13", "济南市", "济南第13期")
    later = Cohort(**{**later.__dict__, "start": later.start + timedelta(days=14)})
    assert named_cohort("最早开班的那期就行", [later, JINAN]) == JINAN
    assert named_cohort("济南最近那期", [later, QINGDAO, JINAN]) == JINAN
    assert named_cohort("线上最早的", CHOICES) == ONLINE
