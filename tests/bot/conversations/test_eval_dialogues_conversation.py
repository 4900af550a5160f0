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
