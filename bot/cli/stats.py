"""Staff command line for the service figures.

    python -m bot.cli.stats monthly --month 2026-11 --out figures.xlsx [--city 青岛 ...]

The month's XLSX as the console exports it (aggregates only: 合计 and one sheet per city);
`--city` limits it to those cities, as a city supervisor's export. Written to the audit log.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

import redis.asyncio as aioredis

from bot.cli.redis_run import run_with_redis
from bot.gateway.console.audit import AuditLog
from bot.services.geo import normalize_city
from bot.services.monthly_report import valid_month, write_xlsx
from bot.services.monthly_stats import MonthlyStats, MonthReport
from bot.settings import Settings


async def _report(redis: aioredis.Redis, settings: Settings, month: str, cities: Optional[List[str]]) -> MonthReport:
    report = await MonthlyStats(redis, settings).month(month, cities=cities)
    await AuditLog(redis, settings).record("cli", "monthly_export", month, {"scope": "、".join(cities or ["全省"])})
    return report


def cmd_monthly(month: str, out: Path, city_names: List[str]) -> int:
    if not valid_month(month):
        print(f"月份格式应为“年-月”，例如 2026-11，而不是 {month!r}", file=sys.stderr)
        return 2
    cities = [normalize_city(name) for name in city_names]
    if None in cities:
        unknown = [name for name, city in zip(city_names, cities) if city is None]
        print(f"不是山东的地级市：{'、'.join(unknown)}", file=sys.stderr)
        return 2
    chosen = [c for c in cities if c] or None
    report = run_with_redis(lambda redis, settings: _report(redis, settings, month, chosen))
    label = "、".join(c for c in cities if c) or "全省"
    try:
        out.write_bytes(write_xlsx(report, label))
    except OSError as exc:
        print(f"无法写入 {out}：{exc.strerror}", file=sys.stderr)
        return 1
    print(f"已导出 {month}（{label}）：{len(report.by_city)} 个城市，服务用户 {report.total.users} 人 → {out}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.stats", description="服务统计")
    sub = parser.add_subparsers(dest="command", required=True)
    monthly = sub.add_parser("monthly", help="导出某月的统计（XLSX）")
    monthly.add_argument("--month", required=True, help="年-月，如 2026-11")
    monthly.add_argument("--out", required=True, type=Path, help="输出的 .xlsx 文件")
    monthly.add_argument("--city", action="append", default=[], help="只导出这些城市（可重复）")
    args = parser.parse_args(argv)
    return cmd_monthly(args.month, args.out, args.city)


if __name__ == "__main__":
    sys.exit(main())
