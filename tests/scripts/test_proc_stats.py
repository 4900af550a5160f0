"""scripts/proc_stats.py: memory and CPU of processes from /proc, what the profile reports."""
from __future__ import annotations

import importlib
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

proc_stats = importlib.import_module("proc_stats")

HOLD_40_MB = "import time; block = bytearray(40 * 2**20); block[::4096] = b'x' * len(block[::4096]); print(1, flush=True); time.sleep(30)"


def test_a_process_that_holds_40_mb_shows_them_as_its_own():
    child = subprocess.Popen([sys.executable, "-c", HOLD_40_MB], stdout=subprocess.PIPE)
    try:
        child.stdout.readline()  # the block is written
        mem = proc_stats.memory(child.pid)
        assert 40 <= mem.uss <= mem.pss <= mem.rss
        own = proc_stats.memory()  # "self": this process
        assert 0 < own.uss <= own.rss
    finally:
        child.kill()
        child.wait()


def test_children_are_found_and_their_cpu_counted():
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {spin!r}]); time.sleep(30)"]
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc_stats.children(parent.pid) and proc_stats.tree_cpu_seconds(parent.pid) >= 0.3:
                break
            time.sleep(0.1)
        kids = proc_stats.children(parent.pid)
        assert len(kids) == 1
        assert proc_stats.tree(parent.pid) == [parent.pid, *kids]
        assert proc_stats.tree_cpu_seconds(parent.pid) >= 0.3 > proc_stats.cpu_seconds(parent.pid)
    finally:
        for pid in proc_stats.children(parent.pid):
            subprocess.run(["kill", str(pid)], check=False)
        parent.kill()
        parent.wait()


def test_memory_adds_and_subtracts_per_field():
    a, b = proc_stats.Memory(3.0, 2.0, 1.0), proc_stats.Memory(1.0, 1.0, 1.0)
    assert a - b == proc_stats.Memory(2.0, 1.0, 0.0)
    assert a + b == proc_stats.Memory(4.0, 3.0, 2.0)
