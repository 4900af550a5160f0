"""Container health probe, standard library only (both images run it).

`python deploy/docker/probe.py URL [URL ...] [--alive]`: exit 0 when any URL answers as
required, 1 otherwise. Run inside the container, so the request comes from loopback
and passes MONITORING_ACCESS=loopback (a kubelet httpGet probe comes from the node and would not).

- default: HTTP 200 (/healthz: Redis, Rasa and the action server all up).
- `--alive`: any HTTP answer, 503 included. The gateway has the right answer for users whichever
  dependency is down (Rasa: "稍后"; Redis: 系统正在维护, README "When Redis is gone"), so
  Kubernetes must neither restart it nor take it out of the Service for a dependency's sake:
  with no ready gateway, WeChat would show 该公众号暂时无法提供服务 instead.
"""
from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from typing import List, Optional

TIMEOUT_S = 3.0


def _status(url: str) -> Optional[int]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:  # a non-2xx answer is still an answer
        return exc.code
    except (urllib.error.URLError, OSError, ValueError):
        return None


def healthy(url: str, alive: bool) -> bool:
    status = _status(url)
    return status is not None and (alive or status == 200)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--alive", action="store_true", help="any HTTP answer will do")
    args = parser.parse_args(argv)
    return 0 if any(healthy(url, args.alive) for url in args.urls) else 1


if __name__ == "__main__":
    sys.exit(main())
