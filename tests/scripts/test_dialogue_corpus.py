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
    assert values.fill("{phone_spaced} {last_year_short}年 {this_year_short}届") == "139 0000 1111 30年 31届"
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


AGENDA = """split: dev
conversations:
  - id: x
    category: profile
    task: t
    persona: {persona}
    turns:
      - say: 俺想报实训营
      - say: 要手机号干啥
        at: {at}
"""


def _agenda_file(tmp_path: Path, persona: str = "{age: 20, phone: '{phone}'}", at: str = "phone") -> Path:
    path = tmp_path / "agenda.yml"
    path.write_text(AGENDA.replace("{persona}", persona).replace("{at}", at), encoding="utf-8")
    return path


def test_an_agenda_conversation_reads_its_persona_and_the_turn_that_waits_for_a_question(tmp_path: Path):
    [conversation] = corpus.load_corpus([_agenda_file(tmp_path, "{age: 20, phone: '{phone}', choose: 2}")])
    assert conversation.persona == corpus.Persona({"age": "20", "phone": "{phone}"}, choose="2", confirm="对")
    assert [t.at for t in conversation.turns] == [None, "phone"]
    scripted = [c for c in corpus.load_corpus() if c.persona is None]
    assert scripted and all(t.at is None for c in scripted for t in c.turns)


@pytest.mark.parametrize("persona, at, error", [
    ("{age: 20, hobby: 钓鱼}", "phone", r"#1 \(x\): unknown persona key\(s\) \['hobby'\]"),
    ("{age: 20}", "mobile", r"turn 2: `at: mobile` is not a fact"),
    ("{age: [20, 21]}", "phone", r"persona `age` must be what the user types"),
    ("{age: ''}", "phone", r"persona `age` must be what the user types"),
    ("[age, phone]", "phone", r"`persona` must map facts"),
])
def test_a_persona_or_at_the_simulated_user_cannot_use_is_refused_with_where(tmp_path: Path, persona, at, error):
    with pytest.raises(corpus.CorpusError, match=error):
        corpus.load_corpus([_agenda_file(tmp_path, persona, at)])


def test_at_needs_a_persona_and_a_turn_before_it(tmp_path: Path):
    path = _agenda_file(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("    persona: {age: 20, phone: '{phone}'}\n", ""), encoding="utf-8")
    with pytest.raises(corpus.CorpusError, match=r"turn 2: `at` needs a `persona`"):
        corpus.load_corpus([path])
    path = _agenda_file(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("      - say: 俺想报实训营\n", ""), encoding="utf-8")
    with pytest.raises(corpus.CorpusError, match=r"turn 1: the opening cannot wait"):
        corpus.load_corpus([path])


def test_the_dev_agenda_conversations_are_read_with_their_personas():
    agenda = [c for c in corpus.load_corpus() if c.persona is not None and c.split == "dev"]
    assert len(agenda) >= 5
    assert all(set(c.persona.facts) <= set(corpus.ASKS) and c.final for c in agenda)


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


def test_simulated_answers_are_reported_by_turn_and_answer_and_held_out_ones_without_words(tmp_path: Path):
    [agenda] = corpus.load_corpus([_agenda_file(tmp_path)])
    outcome = checks.Outcome(agenda, [
        checks.Failure(agenda.id, 1, "13900001111", "not asked again", "no question for phone", "请输入您的手机号", sim=2),
        checks.Failure(agenda.id, 2, "要手机号干啥", "at", "the bot asks for phone", "the bot never asked for phone"),
    ], simulated=3, unknown=1)
    report = eval_dialogues.report_lines([outcome])
    assert f"[dev] {agenda.id} turn 1 sim 2 “13900001111”: not asked again: expected no question for phone; got 请输入您的手机号" in report
    assert f"[dev] {agenda.id} turn 2 “要手机号干啥”: at: expected the bot asks for phone; got the bot never asked for phone" in report
    assert "== simulated user: 3 answers in 1 agenda conversations, 1 of them “不知道” (a fact the persona lacks)" in report
    held_out = checks.Outcome(corpus.Conversation(agenda.id, corpus.HELD_OUT, agenda.category, agenda.task, agenda.turns,
                                                  persona=agenda.persona), outcome.failures, ["用户: (sim) 13900001111"])
    report = "\n".join(eval_dialogues.report_lines([held_out], transcripts=True))
    assert f"[heldout] {agenda.id} turn 1 sim 2: not asked again" in report and f"[heldout] {agenda.id} turn 2: at" in report
    assert "13900001111" not in report and "要手机号干啥" not in report
