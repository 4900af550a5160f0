"""The dialogue-corpus runner (scripts/eval_dialogues.py) on the real stack: two corpus conversations
that complete on the current bot, and one in a temporary corpus whose check cannot hold, which the
report must name with its turn, what was expected and what happened."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

eval_dialogues = importlib.import_module("eval_dialogues")
corpus = importlib.import_module("dialogue_corpus")

pytestmark = pytest.mark.stack

# Two short conversations of the corpus that the bot completes (pushes back on; a handoff request).
PASSING = ("unsubscribe-then-subscribe", "handoff-plain")
NEVER_SAID = "这句话职引从来不会说"
BROKEN = f"""split: dev
conversations:
  - id: broken-check
    category: instructions
    task: 问候、道谢；检查一句职引不会说的话，这一条必须报失败
    turns:
      - say: 你好
      - say: 谢谢你啊
        expect: {{has: [{NEVER_SAID}]}}
"""


async def test_the_runner_completes_good_conversations_and_reports_a_broken_check(chat, tmp_path):
    broken_file = tmp_path / "broken.yml"
    broken_file.write_text(BROKEN, encoding="utf-8")
    chosen = [c for c in corpus.load_corpus() if c.id in PASSING] + corpus.load_corpus([broken_file])
    assert [c.id for c in chosen] == [*PASSING, "broken-check"]

    outcomes = await eval_dialogues.play_all(chosen, chat)

    by_id = {o.conversation.id: o for o in outcomes}
    assert all(by_id[i].completed for i in PASSING), [f for i in PASSING for f in by_id[i].failures]
    broken = by_id["broken-check"]
    assert not broken.completed
    assert [(f.turn, f.check) for f in broken.failures] == [(2, "has")], broken.failures
    assert broken.transcript[2] == "用户: 谢谢你啊" and broken.transcript[3].startswith("职引: ")

    report = "\n".join(eval_dialogues.report_lines(outcomes))
    assert "dev          66.7% (2/3)" in report, report
    assert f"broken-check turn 2 “谢谢你啊”: has: expected {NEVER_SAID}; got " in report, report
    assert eval_dialogues.completion_rate(outcomes) == pytest.approx(2 / 3)


# An agenda conversation of the corpus (a simulated user answers the bot's questions) that the bot
# completes, and one whose `at:` waits for a question the booking never asks (the school).
AGENDA = "sim-camp-why-phone-heze"
NEVER_ASKED = """split: dev
conversations:
  - id: never-asked-school
    category: profile
    task: 约简历指导，等着被问学校；预约从来不问学校，这一条必须报 at 失败
    persona: {topic: 简历指导, time: 最近的, name: 孟凡星, phone: "{phone}"}
    turns:
      - say: 想约个老师帮忙改改简历
      - say: 学校也得填吗
        at: school
"""


async def test_the_runner_plays_an_agenda_conversation_and_reports_an_at_the_bot_never_asks_for(chat, tmp_path):
    never_file = tmp_path / "never.yml"
    never_file.write_text(NEVER_ASKED, encoding="utf-8")
    chosen = [c for c in corpus.load_corpus() if c.id == AGENDA] + corpus.load_corpus([never_file])
    assert [c.id for c in chosen] == [AGENDA, "never-asked-school"]

    agenda, never = await eval_dialogues.play_all(chosen, chat)

    assert agenda.completed, agenda.failures
    assert agenda.simulated >= 4 and any(line.startswith("用户: (sim) ") for line in agenda.transcript)
    # the side question was sent when the bot asked for the phone, and the number after it
    said = [line for line in agenda.transcript if line.startswith("用户: ")]
    asked_why = said.index("用户: 要手机号干啥啊 可别给俺打推销电话")
    assert said[asked_why + 1].startswith("用户: (sim) 1") and len(said[asked_why + 1]) == len("用户: (sim) ") + 11

    assert [(f.turn, f.check) for f in never.failures] == [(2, "at")], never.failures
    assert never.simulated >= 2 and "用户: 学校也得填吗" not in never.transcript
    report = "\n".join(eval_dialogues.report_lines([agenda, never]))
    assert ("never-asked-school turn 2 “学校也得填吗”: at: expected the bot asks for school; "
            "got the bot never asked for school") in report, report
