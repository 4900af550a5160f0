"""Camp staff command line: one cohort's enrolments as CSV (UTF-8 BOM, as the console's download).

    python -m bot.cli.camp export COHORT_ID FILE.csv
"""
from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Optional, Sequence

from bot.redis_client import create_redis
from bot.services.camp import EnrollmentStore
from bot.settings import load_settings


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.camp")
    sub = parser.add_subparsers(dest="cmd", required=True)
    exp = sub.add_parser("export", help="enrolments of one cohort as CSV (UTF-8 BOM)")
    exp.add_argument("cohort_id")
    exp.add_argument("file")
    args = parser.parse_args(argv)

    async def run() -> int:
        settings = load_settings()
        redis = create_redis(settings)
        try:
            data = await EnrollmentStore(redis, settings).export_csv(args.cohort_id)
        finally:
            await redis.close()
        Path(args.file).write_bytes(data)
        print(f"wrote {args.file}")
        return 0

    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())
