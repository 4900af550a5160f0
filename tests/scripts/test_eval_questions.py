"""scripts/eval_questions.py --tune: dev is scored k-fold, each message by settings tuned without it."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import eval_questions  # noqa: E402
from everyday_questions import Question  # noqa: E402

from bot.services.knowledge.base import load_knowledge  # noqa: E402
from tests.helpers.knowledge_items import ITEM  # noqa: E402


def two_item_base(directory: Path):
    (directory / "a.yml").write_text(
        "off_topic_calibration: [公积金怎么取, 今天天气怎么样]\nitems:"
        + ITEM.format(id="lost_job", title="失业登记", variants="丢了工作去哪登记, 失业了怎么登记")
        + ITEM.format(id="new_job", title="就业登记", variants="找到工作了要登记吗, 入职后就业登记"),
        encoding="utf-8",
    )
    return load_knowledge(directory)


def parse(text: str, intent: str) -> dict:
    return {"text": text, "intent": {"name": intent, "confidence": 0.9}}


CASES = [
    Question("失业了去哪登记", ("kb:lost_job",), "失业青年", "plain"),
    Question("刚入职要办就业登记吗", ("kb:new_job",), "通用", "plain"),
    Question("没工作了在哪登记", ("kb:lost_job",), "失业青年", "plain"),
    Question("有招聘会吗", ("intent:find_job_fair",), "通用", "plain"),
    Question("公积金咋取", ("decline",), "通用", "plain"),
    Question("新单位让登记就业", ("kb:new_job",), "通用", "plain"),
]
INTENTS = ["ask_policy", "ask_policy", "nlu_fallback", "find_job_fair", "ask_policy", "ask_policy"]


def test_only_messages_routed_to_knowledge_calibrate_and_a_flow_is_none_of_them(tmp_path):
    kb = two_item_base(tmp_path)
    routed = eval_questions.routed_to_knowledge(CASES, [parse(c.text, i) for c, i in zip(CASES, INTENTS)], kb)
    assert [(position, wanted) for position, _, wanted in routed] == [
        (0, "lost_job"), (1, "new_job"), (2, "lost_job"), (4, None), (5, "new_job"),
    ]


def test_each_fold_is_scored_by_settings_tuned_without_it(tmp_path, monkeypatch):
    kb = two_item_base(tmp_path)
    parses = [parse(c.text, i) for c, i in zip(CASES, INTENTS)]
    tuned_on: List[List[str]] = []
    real_tune = eval_questions.tune

    def recording_tune(kb_, embedder, questions: Sequence[Tuple[str, Optional[str]]]):
        tuned_on.append([q for q, _ in questions])
        return real_tune(kb_, embedder, questions)

    scored: List[List[str]] = []
    real_decide_many = eval_questions.Retriever.decide_many

    def recording_decide_many(self, questions):
        scored.append(list(questions))
        return real_decide_many(self, questions)

    monkeypatch.setattr(eval_questions, "tune", recording_tune)
    monkeypatch.setattr(eval_questions.Retriever, "decide_many", recording_decide_many)
    outcomes = eval_questions.cross_validated_outcomes(CASES, parses, kb, None, folds=3)

    assert len(tuned_on) == len(scored) == 3
    for questions, texts in zip(tuned_on, scored):
        assert texts and not set(texts) & set(questions)  # never tuned on what it scores
        assert set(kb.off_topic_calibration) <= set(questions)
    assert sorted(t for texts in scored for t in texts) == sorted(c.text for c, i in zip(CASES, INTENTS)
                                                                 if i in eval_questions.KNOWLEDGE_INTENTS)
    assert outcomes[3] == ("intent:find_job_fair", ())  # a flow's outcome is the model's, untouched
    assert all(label in ("kb:lost_job", "kb:new_job", "choose", "none") for label, _ in outcomes[:3])
