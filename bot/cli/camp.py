"""Camp staff command line: one cohort's enrolments as CSV (UTF-8 BOM, as the console's download).

    python -m bot.cli.camp export COHORT_ID FILE.csv
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional, Sequence

from bot.cli.redis_run import run_with_redis
from bot.services.camp import EnrollmentStore


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.camp")
    sub = parser.add_subparsers(dest="cmd", required=True)
    exp = sub.add_parser("export", help="enrolments of one cohort as CSV (UTF-8 BOM)")
    exp.add_argument("cohort_id")
    exp.add_argument("file")
    args = parser.parse_args(argv)

    data = run_with_redis(lambda redis, settings: EnrollmentStore(redis, settings).export_csv(args.cohort_id))
    Path(args.file).write_bytes(data)
    print(f"wrote {args.file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
