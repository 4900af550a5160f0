"""Load-independent figures of running processes, read from /proc (Linux): memory and CPU seconds.

Used by scripts/profile_turn.py and scripts/profile_memory.py. Why these and not wall time: this
machine is shared, so latency moves with other jobs, while a process's resident memory and the CPU
seconds it spends per message barely do.

- RSS counts every page a process maps, shared or not: summing RSS over forked workers counts the
  pages they share with their parent once per process.
- PSS divides each shared page among the processes that map it: the sum over processes is what the
  stack really occupies.
- USS (private clean + private dirty) is what the process alone holds: what stopping it frees.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, Iterable, List

_TICKS = os.sysconf("SC_CLK_TCK")
_FIELDS = {"Rss:": "rss", "Pss:": "pss", "Private_Clean:": "private_clean", "Private_Dirty:": "private_dirty"}


@dataclass(frozen=True)
class Memory:
    """Megabytes (2**20 bytes)."""

    rss: float
    pss: float
    uss: float

    def __add__(self, other: "Memory") -> "Memory":
        return Memory(self.rss + other.rss, self.pss + other.pss, self.uss + other.uss)

    def __sub__(self, other: "Memory") -> "Memory":
        return Memory(self.rss - other.rss, self.pss - other.pss, self.uss - other.uss)

    def line(self) -> str:
        return f"RSS {self.rss:7.1f}  PSS {self.pss:7.1f}  USS {self.uss:7.1f} MB"


ZERO = Memory(0.0, 0.0, 0.0)


def memory(pid: int | str = "self") -> Memory:
    """RSS, PSS and USS of one process from /proc/<pid>/smaps_rollup (kB there)."""
    kb: Dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
        for line in fh:
            parts = line.split()
            if parts and parts[0] in _FIELDS:
                kb[_FIELDS[parts[0]]] = int(parts[1])
    return Memory(kb["rss"] / 1024, kb["pss"] / 1024, (kb["private_clean"] + kb["private_dirty"]) / 1024)


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds the process has used so far (not its waited-for children)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        # The command name may hold spaces: the fields we need follow the last ")".
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children(pid: int) -> List[int]:
    """Every descendant of `pid` (its forked workers and their children)."""
    found: List[int] = []
    stack = [pid]
    while stack:
        parent = stack.pop()
        for task in _tasks(parent):
            try:
                with open(f"/proc/{parent}/task/{task}/children", encoding="ascii") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except OSError:
                continue
            found.extend(kids)
            stack.extend(kids)
    return found


def _tasks(pid: int) -> Iterable[str]:
    try:
        return os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []


def command_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            words = [w.decode(errors="replace") for w in fh.read().split(b"\0") if w]
    except OSError:
        return "?"
    return " ".join(os.path.basename(w) if i == 0 else w for i, w in enumerate(words[:4]))


def tree(pid: int) -> List[int]:
    """The process and all its descendants."""
    return [pid, *children(pid)]


def tree_cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in tree(pid):
        try:
            total += cpu_seconds(member)
        except OSError:
            continue  # a child that ended in between
    return total
