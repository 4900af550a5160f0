"""The suite's parts as commands, and a runner that runs several commands side by side.

Shared by `make test` (scripts/run_suite.py: the parts at once, then the timing tests alone) and
`make test-clock` (scripts/test_shifted_clock.py: the suite at three instants at once). Each job
writes into a file of its own, printed whole when the job ends, so parallel output never interleaves.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot.settings import load_settings  # noqa: E402

# pytest's exit code when a selection collects nothing (e.g. `-m timing` in a part without such tests)
NO_TESTS_COLLECTED = 5
# `make test` notes here which tests read the calendar; `make test-clock` runs only those again
# (tests/helpers/calendar_readers.py).
CALENDAR_READERS_DIR = Path(__file__).resolve().parent.parent / "results" / "calendar-readers"


def part_commands(pytest_args: List[str]) -> List[List[str]]:
    """The suite's two parts, each with the interpreter of its environment: the gateway's, then Rasa's."""
    settings = load_settings()
    return [
        [str(settings.gateway_python), "-m", "pytest", "--env-part", "gateway", *pytest_args],
        [str(settings.rasa_python), "-m", "pytest", "--env-part", "rasa", *pytest_args],
    ]


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[TextIO], int]  # writes its output to the file it gets, returns an exit code


def command_job(name: str, command: Sequence[str], timeout_s: float, cwd: Optional[Path] = None,
                ok_codes: Sequence[int] = (0,)) -> Job:
    """A job that runs one command, its output (both streams) into the job's file."""
    def run(out: TextIO) -> int:
        started = time.monotonic()
        print(f"== {name}: {' '.join(command)}", file=out, flush=True)
        try:
            code = subprocess.call(list(command), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            print(f"== {name}: no result after {timeout_s:.0f} s, stopped", file=out, flush=True)
            code = 124
        code = 0 if code in ok_codes else code
        print(f"== {name}: exit {code} after {time.monotonic() - started:.0f} s", file=out, flush=True)
        return code
    return Job(name, run)


class Gate:
    """Opens when a job has ended, passed or not; the jobs that need that job's result wait on it."""

    def __init__(self) -> None:
        self._ended = threading.Event()
        self.passed = False

    def open(self, passed: bool) -> None:
        self.passed = passed
        self._ended.set()

    def wait_passed(self, timeout_s: float) -> bool:
        return self._ended.wait(timeout_s) and self.passed


def opens(gate: Gate, job: Job) -> Job:
    """The job, opening the gate when it ends (passed when it exits 0)."""
    def run(out: TextIO) -> int:
        code = 1
        try:
            code = job.run(out)
            return code
        finally:
            gate.open(code == 0)
    return Job(job.name, run)


def after(gate: Gate, job: Job, timeout_s: float, needs: str) -> Job:
    """The job, once the gate has opened passed; not run (and failed) when what it needs failed.
    A job list puts the gate's job before the jobs after it, so a pool of any size starts it first."""
    def run(out: TextIO) -> int:
        if not gate.wait_passed(timeout_s):
            print(f"== {job.name}: not run, {needs} did not pass", file=out, flush=True)
            return 1
        return job.run(out)
    return Job(job.name, run)


def run_side_by_side(jobs: Sequence[Job], at_once: int, out: TextIO = sys.stdout) -> Dict[str, int]:
    """Run the jobs `at_once` at a time; print each one's output as a block when it ends."""
    printing = threading.Lock()

    def one(job: Job) -> int:
        with tempfile.TemporaryFile("w+", encoding="utf-8") as buffer:
            code = job.run(buffer)
            buffer.seek(0)
            with printing:
                print(buffer.read(), end="", file=out, flush=True)
            return code

    with ThreadPoolExecutor(max_workers=max(1, at_once)) as pool:
        codes = list(pool.map(one, jobs))
    return {job.name: code for job, code in zip(jobs, codes)}


def summary(results: Dict[str, int], out: TextIO = sys.stdout) -> int:
    """One line per job; 0 when every job passed."""
    for name, code in results.items():
        print(f"{name}: {'passed' if code == 0 else f'FAILED (exit {code})'}", file=out, flush=True)
    return 0 if all(code == 0 for code in results.values()) else 1
