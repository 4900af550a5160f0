#!/usr/bin/env python
"""`make eval-nlu`: 5-fold cross-validation + the held-out set, one report under reports/.

1. `rasa test nlu --cross-validation --folds 5` on nlu_data/ with config.yml;
2. train on all of nlu_data/ (timed), `rasa test nlu` on tests/nlu_test.yml (never trained on);
3. writes reports/nlu_eval.md (+ the raw Rasa reports in reports/nlu/) with intent macro-F1,
   per-entity F1, the top confusions and a FallbackClassifier threshold derived from the CV
   confidences, and prints the headline numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
RASA = str(ROOT / ".venv" / "bin" / "rasa")
# Same folds on every run (Rasa shuffles them unseeded), so configs compare like for like.
SEEDED_RASA = [sys.executable, str(ROOT / "scripts" / "seeded_rasa.py")]
REPORTS = ROOT / "reports"
LOCK = "/tmp/zhinan-train.lock"


def run(cmd: List[str], log: Path) -> float:
    """Run a Rasa command (under the shared training lock), log to a file, return wall seconds."""
    started = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.run(["flock", LOCK, *cmd], cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}), see {log}: {' '.join(cmd)}")
    return time.monotonic() - started


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def entity_f1(report: dict) -> Dict[str, Tuple[float, int]]:
    skip = {"micro avg", "macro avg", "weighted avg", "accuracy", "no_entity"}
    return {k: (v["f1-score"], v["support"]) for k, v in report.items() if k not in skip and isinstance(v, dict)}


def confusions(errors: List[dict], top: int = 10) -> List[Tuple[str, str, int, List[str]]]:
    pairs: Counter = Counter()
    examples: Dict[Tuple[str, str], List[str]] = {}
    for e in errors:
        key = (e["intent"], e["intent_prediction"]["name"])
        pairs[key] += 1
        examples.setdefault(key, []).append(e["text"])
    return [(a, b, n, examples[(a, b)][:3]) for (a, b), n in pairs.most_common(top)]


def choose_threshold(successes: List[dict], errors: List[dict]) -> Optional[dict]:
    """Threshold maximising Youden's J = P(correct kept) + P(wrong rejected) - 1, keeping >=97%
    of the correct predictions (a fallback for a right answer costs the user a turn)."""
    ok = [s["intent_prediction"]["confidence"] for s in successes]
    bad = [e["intent_prediction"]["confidence"] for e in errors]
    if not ok or not bad:
        return None
    best = None
    for i in range(10, 91):
        t = i / 100
        kept = sum(c >= t for c in ok) / len(ok)
        rejected = sum(c < t for c in bad) / len(bad)
        if kept < 0.97:
            continue
        j = kept + rejected - 1
        if best is None or j > best["youden_j"] + 1e-9:
            best = {"threshold": t, "correct_kept": kept, "errors_rejected": rejected, "youden_j": j}
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--skip-cv", action="store_true")
    ap.add_argument("--config", default="config.yml")
    args = ap.parse_args()

    out = REPORTS / "nlu"
    out.mkdir(parents=True, exist_ok=True)
    cv_dir, ho_dir = out / "cv", out / "heldout"
    env_note = f"load average {os.getloadavg()[0]:.2f} at start, {os.cpu_count()} cores"

    cv_seconds = None
    if not args.skip_cv:
        cv_seconds = run(
            [*SEEDED_RASA, "test", "nlu", "--nlu", "nlu_data", "--config", args.config, "--cross-validation",
             "--folds", str(args.folds), "--successes", "--out", str(cv_dir)],
            out / "cv.log",
        )
    model_dir = out / "model"
    train_seconds = run(
        [RASA, "train", "nlu", "--config", args.config, "--domain", "domain.yml", "--nlu", "nlu_data",
         "--out", str(model_dir), "--fixed-model-name", "nlu"],
        out / "train.log",
    )
    run(
        [RASA, "test", "nlu", "--model", str(model_dir / "nlu.tar.gz"), "--nlu", "tests/nlu_test.yml",
         "--successes", "--out", str(ho_dir)],
        out / "heldout.log",
    )

    lines = ["# Zhinan NLU evaluation", "", f"Config: `{args.config}`; {env_note}.", ""]
    headline = {}
    for name, d in (("cross-validation", cv_dir), ("held-out tests/nlu_test.yml", ho_dir)):
        intent = load(d / "intent_report.json")
        if not intent:
            continue
        macro = intent["macro avg"]["f1-score"]
        acc = intent.get("accuracy")
        ents = entity_f1(load(d / "DIETClassifier_report.json"))
        headline[name] = {"intent_macro_f1": macro, "intent_accuracy": acc,
                          "entity_f1": {k: v[0] for k, v in ents.items()}}
        lines += [f"## {name}", "", f"- intent macro-F1 **{macro:.4f}**, accuracy {acc:.4f}", "",
                  "| entity | F1 | support |", "|---|---:|---:|"]
        lines += [f"| {k} | {f:.4f} | {n} |" for k, (f, n) in sorted(ents.items())]
        lines += ["", "Per-intent F1: " + ", ".join(
            f"{k} {v['f1-score']:.3f}" for k, v in sorted(intent.items())
            if isinstance(v, dict) and k not in ("macro avg", "weighted avg", "micro avg")), ""]
        conf = confusions(load(d / "intent_errors.json") or [])
        if conf:
            lines += ["Top confusions (gold → predicted, count, examples):", ""]
            lines += [f"- {a} → {b} ×{n}: " + " / ".join(ex) for a, b, n, ex in conf]
            lines.append("")
    if not args.skip_cv:
        thr = choose_threshold(load(cv_dir / "intent_successes.json") or [], load(cv_dir / "intent_errors.json") or [])
        if thr:
            headline["fallback_threshold"] = thr
            lines += ["## FallbackClassifier threshold (from CV confidences)", "",
                      f"- suggested **{thr['threshold']:.2f}**: keeps {thr['correct_kept']:.1%} of correct "
                      f"predictions, sends {thr['errors_rejected']:.1%} of wrong ones to fallback "
                      "(max Youden's J subject to keeping ≥97% of correct predictions)", ""]
    lines += ["## Timing", "", f"- `rasa train nlu` on all of nlu_data: {train_seconds:.0f} s"]
    if cv_seconds:
        lines.append(f"- {args.folds}-fold cross-validation: {cv_seconds:.0f} s")
    headline["train_nlu_seconds"] = round(train_seconds, 1)
    (REPORTS / "nlu_eval.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (REPORTS / "nlu_eval.json").write_text(json.dumps(headline, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(headline, ensure_ascii=False, indent=2))
    print(f"report: {REPORTS / 'nlu_eval.md'}")


if __name__ == "__main__":
    main()
