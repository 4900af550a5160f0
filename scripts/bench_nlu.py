#!/usr/bin/env python
"""`make bench-nlu`: our pipeline on a public benchmark, plus NLU parse latency on one core.

- SMP2017-ECDT task 1: train OUR config.yml (same components; only the data differs) on train+dev
  (or train only with --train-only), evaluate once on test, report accuracy / macro-F1 next to the
  published numbers (../shared/benchmarks/nlu/README.md). Benchmarks may read ../shared.
- Latency: load a Zhinan NLU model and time `Agent.parse_message` over realistic messages, pinned
  to one core (taskset) with TensorFlow/BLAS limited to one thread; prints p50/p90/p99.
Writes reports/nlu_bench.md and reports/nlu_bench.json.
- CAIS: train the same pipeline on train+valid, slot F1 on exact spans of the test split next to
  CM-Net's 86.16 (scripts/bench_cais.py; ≈ 25 min here, skip with --skip-cais).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from bench_cais import run_cais

ROOT = Path(__file__).resolve().parents[1]
RASA = str(ROOT / ".venv" / "bin" / "rasa")
PY = str(ROOT / ".venv" / "bin" / "python")
BENCH = ROOT.parent / "shared" / "benchmarks" / "nlu"
REPORTS = ROOT / "reports"
LOCK = "/tmp/zhinan-train.lock"

PUBLISHED = [
    ("ST-UIC (Xie et al., NLPCC 2018)", "F1 0.945"),
    ("multi-layer ensembles (Costello et al. 2018)", "F1 0.9355"),
    ("char 1-3 TF-IDF + LinearSVC, train+dev (shared README)", "acc 0.907, macro-F1 0.916"),
    ("Rasa DIET sparse only, train only (shared README)", "acc 0.870, macro-F1 0.877"),
]

LATENCY_MESSAGES = [
    "济南市中区有没有能帮忙改简历的地方", "我想约个老师改简历", "附近的零工市场", "实训营怎么报名", "转人工",
    "帮我测测适合什么工作", "今天有什么直播", "失业登记怎么办", "退订", "你好", "谢谢", "3q", "明天下午",
    "下周三上午十点可以吗", "我叫王梓涵 电话13812345678", "第二个", "我是应届毕业生 本科", "濟南歷下區有沒有驛站",
    "还有吗", "不约了", "青岛黄岛区人才市场在哪", "我想预约下周一的面试技巧", "取消明天的预约", "😂😂",
]

LATENCY_CODE = r"""
import asyncio, json, logging, random, sys, time
logging.disable(logging.WARNING)
from rasa.core.agent import Agent
from rasa.utils.log_utils import configure_structlog
configure_structlog(logging.WARNING)  # as `rasa run` does; debug lines would cost time
from rasa.shared.nlu.training_data.loading import load_data
t0 = time.perf_counter()
agent = Agent.load(sys.argv[1])
load_s = time.perf_counter() - t0
msgs = json.loads(sys.argv[2]); n = int(sys.argv[3])
# Messages this process has never parsed (held-out set + training texts): no cache helps them.
unseen = sorted({m.get("text") for path in ("tests/nlu_test.yml", "nlu_data/nlu")
                 for m in load_data(path).training_examples if m.get("text")} - set(msgs))
random.Random(0).shuffle(unseen)
unseen = unseen[:n]
async def timed(m):
    t = time.perf_counter(); await agent.parse_message(m); return (time.perf_counter() - t) * 1000
async def main():
    first = await timed(msgs[0])
    for m in msgs: await agent.parse_message(m)   # warm-up round
    repeated = [await timed(msgs[i % len(msgs)]) for i in range(n)]
    fresh = [await timed(m) for m in unseen]
    return first, repeated, fresh
def summary(times):
    times = sorted(times)
    pct = lambda p: times[min(len(times) - 1, int(round(p / 100 * (len(times) - 1))))]
    return {"n": len(times), "p50_ms": round(pct(50), 1), "p90_ms": round(pct(90), 1),
            "p99_ms": round(pct(99), 1), "max_ms": round(times[-1], 1)}
first, repeated, fresh = asyncio.run(main())
print(json.dumps({"load_s": round(load_s, 1), "first_parse_ms": round(first, 1),
                  "repeated": summary(repeated), "unseen": summary(fresh)}))
"""


def sh(cmd: List[str], log: Path, lock: bool = True, env: Dict[str, str] | None = None) -> float:
    started = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.run((["flock", LOCK] if lock else []) + cmd, cwd=ROOT, stdout=fh,
                              stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}), see {log}: {' '.join(cmd)}")
    return time.monotonic() - started


def smp(train_only: bool, out: Path, config: str, tune: bool = False) -> dict:
    """Train on train(+dev), evaluate on test; with ``tune``, train on train and evaluate on dev
    (for choosing settings without looking at test)."""
    train_only = train_only or tune
    evaluate_on = "dev" if tune else "test"
    data = Path(tempfile.mkdtemp(prefix="smp2017-"))
    try:
        shutil.copy(BENCH / "smp2017" / "train.yml", data / "train.yml")
        if not train_only:
            shutil.copy(BENCH / "smp2017" / "dev.yml", data / "dev.yml")
        train_s = sh([RASA, "train", "nlu", "--config", config, "--nlu", str(data), "--out",
                      str(out / "model"), "--fixed-model-name", "smp2017"], out / "smp_train.log")
    finally:
        shutil.rmtree(data, ignore_errors=True)
    sh([RASA, "test", "nlu", "--model", str(out / "model" / "smp2017.tar.gz"), "--nlu",
        str(BENCH / "smp2017" / f"{evaluate_on}.yml"), "--out", str(out / f"smp_{evaluate_on}")],
       out / f"smp_{evaluate_on}.log")
    rep = json.loads((out / f"smp_{evaluate_on}" / "intent_report.json").read_text())
    return {"split": "train" if train_only else "train+dev", "evaluated_on": evaluate_on,
            "config": config, "accuracy": rep["accuracy"],
            "macro_f1": rep["macro avg"]["f1-score"], "train_seconds": round(train_s, 1),
            "weakest": sorted(((k, round(v["f1-score"], 3)) for k, v in rep.items()
                               if isinstance(v, dict) and "avg" not in k), key=lambda kv: kv[1])[:5]}


def latency(model: Path, n: int, out: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
           "TF_NUM_INTEROP_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = ["taskset", "-c", "0", PY, "-c", LATENCY_CODE, str(model), json.dumps(LATENCY_MESSAGES), str(n)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    (out / "latency.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.exit(f"latency run failed, see {out / 'latency.log'}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-only", action="store_true", help="SMP2017: train split only (default train+dev)")
    ap.add_argument("--tune", action="store_true", help="SMP2017: train on train, evaluate on dev (not test)")
    ap.add_argument("--config", default="config.yml", help="pipeline for SMP2017 (default: ours)")
    ap.add_argument("--out", default=str(REPORTS / "nlu_bench"), help="where logs and models go")
    ap.add_argument("--skip-smp", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-cais", action="store_true")
    ap.add_argument("--model", help="Zhinan NLU model for the latency run (default: train one)")
    ap.add_argument("-n", type=int, default=500, help="parses in the latency run")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"load_average_at_start": round(os.getloadavg()[0], 2)}
    if not args.skip_smp:
        result["smp2017"] = smp(args.train_only, out, args.config, tune=args.tune)
    if not args.skip_cais and not args.tune:
        result["cais"] = run_cais(out, ROOT / args.config)
    if not args.skip_latency:
        model = Path(args.model) if args.model else None
        if model is None:
            result["zhinan_train_nlu_seconds"] = round(sh(
                [RASA, "train", "nlu", "--config", "config.yml", "--domain", "domain.yml", "--nlu", "nlu_data",
                 "--out", str(out / "model"), "--fixed-model-name", "zhinan-nlu"], out / "zhinan_train.log"), 1)
            model = out / "model" / "zhinan-nlu.tar.gz"
        result["latency_one_core"] = latency(model, args.n, out)

    lines = ["# Zhinan NLU benchmark", "", f"Load average at start: {result['load_average_at_start']} (2 shared cores).", ""]
    if "smp2017" in result:
        s = result["smp2017"]
        lines += ["## SMP2017-ECDT task 1 (test split, 667 utterances, 31 intents)", "",
                  "| system | score |", "|---|---|",
                  f"| **Zhinan pipeline (config.yml), {s['split']}** | **acc {s['accuracy']:.4f}, macro-F1 {s['macro_f1']:.4f}** |"]
        lines += [f"| {a} | {b} |" for a, b in PUBLISHED]
        lines += ["", f"Training time {s['train_seconds']} s. Weakest intents: "
                  + ", ".join(f"{k} {v}" for k, v in s["weakest"]), ""]
    if "latency_one_core" in result:
        lt = result["latency_one_core"]
        lines += ["## Parse latency (one core, one thread, Agent.parse_message)", ""]
        for label, key in (("messages never parsed before in the process", "unseen"),
                           ("the same 24 messages again and again (embedding cache warm)", "repeated")):
            r = lt[key]
            lines.append(f"- {label}, n={r['n']}: p50 {r['p50_ms']} ms, p90 {r['p90_ms']} ms, "
                         f"**p99 {r['p99_ms']} ms**, max {r['max_ms']} ms")
        lines += [f"- model load {lt['load_s']} s; first parse after load {lt['first_parse_ms']} ms (jieba preloaded)", ""]
    if "cais" in result:
        c, sl = result["cais"], result["cais"]["slots"]
        lines += ["## CAIS (test split, 1,012 utterances, exact-span slot F1)", "",
                  "| system | slot F1 | intent acc |", "|---|---|---|",
                  f"| **Zhinan pipeline, {c['trained_on']}** | **{sl['f1']:.4f}** (P {sl['precision']:.4f}, "
                  f"R {sl['recall']:.4f}) | {c['intent_accuracy']:.4f} |",
                  "| CM-Net (Liu et al., EMNLP 2019) | 0.8616 | 0.9456 |", "",
                  f"Training time {c['train_seconds']} s. Weakest slot types: "
                  + ", ".join(f"{w['type']} {w['f1']:.2f} (n={w['support']})" for w in c["weakest_slot_types"]), ""]
    (out.parent / f"{out.name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out.parent / f"{out.name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
