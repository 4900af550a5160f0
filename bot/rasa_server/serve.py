"""Rasa's command line (`python -m bot.rasa_server.serve run …` = `rasa run …`), without the
packages the server imports and never uses.

TensorFlow 2.12 imports jax, when it is installed, for one TFLite converter that Rasa never calls;
the import sits in a try/except ImportError, so TensorFlow runs the same without it. jax is in
Rasa's environment (a dependency of other tools there), and importing it costs every Rasa process
≈ 105 MB resident and ≈ 0.5 s of CPU at start (`scripts/profile_turn.py memory`, docs/benchmarks.md).
With `rasa run`, the main process and each Sanic worker hold it.
"""
from __future__ import annotations

import sys
from typing import Tuple

# Imported only inside a try/except ImportError by the libraries Rasa's server loads.
UNUSED_OPTIONAL_PACKAGES: Tuple[str, ...] = ("jax",)


def keep_out_unused() -> None:
    """Make `import jax` fail with ImportError in this process (a None entry in sys.modules)."""
    for name in UNUSED_OPTIONAL_PACKAGES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main() -> None:
    keep_out_unused()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
