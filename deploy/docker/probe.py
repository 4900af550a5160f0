"""Container health probe, standard library only (both images run it).

`python deploy/docker/probe.py URL [URL ...] [--alive] [--need CHECK ...]`: exit 0 when any URL
answers as required, 1 otherwise. Run inside the container, so the request comes from loopback
and passes MONITORING_ACCESS=loopback (a kubelet httpGet probe comes from the node and would not).

- default: HTTP 200.
- `--alive`: any HTTP answer (the process serves; /healthz answers 503 when a dependency is down,
  and a liveness probe must not restart a gateway for Rasa's sake).
- `--need redis`: /healthz's JSON says these checks are ok, whatever the others say. A gateway
  without Rasa still answers users ("稍后"), so it stays ready; without Redis it cannot.
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import List, Optional, Sequence

TIMEOUT_S = 3.0


def _fetch(url: str) -> tuple:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:  # a non-2xx answer is still an answer
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError, ValueError):
        return None, b""


def healthy(url: str, alive: bool, need: Sequence[str]) -> bool:
    status, body = _fetch(url)
    if status is None:
        return False
    if alive:
        return True
    if not need:
        return status == 200
    try:
        checks = json.loads(body).get("checks", {})
    except (ValueError, AttributeError):
        return False
    return all(bool(checks.get(name, {}).get("ok")) for name in need)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--alive", action="store_true", help="any HTTP answer will do")
    parser.add_argument("--need", nargs="*", default=[], help="/healthz checks that must be ok")
    args = parser.parse_args(argv)
    return 0 if any(healthy(url, args.alive, args.need) for url in args.urls) else 1


if __name__ == "__main__":
    sys.exit(main())
