#!/usr/bin/env python
"""`make test`: the whole suite — both environments' parts and the Rasa test stories side by side,
then the timing tests alone.

The parts spend most of their time waiting on the stacks they start (Rasa, the action server, a
browser), so on two cores they finish sooner together than one after the other (the shifted-clock
runs of `make test-clock` have run side by side since issue #18). Tests marked `timing` compare reply
times within one run, so they run afterwards with the machine to themselves. Each part's output is
printed whole when it ends, with its time; the exit code is 0 only when every part passed.

    python scripts/run_suite.py [--jobs N] [-- PYTEST ARGS …]     # --jobs 1: one part after another
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite_jobs import NO_TESTS_COLLECTED, Job, command_job, part_commands, run_side_by_side, summary  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# A hang must fail the run, not use up CI's time.
PART_TIMEOUT_S = 40 * 60


def stories_command(rasa_python: str) -> List[str]:
    """`rasa test core` on tests/stories with the trained model, failing on any wrong prediction."""
    return [rasa_python, "-m", "rasa", "test", "core", "--model", "models/zhinan.tar.gz",
            "--stories", "tests/stories", "--fail-on-prediction-errors", "--out", "results/stories"]


def parallel_jobs(pytest_args: List[str]) -> List[Job]:
    gateway, rasa = part_commands(["-m", "not timing", *pytest_args])
    return [
        command_job("gateway part", gateway, PART_TIMEOUT_S, ROOT),
        command_job("rasa part", rasa, PART_TIMEOUT_S, ROOT),
        command_job("test stories", stories_command(rasa[0]), PART_TIMEOUT_S, ROOT),
    ]


def timing_jobs(pytest_args: List[str]) -> List[Job]:
    # a part with no timing tests collects nothing: that is not a failure
    return [command_job(f"{part} part, timing tests", command, PART_TIMEOUT_S, ROOT, ok_codes=(0, NO_TESTS_COLLECTED))
            for part, command in zip(("gateway", "rasa"), part_commands(["-m", "timing", *pytest_args]))]


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=3, help="parts at once (default 3: all of them)")
    args, pytest_args = ap.parse_known_args(argv)
    pytest_args = [a for a in pytest_args if a != "--"]
    results = run_side_by_side(parallel_jobs(pytest_args), args.jobs)
    results.update(run_side_by_side(timing_jobs(pytest_args), 1))
    return summary(results)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
