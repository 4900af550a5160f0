"""bot/rasa_server/serve.py: Rasa's server without jax, and TensorFlow and Rasa unchanged by it."""
from __future__ import annotations

import os
import subprocess
import sys

from bot.settings import PROJECT_ROOT

ENV = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}

# In a fresh interpreter: the test process may have imported TensorFlow (and jax) already.
CHECK = """
import sys
from bot.rasa_server.serve import keep_out_unused
keep_out_unused()
import tensorflow
from tensorflow.lite.python import util
import rasa.core.agent, rasa.core.run
print(util._xla_computation is None, sys.modules["jax"] is None, tensorflow.constant([1, 2]).numpy().sum())
"""


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
        env=ENV,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_tensorflow_and_rasa_load_without_jax():
    assert _run(CHECK) == "True True 3"


def test_without_the_launcher_tensorflow_would_import_jax():
    # The saving is real only while TensorFlow imports jax by itself; if a later environment drops
    # jax, this fails and the launcher can go.
    assert _run("import sys, tensorflow; print('jax' in sys.modules)") == "True"


def test_the_launcher_is_rasas_own_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "bot.rasa_server.serve", "--version"], cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=300,
        env=ENV,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Rasa Version" in done.stdout and "3.6" in done.stdout
