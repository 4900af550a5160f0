"""Holland RIASEC scoring: table-driven, one dominant type each, ties and the tie-break."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.assessment import (
    MIDDLE,
    RIASEC,
    STRONG,
    TYPES,
    WEAK,
    holland_code,
    load_questions,
    parse_answer,
    ranking,
    result_for,
    score,
)

QUESTIONS = load_questions()


def answers_for(points_by_type: dict) -> list:
    """Answers giving each type the listed points, question by question in bank order."""
    queues = {t: list(points_by_type.get(t, [])) for t in RIASEC}
    return [queues[q.type].pop(0) if queues[q.type] else WEAK for q in QUESTIONS]


def test_bank_has_two_or_three_questions_per_type():
    assert 12 <= len(QUESTIONS) <= 18
    for t in RIASEC:
        assert 2 <= sum(q.type == t for q in QUESTIONS) <= 3


@pytest.mark.parametrize(
    "points, expected",
    [
        # one clearly dominant type first, each of the six
        ({"R": [2, 2], "I": [2, 1], "A": [1, 0]}, "RIA"),
        ({"I": [2, 2], "C": [2, 1], "R": [1]}, "ICR"),
        ({"A": [2, 2], "S": [2, 1], "E": [1]}, "ASE"),
        ({"S": [2, 2], "E": [2, 1], "C": [1]}, "SEC"),
        ({"E": [2, 2], "C": [2, 1], "R": [1]}, "ECR"),
        ({"C": [2, 2], "R": [2, 1], "I": [1]}, "CRI"),
        # ties on total, broken by the number of strong answers: 2+0 beats 1+1
        ({"S": [1, 1], "E": [2, 0], "R": [1]}, "ESR"),
        ({"A": [2, 0], "I": [1, 1], "C": [1, 1]}, "AIC"),
        # full ties (same total, same strong count) fall back to the order R I A S E C
        ({"C": [2, 2], "A": [2, 2], "E": [2, 2]}, "AEC"),
        ({t: [1, 1] for t in RIASEC}, "RIA"),
        ({}, "RIA"),
        ({"S": [1], "E": [1]}, "SER"),
    ],
)
def test_holland_code_table(points, expected):
    assert holland_code(QUESTIONS, answers_for(points)) == expected


def test_score_sums_points_per_type():
    answers = answers_for({"R": [2, 1], "C": [0, 2]})
    totals = score(QUESTIONS, answers)
    assert totals == {"R": 3, "I": 0, "A": 0, "S": 0, "E": 0, "C": 2}


def test_ranking_tie_break_order_is_documented_order():
    assert ranking({t: 0 for t in RIASEC}) == list(RIASEC)
    assert ranking({"C": 3, "R": 3}, {"C": 1, "R": 1})[:2] == ["R", "C"]
    assert ranking({"C": 3, "R": 3}, {"C": 2, "R": 1})[:2] == ["C", "R"]


def test_incomplete_or_invalid_answers_are_rejected():
    with pytest.raises(ValueError):
        holland_code(QUESTIONS, [STRONG] * (len(QUESTIONS) - 1))
    with pytest.raises(ValueError):
        score(QUESTIONS, [5] * len(QUESTIONS))


@pytest.mark.parametrize(
    "text, intent, points",
    [
        ("1", None, STRONG),
        ("１", None, STRONG),
        ("2", None, MIDDLE),
        ("3", "inform", WEAK),
        ("选1", None, STRONG),
        ("是", "affirm", STRONG),
        ("是的！", None, STRONG),
        ("很喜欢", None, STRONG),
        ("不喜欢", None, WEAK),
        ("不是", "deny", WEAK),
        ("否", None, WEAK),
        ("不", None, WEAK),
        ("一般吧", None, MIDDLE),
        ("说不准", None, MIDDLE),
        ("不知道", None, MIDDLE),
        ("嗯嗯", None, STRONG),
        ("4", None, None),
        ("附近的服务点在哪里呀我想去看看", "find_service_point", None),
        ("好呀好呀", "affirm", STRONG),
        ("？？", "deny", WEAK),
    ],
)
def test_parse_answer(text, intent, points):
    assert parse_answer(text, intent) == points


def test_result_explains_code_and_maps_to_major_groups():
    result = result_for(QUESTIONS, answers_for({"S": [2, 2], "A": [2, 2], "C": [1]}))
    assert result.code == "ASC"
    text = result.explanation()
    assert "ASC" in text and TYPES["A"].name in text and TYPES["S"].name in text
    families = result.families()
    assert families and all("大类" in f for f in families)
    assert any("第二大类" in f for f in families)


def test_bank_rejects_unbalanced_files(tmp_path: Path):
    bad = tmp_path / "q.yml"
    bad.write_text(
        "questions:\n" + "".join(f"  - {{id: r{i}, type: R, text: 问题{i}}}\n" for i in range(12)),
        encoding="utf-8",
    )
    with pytest.raises(ValueError):
        load_questions(bad)
