#!/usr/bin/env python
"""`make test`: the whole suite — training the model, both environments' parts and the Rasa test
stories side by side, then the timing tests alone.

The parts spend much of their time waiting on the stacks they start (Rasa, the action server, a
browser), so on two cores they finish sooner together than one after the other (the shifted-clock
runs of `make test-clock` have run side by side since issue #18). Training (`make train`, nothing to
do when the model is current) runs beside the tests that need no model (marker `model`, set in
tests/conftest.py); the tests that need it and the stories start when it has passed. Tests marked
`timing` compare reply times within one run, so they run afterwards with the machine to themselves.
Each job's output is printed whole when it ends, with its time; the exit code is 0 only when every
job passed. The run notes which tests read the calendar (results/calendar-readers/), the tests
`make test-clock` repeats.

    python scripts/run_suite.py [--jobs N] [-- PYTEST ARGS …]     # --jobs 1: one job after another
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import List, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite_jobs import (  # noqa: E402
    CALENDAR_READERS_DIR, NO_TESTS_COLLECTED, Gate, Job, after, command_job, opens, part_commands,
    run_side_by_side, summary,
)

from bot.clock import CLOCK_READS_DIR_ENV  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# A hang must fail the run, not use up CI's time.
PART_TIMEOUT_S = 40 * 60


def stories_command(rasa_python: str) -> List[str]:
    """`rasa test core` on tests/stories with the trained model, failing on any wrong prediction."""
    return [rasa_python, "-m", "rasa", "test", "core", "--model", "models/zhinan.tar.gz",
            "--stories", "tests/stories", "--fail-on-prediction-errors", "--out", "results/stories"]


def parallel_jobs(pytest_args: List[str]) -> List[Job]:
    """Training first (a pool of any size starts it first), the tests that need no model beside it,
    then, once it has passed, the tests that need the model and the stories."""
    trained = Gate()
    gateway, rasa = part_commands(["-m", "not timing and not model", *pytest_args])
    gateway_model, rasa_model = part_commands(["-m", "not timing and model", *pytest_args])
    # a part may have no tests of one kind: that is not a failure
    fine = (0, NO_TESTS_COLLECTED)
    needing_the_model = [
        command_job("gateway part, model tests", gateway_model, PART_TIMEOUT_S, ROOT, ok_codes=fine),
        command_job("rasa part, model tests", rasa_model, PART_TIMEOUT_S, ROOT, ok_codes=fine),
        command_job("test stories", stories_command(rasa[0]), PART_TIMEOUT_S, ROOT),
    ]
    return [
        opens(trained, command_job("train", ["make", "--no-print-directory", "train"], PART_TIMEOUT_S, ROOT)),
        command_job("gateway part", gateway, PART_TIMEOUT_S, ROOT, ok_codes=fine),
        command_job("rasa part", rasa, PART_TIMEOUT_S, ROOT, ok_codes=fine),
        *(after(trained, job, PART_TIMEOUT_S, "training") for job in needing_the_model),
    ]


def timing_jobs(pytest_args: List[str]) -> List[Job]:
    # a part with no timing tests collects nothing: that is not a failure
    return [command_job(f"{part} part, timing tests", command, PART_TIMEOUT_S, ROOT, ok_codes=(0, NO_TESTS_COLLECTED))
            for part, command in zip(("gateway", "rasa"), part_commands(["-m", "timing", *pytest_args]))]


def note_calendar_readers() -> None:
    """Every process of this run notes the tests that read the calendar, for `make test-clock`."""
    shutil.rmtree(CALENDAR_READERS_DIR, ignore_errors=True)
    os.environ[CLOCK_READS_DIR_ENV] = str(CALENDAR_READERS_DIR)


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=0, help="jobs at once (default: all of them)")
    args, pytest_args = ap.parse_known_args(argv)
    pytest_args = [a for a in pytest_args if a != "--"]
    note_calendar_readers()
    jobs = parallel_jobs(pytest_args)
    results = run_side_by_side(jobs, args.jobs or len(jobs))
    results.update(run_side_by_side(timing_jobs(pytest_args), 1))
    return summary(results)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
