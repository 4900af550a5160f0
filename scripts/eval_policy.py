#!/usr/bin/env python
"""The knowledge retrieval alone on tests/policy_heldout.yml (paraphrases of policy items).

    .venv/bin/python scripts/eval_policy.py            # lexical + dense, as configured
    .venv/bin/python scripts/eval_policy.py --lexical  # lexical scores only (the action server's fallback)
    .venv/bin/python scripts/eval_policy.py -v         # list every miss

The held-out questions are only reported, never tuned on; tuning is `scripts/eval_questions.py --tune`.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.services.knowledge.base import load_knowledge  # noqa: E402
from bot.services.knowledge.retrieval import ANSWER, Retriever  # noqa: E402

HELDOUT_PATH = ROOT / "tests" / "policy_heldout.yml"


@dataclass
class Report:
    on_topic: int = 0
    off_topic: int = 0
    top1_correct: int = 0  # on-topic questions whose best item is right (whatever the confidence)
    confident_correct: int = 0
    not_sure_on_topic: int = 0
    wrong_confident: int = 0  # confident and wrong item, or confident on an off-topic question
    misses: List[str] = field(default_factory=list)

    @property
    def top1_accuracy(self) -> float:
        return self.top1_correct / self.on_topic if self.on_topic else 0.0

    @property
    def answered_accuracy(self) -> float:
        return self.confident_correct / self.on_topic if self.on_topic else 0.0


def load_heldout(path: Path = HELDOUT_PATH) -> List[dict]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)["questions"]


def evaluate(retriever: Retriever, questions: List[dict]) -> Report:
    r = Report()
    for row in questions:
        q, expect = str(row["q"]), row.get("expect")
        ranked = retriever.rank(q)
        decision = retriever.decide(q)
        answered = decision.item.id if decision.kind == ANSWER and decision.item else None
        if expect is None:
            r.off_topic += 1
            if answered:
                r.wrong_confident += 1
                r.misses.append(f"OFF-TOPIC ANSWERED  {q!r} -> {answered}")
            continue
        r.on_topic += 1
        r.top1_correct += ranked[0].item.id == expect
        if answered is None:
            r.not_sure_on_topic += 1
            r.misses.append(f"{decision.kind:<19} {q!r} -> {ranked[0].item.id} ({ranked[0].score:.3f}), want {expect}")
        elif answered == expect:
            r.confident_correct += 1
        else:
            r.wrong_confident += 1
            r.misses.append(f"WRONG CONFIDENT     {q!r} -> {answered}, want {expect}")
    return r


def configured_retriever(lexical_only: bool = False) -> Retriever:
    kb = load_knowledge()
    if lexical_only:
        return Retriever(kb)
    from bot.rasa_server.knowledge_retriever import configured_embedder

    return Retriever(kb, configured_embedder())


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lexical", action="store_true", help="lexical scores only")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    retriever = configured_retriever(args.lexical)
    report = evaluate(retriever, load_heldout())
    print(f"held-out: {report.on_topic} on-topic + {report.off_topic} off-topic; settings {retriever.settings}")
    print(f"top-1 accuracy (on-topic):          {report.top1_accuracy:.1%} ({report.top1_correct}/{report.on_topic})")
    print(f"answered correctly with confidence: {report.answered_accuracy:.1%}")
    print(f"choice or not sure (on-topic):      {report.not_sure_on_topic}")
    print(f"wrong confident answers:            {report.wrong_confident}")
    if args.verbose:
        for line in report.misses:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
