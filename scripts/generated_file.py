"""Files generated from a single source (the NLU questions from the knowledge base, the digression
rules from actions/forms.py): write them, or with --check report that one is stale."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Optional


def wants_check(argv: Optional[List[str]], description: str) -> bool:
    """The generator's command line: `--check` (exit 1 if out of date) or nothing (rewrite)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--check", action="store_true", help="exit 1 if the generated file is out of date")
    return ap.parse_args(argv).check


def write_or_check(output: Path, text: str, *, check: bool, generator: str, summary: str = "") -> int:
    """The exit status: with `check`, 0 if `output` already holds `text` (else 1, saying which script
    to run); otherwise writes it and prints `summary`."""
    current = output.read_text(encoding="utf-8") if output.exists() else ""
    if check:
        if current != text:
            print(f"{output.name} is out of date: run scripts/{generator}")
            return 1
        return 0
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output.name}: {summary}" if summary else f"wrote {output.name}")
    return 0
