"""Which tests read the calendar: noted during `make test`, and the only tests `make test-clock` runs
again at other instants (a test that never asks for the date or the hour cannot depend on them).

A test counts as reading the calendar when
- any process of ours asks bot.clock for the time while the test runs (bot/clock.py notes the running
  test when ZHINAN_CLOCK_READS_DIR is set: the test process and every process it starts);
- it talks to the stack: Rasa and the action server run for the whole session, so what they read
  cannot be told apart by test, and every such test counts;
- its module reads the wall clock itself (datetime.now, date.today …), not through bot.clock.
The notes are files of test ids in one directory; a pytest plugin loaded by tests/conftest.py.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import List, Set

import pytest

from bot.clock import CLOCK_READS_DIR_ENV

WALL_CLOCK_IN_TEST = re.compile(r"datetime\.now|date\.today|datetime\.utcnow|time\.localtime")
STACK_FIXTURE = "stack_env"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--calendar-readers", metavar="DIR", default=None,
        help="run only the tests noted in DIR as reading the calendar (make test-clock)",
    )


@lru_cache(maxsize=None)
def _reads_wall_clock(module: Path) -> bool:
    return bool(WALL_CLOCK_IN_TEST.search(module.read_text(encoding="utf-8")))


def counts_without_running(item: pytest.Item) -> bool:
    """Known to read the calendar before it runs: it uses the stack, or its module reads the clock."""
    return STACK_FIXTURE in getattr(item, "fixturenames", ()) or _reads_wall_clock(Path(item.path))


def noted_readers(directory: Path) -> Set[str]:
    ids: Set[str] = set()
    for notes in directory.glob("*.txt"):
        ids.update(line for line in notes.read_text(encoding="utf-8").splitlines() if line)
    return ids


def note_readers_known_without_running(directory: Path, items: List[pytest.Item]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    known = [item.nodeid for item in items if counts_without_running(item)]
    with (directory / f"known-{os.getpid()}.txt").open("a", encoding="utf-8") as out:
        out.writelines(nodeid + "\n" for nodeid in known)


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    recording = os.environ.get(CLOCK_READS_DIR_ENV)
    if recording:
        note_readers_known_without_running(Path(recording), items)
    only = config.getoption("--calendar-readers")
    if only:
        readers = noted_readers(Path(only))
        kept = [item for item in items if item.nodeid in readers]
        dropped = [item for item in items if item.nodeid not in readers]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept
