"""The dialogue corpus (tests/dialogues/) and the runner's judging, without the stack: the corpus is
large enough, split, covers every issue-21 item in both splits, is not training data; placeholders
follow the date; a check that cannot hold is reported. (The runner on the real stack:
tests/bot/conversations/test_eval_dialogues_conversation.py.)"""
from __future__ import annotations

import importlib
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

corpus = importlib.import_module("dialogue_corpus")
checks = importlib.import_module("dialogue_checks")
bench_corpus = importlib.import_module("bench_corpus")


def lookup_values() -> set:
    """Entity values (cities, schools …): a user answering "学校全称" with a name is not copying."""
    data = yaml.safe_load((ROOT / "nlu_data" / "nlu" / "lookups.yml").read_text(encoding="utf-8"))
    return {
        bench_corpus.normalise(line.strip()[2:])
        for item in data["nlu"] for line in str(item.get("examples", "")).splitlines() if line.strip()
    }


def test_the_corpus_has_sixty_conversations_about_two_thirds_dev_every_item_in_both_splits():
    conversations = corpus.load_corpus()
    assert len(conversations) >= 60
    dev = [c for c in conversations if c.split == "dev"]
    # held-out stays at least a fifth (it only grows from users' words nobody tuned on; dev grows with each fix)
    assert 0.6 <= len(dev) / len(conversations) <= 0.8
    for split in corpus.SPLITS:
        covered = {c.category for c in conversations if c.split == split}
        assert covered == set(corpus.CATEGORIES), (split, set(corpus.CATEGORIES) - covered)
    assert all(c.turns and c.task for c in conversations)


def test_the_heldout_file_says_it_is_never_used_to_tune():
    header = (corpus.CORPUS_DIR / "heldout.yml").read_text(encoding="utf-8").split("split:")[0]
    assert "Never used to tune" in header


def test_no_user_sentence_is_copied_from_the_training_data():
    examples = bench_corpus.training_examples(ROOT / "nlu_data") - lookup_values()
    sentences = [
        t.value for c in corpus.load_corpus() for t in c.turns
        if t.kind == "say" and len(bench_corpus.normalise(t.value)) >= 6
    ]
    assert len(sentences) > 80  # the reader found the sentences
    assert [s for s in sentences if bench_corpus.normalise(s) in examples] == []


def test_placeholders_follow_the_date_and_the_codes_seen():
    values = corpus.Placeholders(date(2031, 3, 2), phone="13900001111")
    assert values.fill("我{last_year}年毕业，{year_before_last}届，{this_year}，{next_year}") == "我2030年毕业，2029届，2031，2032"
    values.remember_codes("预约成功！\n预约码：AB12CD\n请准时到场")
    assert values.fill("取消 {code_spaced} / {code_lower} / {phone}") == "取消 AB1 2CD / ab12cd / 13900001111"
    assert values.fill("{code_dashed} {code_fullwidth}") == "ab1-2cd ＡＢ１２ＣＤ"
    assert values.fill("{unknown} {phone_tail}") == "{unknown} 1111"
    assert corpus.Placeholders(date(2031, 8, 31)).fill("{final_year_class}") == "2031"
    assert corpus.Placeholders(date(2031, 9, 1)).fill("{final_year_class}") == "2032"


def test_every_conversation_gets_its_own_phone_number():
    assert len({corpus.fresh_phone() for _ in range(200)}) == 200


def test_a_corpus_file_with_an_unknown_check_is_refused_with_its_name(tmp_path: Path):
    path = tmp_path / "bad.yml"
    path.write_text(
        "split: dev\nconversations:\n  - id: x\n    category: nearby\n    task: t\n"
        "    turns:\n      - say: 你好\n        expect: {contains: 你好}\n",
        encoding="utf-8",
    )
    with pytest.raises(corpus.CorpusError, match=r"bad.yml #1 \(x\) turn 1.*contains"):
        corpus.load_corpus([path])


def _judged(reply: str, expect: dict, stated=(), intent: str = "ask_policy", in_domain: bool = True) -> dict:
    turn = corpus.Turn("say", "…", expect, tuple(stated), in_domain)
    seen = checks.Observed(reply, intent, ["action_knowledge_answer"])
    return {check: ok for check, _, ok in checks.judge_turn(turn, seen, list(stated), lambda v: v)}


def test_a_question_for_a_stated_fact_fails_and_other_questions_do_not():
    asked_age = _judged("好的。\n请问您今年多少周岁？", {}, stated=["age"])
    assert asked_age["not asked again"] is False
    assert _judged("请输入您的手机号（11位），用于接收开营通知。", {}, stated=["age"])["not asked again"] is True


def test_fallback_twice_said_and_silence_fail_on_an_in_domain_turn():
    judged = _judged("抱歉，我没太明白您的意思。\n您哪一年毕业？\n您哪一年毕业？", {})
    assert _judged("这个问题我还答不上来，怕说错误导您。", {})["no fallback"] is False
    assert (judged["no fallback"], judged["said once"]) == (False, False)
    assert "no fallback" not in _judged("抱歉，我没太明白您的意思。", {}, in_domain=False)
    assert _judged("", {})["answered"] is False


def test_turn_checks_pass_and_fail_on_what_the_reply_holds():
    judged = _judged("预约成功！预约码：AB12CD", {
        "has": ["预约成功", "预约码"], "lacks": "格式不对", "matches": r"[A-Z0-9]{6}",
        "intent": ["book_workshop", "ask_policy"], "action": "action_knowledge_answer",
    })
    assert all(judged.values()), judged
    judged = _judged("请选择期次", {"has_any": ["报名成功", "候补"], "asks": "phone", "no_action": "action_knowledge_answer"})
    assert not any(judged[c] for c in ("has_any", "asks", "no_action"))


eval_dialogues = importlib.import_module("eval_dialogues")


def test_the_command_exits_2_without_starting_anything_when_the_corpus_cannot_be_read(tmp_path: Path, capsys):
    assert eval_dialogues.main(["--corpus", str(tmp_path / "missing.yml")]) == 2
    assert eval_dialogues.main(["--only", "no-such-conversation"]) == 2
    assert "no conversation matches" in capsys.readouterr().err


def test_the_report_gives_rates_per_split_and_category_and_every_failure():
    [passing, failing] = corpus.load_corpus()[:2]
    failure = checks.Failure(failing.id, 3, "不对，是2024", "asks", "graduation_year", "请选择期次")
    outcomes = [checks.Outcome(passing), checks.Outcome(failing, [failure])]
    report = eval_dialogues.report_lines(outcomes)
    assert "dev          50.0% (1/2)" in report and "heldout      n/a" in report
    assert f"[dev] {failing.id} turn 3 “不对，是2024”: asks: expected graduation_year; got 请选择期次" in report
    assert "== failed checks by kind: asks 1" in report
    assert eval_dialogues.completion_rate(outcomes) == 0.5


def test_held_out_failures_are_reported_without_the_users_words_or_the_replies():
    held_out = next(c for c in corpus.load_corpus() if c.split == corpus.HELD_OUT)
    failure = checks.Failure(held_out.id, 2, "某句用户原话", "has", "已取消", "某句机器回复")
    report = "\n".join(eval_dialogues.report_lines([checks.Outcome(held_out, [failure])], transcripts=True))
    assert f"[heldout] {held_out.id} turn 2: has" in report
    assert "某句用户原话" not in report and "某句机器回复" not in report
