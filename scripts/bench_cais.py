#!/usr/bin/env python
"""CAIS slot-F1 benchmark of OUR NLU pipeline (config.yml components; only the data differs).

CAIS (Chinese AI speakers, CM-Net / EMNLP 2019): train 7,995 · valid 994 · test 1,012 utterances,
24 slot types, in Rasa YAML with inline entities (../shared/benchmarks/nlu/README.md).
Published: CM-Net slot F1 86.16 (exact spans), intent accuracy 94.56.

What ``run_cais`` does:
1. A temp data dir with train.yml (+ valid.yml). The test split is only read at evaluation time.
2. A temp copy of the CURRENT config.yml whose (Preloaded)JiebaTokenizer ``dictionary_path`` points to
   a temp directory holding nlu_data/jieba/zhinan_userdict.txt plus ``cais_slots.txt``: the slot values
   of the TRAINING data (train + valid when used) with a high frequency, and the words (from jieba's
   own dictionary or glued slot values) that still cut across a training entity boundary in most of
   their training occurrences, with frequency 0 (removes them from jieba's DAG). Rasa drops training entities
   that do not fall on token boundaries (RasaHQ/rasa #7409), so this is what lets DIET learn them.
   Built from training data only; the alignment before/after is reported.
3. ``flock /tmp/zhinan-train.lock rasa train nlu`` (cwd = repo root so ``bot.rasa_server`` components import).
4. Loads the model in-process (``Agent.load``) and parses every test utterance with
   ``agent.parse_message``.
5. Scores exact spans: gold and predicted (start, end, type) triples, micro-averaged P/R/F1; a partial
   overlap or a wrong type is both a false positive and a false negative.
   The headline figure uses the entities whose extractor is DIETClassifier (the only span predictor
   in our pipeline). EntitySynonymMapper rewrites values only (CAIS has no synonyms); PlaceNormalizer /
   TimeNormalizer only touch city/district/time entities (CAIS has none of those types), though
   PlaceNormalizer may add a derived city entity; the same score over ALL returned entities is
   reported as ``slots_all_extractors``. Offsets are valid because ChineseNormalizer (first component)
   is length-preserving. Intent accuracy counts nlu_fallback (FallbackClassifier) as wrong.
   Known quirk: jieba.load_userdict adds to jieba's total frequency on every load; ``rasa train`` loads
   the dictionaries twice, the full run here twice too, an eval-only (``--model``) process once, so
   a handful of borderline segmentations can differ (seen: 1 of 1,141 test spans).

Usage: .venv/bin/python scripts/bench_cais.py [--no-valid] [--config config.yml] [--out reports/nlu_bench]
Writes <out>/cais.json (default reports/nlu_bench/cais.json) and prints it (stdout is only the JSON).
``--model <out>/model/cais.tar.gz`` re-evaluates a trained model without training (prints only).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
RASA = str(ROOT / ".venv" / "bin" / "rasa")
CAIS = ROOT.parent / "shared" / "benchmarks" / "nlu" / "cais"
PROJECT_USERDICT = ROOT / "nlu_data" / "jieba" / "zhinan_userdict.txt"
REPORTS = ROOT / "reports" / "nlu_bench"
LOCK = "/tmp/zhinan-train.lock"
SLOT_VALUE_FREQ = 300000   # beats jieba's generic segmentations of a value (jieba total is ~6e7)
DIET = "DIETClassifier"

PUBLISHED = {"system": "CM-Net (Liu et al., EMNLP 2019)", "slot_f1": 86.16, "intent_accuracy": 94.56}

Span = Tuple[int, int, str]

if str(ROOT) not in sys.path:  # bot.rasa_server.* (text normaliser, tokenizer helpers) when run as a script
    sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------- scoring (pure)
def _prf(tp: int, fp: int, fn: int) -> Dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def score_spans(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> Dict[str, Any]:
    """Micro-averaged exact-span P/R/F1 over utterances.

    ``gold[i]`` and ``pred[i]`` are the (start, end, type) triples of utterance i. A predicted triple
    counts as a true positive only if the identical triple is in the gold list of the same utterance
    (as a multiset: a duplicate prediction of one gold span is one TP and one FP). Partial overlaps
    and right-span-wrong-type predictions are wrong (one FP and one FN each).
    Returns precision/recall/f1/tp/fp/fn and ``per_type`` with the same figures plus ``support``
    (number of gold spans of that type).
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} utterances, pred has {len(pred)}")
    counts: Dict[str, Counter] = defaultdict(Counter)  # type -> tp/fp/fn
    for g_list, p_list in zip(gold, pred):
        g = Counter((int(s), int(e), str(t)) for s, e, t in g_list)
        p = Counter((int(s), int(e), str(t)) for s, e, t in p_list)
        for span, n in (g & p).items():
            counts[span[2]]["tp"] += n
        for span, n in (p - g).items():
            counts[span[2]]["fp"] += n
        for span, n in (g - p).items():
            counts[span[2]]["fn"] += n
    per_type = {}
    for t in sorted(counts):
        c = counts[t]
        per_type[t] = {**_prf(c["tp"], c["fp"], c["fn"]), "tp": c["tp"], "fp": c["fp"], "fn": c["fn"],
                       "support": c["tp"] + c["fn"]}
    tp, fp, fn = (sum(c[k] for c in counts.values()) for k in ("tp", "fp", "fn"))
    return {**_prf(tp, fp, fn), "tp": tp, "fp": fp, "fn": fn, "per_type": per_type}


def weakest_types(per_type: Dict[str, Dict[str, Any]], n: int = 5) -> List[Dict[str, Any]]:
    """The n slot types with the lowest F1 among those present in the gold data (ties: more support first)."""
    rows = [(t, v) for t, v in per_type.items() if v["support"] > 0]
    rows.sort(key=lambda tv: (tv[1]["f1"], -tv[1]["support"], tv[0]))
    return [{"type": t, "f1": round(v["f1"], 4), "precision": round(v["precision"], 4),
             "recall": round(v["recall"], 4), "support": v["support"]} for t, v in rows[:n]]


# --------------------------------------------------------------------------- data + dictionary
def _examples(path: Path) -> List[Tuple[str, str, List[Span]]]:
    """(text, intent, gold spans) via Rasa's own YAML loader."""
    from rasa.shared.nlu.training_data.loading import load_data

    out = []
    for m in load_data(str(path)).training_examples:
        spans = [(int(e["start"]), int(e["end"]), str(e["entity"])) for e in (m.get("entities") or [])]
        out.append((m.get("text"), m.get("intent"), spans))
    return out


def _token_bounds(text: str) -> Tuple[set, set, List[Tuple[str, int, int]]]:
    """Token starts/ends as PreloadedJiebaTokenizer cuts ``text`` (HMM off + split_mixed_token)."""
    import jieba

    from bot.rasa_server.components import split_mixed_token

    starts, ends, words = set(), set(), []
    for word, s, e in jieba.tokenize(text, HMM=False):
        words.append((word, s, e))
        for piece, off in split_mixed_token(word):
            if piece.strip():
                starts.add(s + off)
                ends.add(s + off + len(piece))
    return starts, ends, words


def _alignment(examples: Sequence[Tuple[str, List[Span]]]) -> Tuple[int, int, Counter, Counter]:
    """(aligned, total, per word: token occurrences crossing an entity boundary, all token occurrences)."""
    ok = total = 0
    crossing: Counter = Counter()
    seen: Counter = Counter()
    for text, spans in examples:
        starts, ends, words = _token_bounds(text)
        for s, e, _t in spans:
            total += 1
            ok += s in starts and e in ends
        for w, ws, we in words:
            seen[w] += 1
            crossing[w] += any(ws < s < we or ws < e < we for s, e, _t in spans)
    return ok, total, crossing, seen


def build_slot_dictionary(train_files: Sequence[Path], dict_dir: Path, rounds: int = 3,
                          project_userdict: Path = PROJECT_USERDICT) -> Dict[str, Any]:
    """Write ``dict_dir``/<project_userdict name> (ours) + cais_slots.txt built from ``train_files`` only.

    Loads the dictionaries into this process's jieba as well (the tokenizer will load the same files).
    Returns alignment diagnostics: training entities on token boundaries before and after.
    """
    import jieba

    from bot.language.text_normalize import normalize_text

    jieba.setLogLevel(logging.WARNING)
    dict_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(project_userdict, dict_dir / project_userdict.name)
    project_words = {ln.split()[0] for ln in project_userdict.read_text(encoding="utf-8").splitlines() if ln.strip()}
    jieba.load_userdict(str(project_userdict))

    examples: List[Tuple[str, List[Span]]] = []
    for f in train_files:
        for text, _intent, spans in _examples(f):
            norm = normalize_text(text)
            if len(norm) != len(text):  # the pipeline relies on this; fail loudly if it ever changes
                raise RuntimeError(f"ChineseNormalizer is not length-preserving on {text!r}")
            examples.append((norm, spans))
    before = _alignment(examples)[:2]

    values = sorted({t[s:e] for t, spans in examples for s, e, _ in spans})
    values = [v for v in values if len(v) >= 2 and v == v.strip() and not any(c.isspace() for c in v)
              and v not in project_words]
    lines = [f"{v} {SLOT_VALUE_FREQ}" for v in values]
    for v in values:
        jieba.add_word(v, SLOT_VALUE_FREQ)
    demoted: List[str] = []
    for _ in range(rounds):
        _ok, _total, crossing, seen = _alignment(examples)
        # a word that cuts across an entity in most of its training occurrences ("今天天气" in
        # "[今天](date)天气怎么样") leaves the DAG; one that rarely does ("播放") stays
        new = [w for w, n in crossing.items() if 2 * n > seen[w] and w not in project_words
               and len(w) >= 2 and w not in demoted]
        if not new:
            break
        for w in new:
            jieba.add_word(w, 0)  # frequency 0: out of the DAG, jieba cuts it into smaller words
        demoted += sorted(new)
    value_set = set(values)
    lines = [ln for ln in lines if ln.split()[0] not in set(demoted)]
    lines += [f"{w} 0" for w in demoted]
    (dict_dir / "cais_slots.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    after = _alignment(examples)[:2]
    return {"training_entities": before[1],
            "on_token_boundaries_project_dict_only": round(before[0] / before[1], 4),
            "on_token_boundaries_with_slot_dict": round(after[0] / after[1], 4),
            "slot_values_added": len(values) - len(value_set & set(demoted)),
            "words_demoted_freq0": len(demoted)}


def write_bench_config(config: Path, dict_dir: Path, target: Path) -> None:
    """Copy ``config`` to ``target`` with the jieba tokenizer's dictionary_path set to ``dict_dir``."""
    from rasa.shared.utils.io import read_yaml_file, write_yaml

    cfg = read_yaml_file(str(config))
    hits = [c for c in cfg.get("pipeline") or [] if str(c.get("name", "")).endswith("JiebaTokenizer")]
    if len(hits) != 1:
        raise ValueError(f"{config}: expected one JiebaTokenizer in the pipeline, found {len(hits)}")
    hits[0]["dictionary_path"] = str(dict_dir)
    cfg.pop("policies", None)  # `rasa train nlu` ignores them; keep the copy NLU-only
    write_yaml(cfg, str(target))


# --------------------------------------------------------------------------- evaluation
def _quiet_structlog() -> None:
    """Rasa's structlog events (one debug line per parse) go to stdout by default: keep stdout for JSON."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))


async def _parse_all(model: Path, texts: Sequence[str]) -> Tuple[List[Dict[str, Any]], float, float]:
    from rasa.core.agent import Agent

    _quiet_structlog()

    t0 = time.monotonic()
    agent = Agent.load(str(model))
    load_s = time.monotonic() - t0
    out = []
    t0 = time.monotonic()
    for text in texts:
        out.append(await agent.parse_message(text))
    return out, load_s, time.monotonic() - t0


def _r(d: Dict[str, Any]) -> Dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items() if k != "per_type"}


def train_cais(out: Path, config: Path = ROOT / "config.yml", use_valid: bool = True) -> Dict[str, Any]:
    """Train our pipeline on CAIS train(+valid) into <out>/model/cais.tar.gz (under the train lock)."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    train_files = [CAIS / "train.yml"] + ([CAIS / "valid.yml"] if use_valid else [])
    tmp = Path(tempfile.mkdtemp(prefix="cais-bench-"))
    try:
        data_dir, dict_dir = tmp / "data", tmp / "jieba"
        data_dir.mkdir()
        for f in train_files:
            shutil.copy(f, data_dir / f.name)
        alignment = build_slot_dictionary(train_files, dict_dir)
        bench_config = tmp / "config.yml"
        write_bench_config(Path(config).resolve(), dict_dir, bench_config)
        shutil.copy(bench_config, out / "cais_config.yml")  # for the record (points to a deleted tmp dir)
        cmd = ["flock", LOCK, RASA, "train", "nlu", "--config", str(bench_config), "--nlu", str(data_dir),
               "--out", str(out / "model"), "--fixed-model-name", "cais"]
        log = out / "cais_train.log"
        t0 = time.monotonic()
        with log.open("w") as fh:
            proc = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
        train_s = time.monotonic() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"rasa train nlu failed ({proc.returncode}), see {log}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"model": out / "model" / "cais.tar.gz", "train_seconds": round(train_s, 1),
            "jieba_alignment_train": alignment}


def evaluate_cais(model: Path) -> Dict[str, Any]:
    """Parse every CAIS test utterance with ``model`` in-process; slot (exact span) and intent figures."""
    test = _examples(CAIS / "test.yml")
    cwd = os.getcwd()
    os.chdir(ROOT)  # components may resolve project-relative paths
    try:
        parsed, load_s, parse_s = asyncio.run(_parse_all(Path(model).resolve(), [t for t, _, _ in test]))
    finally:
        os.chdir(cwd)

    gold = [spans for _, _, spans in test]
    # Ceiling for recall: test gold spans on token boundaries of the (training-built) dictionaries that
    # the loaded model's tokenizer uses. Diagnostic only: nothing is fitted to it.
    from bot.language.text_normalize import normalize_text

    test_ok, test_total, _c, _s = _alignment([(normalize_text(t), spans) for t, _, spans in test])
    pred_diet, pred_all = [], []
    intent_ok = fallback = 0
    for (_text, intent, _spans), res in zip(test, parsed):
        ents = res.get("entities") or []
        pred_all.append([(e["start"], e["end"], e["entity"]) for e in ents if e.get("start") is not None])
        pred_diet.append([(e["start"], e["end"], e["entity"]) for e in ents
                          if e.get("extractor") == DIET and e.get("start") is not None])
        name = (res.get("intent") or {}).get("name")
        intent_ok += name == intent
        fallback += name == "nlu_fallback"
    diet = score_spans(gold, pred_diet)
    every = score_spans(gold, pred_all)
    return {
        "test_utterances": len(test),
        "gold_slots": diet["tp"] + diet["fn"],
        "slots": _r(diet),  # headline: DIETClassifier entities
        "slots_all_extractors": _r(every),
        "intent_accuracy": round(intent_ok / len(test), 4),
        "intent_nlu_fallback": fallback,
        "model_load_seconds": round(load_s, 1),
        "parse_seconds": round(parse_s, 1),
        "parse_ms_per_utterance": round(1000 * parse_s / len(test), 1),
        "weakest_slot_types": weakest_types(diet["per_type"]),
        "per_type": {t: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}
                     for t, d in diet["per_type"].items()},
        "test_gold_on_token_boundaries": round(test_ok / test_total, 4) if test_total else None,
    }


def run_cais(out: Path, config: Path = ROOT / "config.yml", use_valid: bool = True) -> dict:
    """Train our pipeline on CAIS train(+valid), parse the test split, return slot/intent figures."""
    trained = train_cais(out, config, use_valid)
    figures = evaluate_cais(trained["model"])
    return {
        "benchmark": "CAIS test split (exact-span slot F1)",
        "trained_on": "train+valid" if use_valid else "train",
        "config": str(Path(config).resolve()),
        "model": str(trained["model"]),
        "train_seconds": trained["train_seconds"],
        **figures,
        "jieba_alignment_train": trained["jieba_alignment_train"],
        "published": PUBLISHED,
        "load_average_at_end": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "config.yml"))
    ap.add_argument("--out", default=str(REPORTS))
    ap.add_argument("--no-valid", action="store_true", help="train on train only (default train+valid)")
    ap.add_argument("--model", help="evaluate this trained CAIS model only (no training); prints, writes nothing")
    args = ap.parse_args()
    with contextlib.redirect_stdout(sys.stderr):  # library banners (jionlp) and logs: stdout is the JSON
        if args.model:
            result = {"model": args.model, **evaluate_cais(Path(args.model)), "published": PUBLISHED}
        else:
            result = run_cais(Path(args.out), Path(args.config), use_valid=not args.no_valid)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if not args.model:
        (Path(args.out) / "cais.json").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
