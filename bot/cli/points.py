"""Staff command line for service points.

    python -m bot.cli.points import FILE.csv|FILE.xlsx   validate, then upsert by id
    python -m bot.cli.points export FILE.csv              all points, UTF-8 with BOM
    python -m bot.cli.points load-sample                  import data/service_points.csv
    python -m bot.cli.points stats                        active points per city/type

A file with any invalid row is rejected entirely (exit status 1) and the row-numbered
errors are printed; nothing is written in that case.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Awaitable, Callable, List, Optional, TypeVar

from bot.cli.redis_run import run_with_redis
from bot.cli.staff_files import missing_file, refused
from bot.services.points.files import SAMPLE_FILE, read_points_file, write_points_csv
from bot.services.points.store import ServicePointStore

T = TypeVar("T")


def _progress(done: int, total: int, phase: str) -> None:
    suffix = f"/{total}" if total else ""
    print(f"  {phase}：{done}{suffix} 行", file=sys.stderr, flush=True)


def _with_store(fn: Callable[[ServicePointStore], Awaitable[T]]) -> T:
    return run_with_redis(lambda redis, settings: fn(ServicePointStore(redis, settings)))


def cmd_import(path: Path, progress_every: int) -> int:
    if not path.exists():
        return missing_file(path)
    print(f"读取并校验 {path} …", file=sys.stderr)
    report = read_points_file(path, progress=_progress, progress_every=progress_every)
    if report.errors:
        return refused(report.errors)
    result = _with_store(lambda store: store.upsert_many(report.points, _progress, progress_every))
    print(
        f"导入完成（{report.encoding}）：{len(report.points)} 条，新增 {result.created}，更新 {result.updated}。"
    )
    return 0


def cmd_export(path: Path) -> int:
    points = _with_store(lambda store: store.all_points())
    count = write_points_csv(points, path)
    print(f"已导出 {count} 条到 {path}（UTF-8 BOM）")
    return 0


def cmd_stats() -> int:
    stats = _with_store(lambda store: store.stats())
    for group in ("city", "type"):
        for name, count in stats[group].items():
            print(f"{name}\t{count}")
        print()
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.points", description="服务点数据导入/导出")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="导入 CSV/XLSX（按编号新增或更新）")
    imp.add_argument("file", type=Path)
    imp.add_argument("--progress-every", type=int, default=1000)
    exp = sub.add_parser("export", help="导出为 CSV（UTF-8 BOM）")
    exp.add_argument("file", type=Path)
    sub.add_parser("load-sample", help="导入自带的示例数据")
    sub.add_parser("stats", help="各市、各类型的启用服务点数量")
    args = parser.parse_args(argv)
    if args.command == "import":
        return cmd_import(args.file, args.progress_every)
    if args.command == "export":
        return cmd_export(args.file)
    if args.command == "load-sample":
        return cmd_import(SAMPLE_FILE, 1000)
    return cmd_stats()


if __name__ == "__main__":
    sys.exit(main())
