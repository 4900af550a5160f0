"""`make audit`: the pinned packages of an environment against the advisories kept in the repository.

pip-audit asks PyPI's per-release JSON or OSV for advisories; neither answers from every machine
(on ours PyPI serves only the package index, and pip-audit then reports "No known
vulnerabilities found" having audited nothing). So the advisories live in
requirements/advisories/*.json, each with its source, and this compares the pins with them:

    python scripts/audit_gateway.py                       # requirements/gateway-dev.txt: exit 1 on a finding
    python scripts/audit_gateway.py --pins constraints.txt --report-only   # Rasa's environment

An advisory applies when introduced <= pinned version < fixed (no fixed version: every release
since introduced). `scripts/import_advisories.py` refreshes pypa.json from a PyPA advisory-database
checkout; manual.json holds the newer ones, each citing where it was read.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
ADVISORIES_DIR = ROOT / "requirements" / "advisories"
DEFAULT_PINS = ROOT / "requirements" / "gateway-dev.txt"


@dataclass(frozen=True)
class Advisory:
    id: str
    package: str
    introduced: str
    fixed: Optional[str]
    summary: str
    source: str
    aliases: tuple = ()

    def affects(self, version: str) -> bool:
        try:
            pinned = Version(version)
            if pinned < Version(self.introduced or "0"):
                return False
            return self.fixed is None or pinned < Version(self.fixed)
        except InvalidVersion:
            return False


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def load_advisories(directory: Optional[Path] = None) -> List[Advisory]:
    advisories = []
    for path in sorted((directory or ADVISORIES_DIR).glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["advisories"]:
            advisories.append(Advisory(
                id=entry["id"], package=normalise(entry["package"]), introduced=entry.get("introduced") or "0",
                fixed=entry.get("fixed"), summary=entry["summary"], source=entry["source"],
                aliases=tuple(entry.get("aliases", ())),
            ))
    return advisories


def read_pins(path: Path) -> Dict[str, str]:
    """name → version of every `name==version` line (comments, options and markers ignored)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;#]+)", line)
        if match:
            pins[normalise(match.group(1))] = match.group(3)
    return pins


def findings(pins: Dict[str, str], advisories: Iterable[Advisory]) -> List[tuple]:
    """(package, pinned version, advisory) for every advisory that applies to a pin."""
    found = [(a.package, pins[a.package], a) for a in advisories if a.package in pins and a.affects(pins[a.package])]
    return sorted(found, key=lambda f: (f[0], f[2].id))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pins", type=Path, default=DEFAULT_PINS, help="a requirements file of name==version pins")
    parser.add_argument("--report-only", action="store_true", help="list findings but exit 0")
    args = parser.parse_args(argv)
    if not args.pins.exists():
        print(f"no such file: {args.pins}", file=sys.stderr)
        return 2
    pins = read_pins(args.pins)
    advisories = load_advisories()
    found = findings(pins, advisories)
    covered = sorted({a.package for a in advisories} & set(pins))
    print(f"{args.pins.name}: {len(pins)} pinned packages, {len(advisories)} advisories on file "
          f"({len(covered)} of the pinned packages have some)")
    for package, version, advisory in found:
        fixed = f"fixed in {advisory.fixed}" if advisory.fixed else "no fixed release"
        names = ", ".join((advisory.id, *advisory.aliases[:2]))
        print(f"  {package} {version}: {names} ({fixed}) {advisory.summary}")
    print(f"{len(found)} known vulnerabilities" if found else "no known vulnerability in the pins")
    return 0 if not found or args.report_only else 1


if __name__ == "__main__":
    sys.exit(main())
