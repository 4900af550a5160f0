#!/usr/bin/env python
"""Evaluate the policy FAQ matcher on the held-out questions; optionally (re)choose the threshold.

    .venv/bin/python scripts/eval_policy.py            # report on tests/policy_heldout.yml
    .venv/bin/python scripts/eval_policy.py --tune     # also choose the threshold from the FAQ
    .venv/bin/python scripts/eval_policy.py -v         # list every miss

Tuning never looks at the held-out set: it uses leave-one-out over the FAQ's own variants and
the FAQ's off-topic calibration questions (see bot/services/policy.py). Put the printed value
under `matcher: threshold:` in data/knowledge/policy.yml.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.services.policy import (  # noqa: E402
    FAQ_PATH,
    PolicyMatcher,
    choose_threshold,
    leave_one_out,
    load_faq,
)

HELDOUT_PATH = Path(__file__).resolve().parent.parent / "tests" / "policy_heldout.yml"


@dataclass
class Report:
    on_topic: int
    off_topic: int
    top1_correct: int  # on-topic questions whose best item is right (whatever the confidence)
    confident_correct: int
    not_sure_on_topic: int
    not_sure_off_topic: int
    wrong_confident: int  # confident and wrong item, or confident on an off-topic question
    misses: List[str]

    @property
    def top1_accuracy(self) -> float:
        return self.top1_correct / self.on_topic if self.on_topic else 0.0

    @property
    def answered_accuracy(self) -> float:
        """Share of on-topic questions that got the right answer confidently."""
        return self.confident_correct / self.on_topic if self.on_topic else 0.0

    @property
    def not_sure_share(self) -> float:
        total = self.on_topic + self.off_topic
        return (self.not_sure_on_topic + self.not_sure_off_topic) / total if total else 0.0

    @property
    def not_sure_share_on_topic(self) -> float:
        return self.not_sure_on_topic / self.on_topic if self.on_topic else 0.0


def load_heldout(path: Path = HELDOUT_PATH) -> List[dict]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)["questions"]


def evaluate(matcher: PolicyMatcher, questions: List[dict]) -> Report:
    r = Report(0, 0, 0, 0, 0, 0, 0, [])
    for row in questions:
        q, expect = str(row["q"]), row.get("expect")
        m = matcher.match(q)
        got: Optional[str] = m.item.id if m.item else None
        if expect is None:
            r.off_topic += 1
            if m.confident:
                r.wrong_confident += 1
                r.misses.append(f"OFF-TOPIC ANSWERED  {q!r} -> {got} ({m.score:.3f})")
            else:
                r.not_sure_off_topic += 1
            continue
        r.on_topic += 1
        if got == expect:
            r.top1_correct += 1
        if not m.confident:
            r.not_sure_on_topic += 1
            r.misses.append(f"not sure            {q!r} -> {got} ({m.score:.3f}), want {expect}")
        elif got == expect:
            r.confident_correct += 1
        else:
            r.wrong_confident += 1
            r.misses.append(f"WRONG CONFIDENT     {q!r} -> {got} ({m.score:.3f}), want {expect}")
    return r


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faq", type=Path, default=FAQ_PATH)
    ap.add_argument("--heldout", type=Path, default=HELDOUT_PATH)
    ap.add_argument("--tune", action="store_true", help="choose the threshold from the FAQ data")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    faq = load_faq(args.faq)
    threshold, margin = faq.threshold, faq.min_margin
    if args.tune:
        full = PolicyMatcher(faq.items, synonyms=faq.synonyms)
        rows = leave_one_out(faq.items, faq.synonyms)
        for q in faq.off_topic_calibration:
            ranked = full.rank(q)
            rows.append((False, False, ranked[0][1], ranked[0][1] - ranked[1][1]))
        threshold, margin, info = choose_threshold(rows)
        loo_correct = sum(1 for on, ok, _, _ in rows if on and ok)
        loo_total = sum(1 for on, _, _, _ in rows if on)
        print(
            f"tuning: leave-one-out top-1 {loo_correct}/{loo_total}, "
            f"{len(faq.off_topic_calibration)} off-topic; chosen threshold {threshold}, "
            f"min margin {margin} (cost {info['cost']:.0f}; configured: {faq.threshold}, "
            f"{faq.min_margin})"
        )

    questions = load_heldout(args.heldout)
    report = evaluate(PolicyMatcher(faq.items, threshold, faq.synonyms, margin), questions)
    print(
        f"held-out: {report.on_topic} on-topic + {report.off_topic} off-topic, "
        f"threshold {threshold}, min margin {margin}"
    )
    print(f"top-1 accuracy (on-topic):          {report.top1_accuracy:.1%} ({report.top1_correct}/{report.on_topic})")
    print(f"answered correctly with confidence: {report.answered_accuracy:.1%}")
    print(f"'not sure' share (all questions):   {report.not_sure_share:.1%} "
          f"(on-topic {report.not_sure_on_topic}, off-topic {report.not_sure_off_topic})")
    print(f"wrong confident answers:            {report.wrong_confident}")
    if args.verbose:
        for line in report.misses:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
