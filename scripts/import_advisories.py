"""Refresh requirements/advisories/pypa.json from a checkout of github.com/pypa/advisory-database.

Keeps, for the packages pinned in either environment (requirements/gateway-dev.txt, constraints.txt),
each PyPI version range of each record: id, aliases, introduced, fixed, a one-line summary and the
record's address. Run with the interpreter of either environment (it needs PyYAML):

    python scripts/import_advisories.py PATH/TO/advisory-database [COMMIT]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_gateway import ADVISORIES_DIR, ROOT, normalise, read_pins  # noqa: E402

PIN_FILES = (ROOT / "requirements" / "gateway-dev.txt", ROOT / "constraints.txt")


def summary(record: Dict) -> str:
    text = " ".join(str(record.get("summary") or record.get("details") or "").split())
    return text if len(text) <= 160 else text[:157] + "…"


def ranges(record: Dict, package: str) -> Iterator[Dict]:
    for affected in record.get("affected", []):
        if normalise(affected.get("package", {}).get("name", "")) != package:
            continue
        for span in affected.get("ranges", []):
            if span.get("type") != "ECOSYSTEM":
                continue
            events = span.get("events", [])
            introduced = [e["introduced"] for e in events if "introduced" in e]
            fixed = [e["fixed"] for e in events if "fixed" in e]
            for start, end in zip(introduced, fixed + [None] * (len(introduced) - len(fixed))):
                yield {"introduced": start, "fixed": end}


def import_db(db: Path, commit: str) -> List[Dict]:
    packages = set()
    for pins in PIN_FILES:
        packages |= set(read_pins(pins))
    entries = []
    for folder in sorted(p for p in (db / "vulns").iterdir() if normalise(p.name) in packages):
        package = normalise(folder.name)
        for path in sorted(folder.glob("*.yaml")):
            record = yaml.safe_load(path.read_text(encoding="utf-8"))
            if record.get("withdrawn"):  # disputed or misfiled (e.g. a Redis server bug filed on redis-py)
                continue
            for span in ranges(record, package):
                entries.append({
                    "id": record["id"], "aliases": record.get("aliases", []), "package": package, **span,
                    "summary": summary(record),
                    "source": f"https://github.com/pypa/advisory-database/blob/{commit}/vulns/{folder.name}/{path.name}",
                })
    return entries


def main(argv: List[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    db, commit = Path(argv[0]), (argv[1] if len(argv) > 1 else "main")
    entries = import_db(db, commit)
    out = ADVISORIES_DIR / "pypa.json"
    out.write_text(json.dumps({"source": f"pypa/advisory-database at {commit}", "advisories": entries},
                              ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{out}: {len(entries)} ranges of {len({e['id'] for e in entries})} advisories")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
