"""Staff command line for the expert pool (专家库).

    python -m bot.cli.experts import FILE.csv|FILE.xlsx   validate, then upsert by id and create the
                                                          experts' consultation slots (coming 4 weeks)
    python -m bot.cli.experts export FILE.csv|FILE.xlsx   every expert as stored

A file with any invalid row is rejected entirely (exit status 1) and the row-numbered errors are
printed; nothing is written in that case.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import redis.asyncio as aioredis

from bot.clock import Clock, system_clock
from bot.cli.redis_run import run_with_redis
from bot.cli.staff_files import missing_file, refused
from bot.services.experts.files import read_experts_file, write_experts_file
from bot.services.experts.store import ExpertStore, UpsertResult
from bot.services.workshops import WorkshopCatalogue
from bot.settings import Settings


def cmd_import(path: Path, clock: Clock) -> int:
    if not path.exists():
        return missing_file(path)
    report = read_experts_file(path)
    if report.errors:
        return refused(report.errors)

    async def write(redis: aioredis.Redis, settings: Settings) -> Tuple[UpsertResult, int]:
        store = ExpertStore(redis, settings, clock)
        result = await store.upsert_many(report.experts)
        return result, await store.sync_sessions(WorkshopCatalogue(redis, settings, clock), report.experts)

    result, slots = run_with_redis(write)
    print(
        f"导入完成（{report.encoding}）：{len(report.experts)} 位专家，新增 {result.created}，更新 {result.updated}；"
        f"新建咨询时段 {slots} 个。"
    )
    return 0


def cmd_export(path: Path, clock: Clock) -> int:
    experts = run_with_redis(lambda redis, settings: ExpertStore(redis, settings, clock).all_experts())
    try:
        count = write_experts_file(experts, path)
    except OSError as exc:
        print(f"无法写入 {path}：{exc}", file=sys.stderr)
        return 2
    print(f"已导出 {count} 位专家到 {path}")
    return 0


def main(argv: Optional[List[str]] = None, clock: Clock = system_clock) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.experts", description="专家库导入/导出")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("import", help="导入 CSV/XLSX（按编号新增或更新）").add_argument("file", type=Path)
    sub.add_parser("export", help="导出为 CSV（UTF-8 BOM）或 XLSX").add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "import":
        return cmd_import(args.file, clock)
    return cmd_export(args.file, clock)


if __name__ == "__main__":
    sys.exit(main())
