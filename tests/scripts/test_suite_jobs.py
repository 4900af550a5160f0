"""The suite runner of `make test` and `make test-clock`: parts under their own interpreters, jobs side
by side with their output kept whole, every failure counted."""
from __future__ import annotations

import importlib.util
import io
import sys
import threading

from bot.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import suite_jobs  # noqa: E402

_spec = importlib.util.spec_from_file_location("run_suite", PROJECT_ROOT / "scripts" / "run_suite.py")
run_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_suite)


def test_each_part_of_the_suite_runs_under_the_interpreter_of_its_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GATEWAY_PYTHON", str(tmp_path / "gw" / "python"))
    monkeypatch.setenv("RASA_PYTHON", str(tmp_path / "rasa" / "python"))
    gateway, rasa = suite_jobs.part_commands(["-q"])
    assert gateway == [str(tmp_path / "gw" / "python"), "-m", "pytest", "--env-part", "gateway", "-q"]
    assert rasa == [str(tmp_path / "rasa" / "python"), "-m", "pytest", "--env-part", "rasa", "-q"]


def test_make_test_trains_beside_the_tests_without_a_model_then_the_rest_then_the_timing_tests_alone(monkeypatch, tmp_path):
    monkeypatch.setenv("RASA_PYTHON", str(tmp_path / "rasa" / "python"))
    parallel = [job.name for job in run_suite.parallel_jobs([])]
    timing = [job.name for job in run_suite.timing_jobs([])]
    assert parallel == ["train", "gateway part", "rasa part",
                        "gateway part, model tests", "rasa part, model tests", "test stories"]
    assert timing == ["gateway part, timing tests", "rasa part, timing tests"]
    stories = run_suite.stories_command(str(tmp_path / "rasa" / "python"))
    assert stories[:5] == [str(tmp_path / "rasa" / "python"), "-m", "rasa", "test", "core"]
    assert "--fail-on-prediction-errors" in stories and "tests/stories" in stories


def test_jobs_run_at_once_and_each_output_stays_in_one_block():
    both_started = threading.Barrier(2, timeout=10)  # each job waits for the other: only passes side by side

    def job(name: str, code: int) -> suite_jobs.Job:
        def run(out):
            out.write(f"{name} first line\n")
            both_started.wait()
            out.write(f"{name} last line\n")
            return code
        return suite_jobs.Job(name, run)

    printed = io.StringIO()
    results = suite_jobs.run_side_by_side([job("a", 0), job("b", 3)], at_once=2, out=printed)
    assert results == {"a": 0, "b": 3}
    lines = printed.getvalue().splitlines()
    for name in ("a", "b"):
        first = lines.index(f"{name} first line")
        assert lines[first + 1] == f"{name} last line"
    assert suite_jobs.summary(results, io.StringIO()) == 1
    assert suite_jobs.summary({"a": 0}, io.StringIO()) == 0


def test_a_command_job_reports_its_exit_code_and_treats_listed_codes_as_passed(tmp_path):
    fail = suite_jobs.command_job("fails", [sys.executable, "-c", "import sys; print('boom'); sys.exit(5)"], 60)
    allowed = suite_jobs.command_job("nothing collected", [sys.executable, "-c", "import sys; sys.exit(5)"], 60,
                                     ok_codes=(0, suite_jobs.NO_TESTS_COLLECTED))
    hangs = suite_jobs.command_job("hangs", [sys.executable, "-c", "import time; time.sleep(30)"], 0.5)
    def output_of(job: suite_jobs.Job, name: str) -> tuple:
        with open(tmp_path / name, "w+", encoding="utf-8") as out:  # the child writes to a real file
            code = job.run(out)
            out.seek(0)
            return code, out.read()

    code, text = output_of(fail, "fail")
    assert code == 5 and "boom" in text and "exit 5" in text
    assert output_of(allowed, "allowed")[0] == 0
    code, text = output_of(hangs, "hangs")
    assert code == 124 and "stopped" in text


def _job(name: str, code: int, ran: list) -> suite_jobs.Job:
    def run(out) -> int:
        ran.append(name)
        print(f"{name} ran", file=out)
        return code
    return suite_jobs.Job(name, run)


def test_jobs_after_a_gate_run_only_when_its_job_passed():
    for training_code, expected in ((0, {"train": 0, "needs the model": 0}), (2, {"train": 2, "needs the model": 1})):
        gate, ran, out = suite_jobs.Gate(), [], io.StringIO()
        jobs = [suite_jobs.opens(gate, _job("train", training_code, ran)),
                suite_jobs.after(gate, _job("needs the model", 0, ran), 10, "training")]
        for at_once in (1, 2):  # one at a time too: the gate's job is first, so nothing waits forever
            assert suite_jobs.run_side_by_side(jobs, at_once, out) == expected
        assert ran.count("needs the model") == (2 if training_code == 0 else 0)
        assert training_code == 0 or "not run, training did not pass" in out.getvalue()
