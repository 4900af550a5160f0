"""scripts/cluster_drill.py's bookkeeping: what counts as answered, duplicated, lost and resumed,
and the booking user's replies (the drill itself is `make test-cluster`)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

drill = importlib.import_module("cluster_drill")
load_module = importlib.import_module("cluster_load")


def _load(*messages):
    load = load_module.Load("http://127.0.0.1:1", "token")
    load.messages.extend(messages)
    return load


def test_each_message_is_answered_once_lost_or_duplicated() -> None:
    Message = load_module.Message
    before = Message("oA", "你好", sent_at=95.0, passive="您好", finished_at=95.2)
    passive = Message("oA", "附近招聘会", sent_at=101.0, passive="这周有两场", finished_at=101.4)
    pushed = Message("oB", "确认", sent_at=102.0, tries=2, failed_tries=1, finished_at=105.0)
    lost = Message("oC", "谢谢", sent_at=103.0, tries=3, failed_tries=3, finished_at=118.0)
    twice = Message("oD", "我想找工作", sent_at=104.0, passive="好的", finished_at=104.5)
    load = _load(before, passive, pushed, lost, twice)
    found = {
        id(before): drill.Outcome(["您好"], 95.2),
        id(passive): drill.Outcome(["这周有两场"], 101.4),
        id(pushed): drill.Outcome(["系统有点忙，请稍后再发一次消息"], 106.0),
        id(lost): drill.Outcome([], None),
        id(twice): drill.Outcome(["好的", "好的"], 104.5),
    }
    figures = drill.figures(load, found, start=100.0, end=200.0, killed_at=100.5)
    assert (figures["sent"], figures["answered"], figures["lost"], figures["duplicated"]) == (4, 3, 1, 1)
    assert figures["answered_later"] == 1 and figures["retried"] == 2
    # resumed: the first normal (not 稍后) answer to a message sent after the kill
    assert figures["resume_s"] == 0.9
    assert [m["text"] for m in figures["lost_messages"]] == ["谢谢"]


def test_the_verdict_names_every_broken_promise() -> None:
    good = {"lost": 0, "duplicated": 0, "resume_s": 1.0}
    report = {
        "drills": [{"name": "gateway", "figures": dict(good)},
                   {"name": "redis primary", "figures": dict(good, bookings_lost=["AB12CD"])}],
        "replacements": [{"replica": "rasa1", "requests_in_first_s": 0, "others_not_restarted": True}],
    }
    problems = drill.verdict(report)
    assert len(problems) == 2
    assert "AB12CD" in problems[0] and "rasa1" in problems[1]
    report["drills"][1]["figures"]["bookings_lost"] = []
    report["replacements"][0]["requests_in_first_s"] = 12
    assert drill.verdict(report) == []


def test_the_booking_user_answers_what_the_bot_asks() -> None:
    answer = load_module._booking_answer
    assert answer("想约什么时间？也可以说“最近”。", "13900000000") == "最近"
    assert answer("可预约的场次：\n1. 12月8日（周二）14:00｜简历｜济南｜余12席", "13900000000") == "1"
    assert answer("请输入您的手机号（11位）", "13912345678") == "13912345678"
    assert answer("请确认预约信息：…手机：139****5678", "13912345678") == "确认"
    assert answer("系统有点忙，请稍后再发一次消息", "13900000000") is None  # start again
