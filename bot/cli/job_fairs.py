"""Staff command line for the job-fair catalogue.

    python -m bot.cli.job_fairs import FILE.csv|FILE.xlsx   validate, then upsert by id
    python -m bot.cli.job_fairs export FILE.csv|FILE.xlsx   every fair as stored
    python -m bot.cli.job_fairs list [--city 济南] [--days 30]   upcoming fairs, soonest first

A file with any invalid row is rejected entirely (exit status 1) and the row-numbered errors are
printed; nothing is written in that case.
"""
from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import Awaitable, Callable, List, Optional, TypeVar

from bot.clock import Clock, system_clock
from bot.cli.redis_run import run_with_redis
from bot.cli.staff_files import missing_file, refused
from bot.services.geo import normalize_city
from bot.services.job_fairs.files import read_fairs_file, write_fairs_file
from bot.services.job_fairs.query import FairQuery
from bot.services.job_fairs.replies import format_place, format_when
from bot.services.job_fairs.store import JobFairStore

LIST_LIMIT = 500
T = TypeVar("T")


def _with_store(fn: Callable[[JobFairStore], Awaitable[T]], clock: Clock) -> T:
    return run_with_redis(lambda redis, settings: fn(JobFairStore(redis, settings, clock)))


def cmd_import(path: Path, clock: Clock) -> int:
    if not path.exists():
        return missing_file(path)
    report = read_fairs_file(path)
    if report.errors:
        return refused(report.errors)
    result = _with_store(lambda store: store.upsert_many(report.fairs), clock)
    print(f"导入完成（{report.encoding}）：{len(report.fairs)} 场，新增 {result.created}，更新 {result.updated}。")
    return 0


def cmd_export(path: Path, clock: Clock) -> int:
    fairs = _with_store(lambda store: store.all_fairs(), clock)
    try:
        count = write_fairs_file(fairs, path)
    except OSError as exc:
        print(f"无法写入 {path}：{exc}", file=sys.stderr)
        return 2
    print(f"已导出 {count} 场到 {path}")
    return 0


def cmd_list(city_text: Optional[str], days: int, clock: Clock) -> int:
    city = normalize_city(city_text) if city_text else None
    if city_text and not city:
        print(f"“{city_text}”不是山东省的地级市", file=sys.stderr)
        return 2
    now = clock()
    query = FairQuery(city=city, start=now, end=now + timedelta(days=days))
    page = _with_store(lambda store: store.search(query, limit=LIST_LIMIT), clock)
    for fair in page.fairs:
        print("\t".join([fair.id, format_when(fair), fair.city, fair.kind.label, fair.title, format_place(fair)]))
    print(f"共 {page.total} 场", file=sys.stderr)
    return 0


def main(argv: Optional[List[str]] = None, clock: Clock = system_clock) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.job_fairs", description="招聘会数据导入/导出/查看")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("import", help="导入 CSV/XLSX（按编号新增或更新）").add_argument("file", type=Path)
    sub.add_parser("export", help="导出为 CSV（UTF-8 BOM）或 XLSX").add_argument("file", type=Path)
    listing = sub.add_parser("list", help="即将举办的招聘会（示例数据按当前日期顺延）")
    listing.add_argument("--city")
    listing.add_argument("--days", type=int, default=30)
    args = parser.parse_args(argv)
    if args.command == "import":
        return cmd_import(args.file, clock)
    if args.command == "export":
        return cmd_export(args.file, clock)
    if args.days < 1:
        print("--days 应为正整数", file=sys.stderr)
        return 2
    return cmd_list(args.city, args.days, clock)


if __name__ == "__main__":
    sys.exit(main())
