"""Workshop check-in for offices without the console (the console's /console/sessions).

    python -m bot.cli.sessions list [--city 青岛] [--from 2026-12-01] [--days 8]
    python -m bot.cli.sessions show SLOT_ID
    python -m bot.cli.sessions checkin CODE [--staff 李老师]
    python -m bot.cli.sessions noshow CODE [--staff 李老师]

`checkin` asks the user for a rating and counts in the month's figures, as the console does;
marks are taken from the session's day on, and every mark is written to the audit log.
Parsing and printing only: the work is BookingService's and bot/services/booking/sessions.py's.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

import redis.asyncio as aioredis

from bot.cli.redis_run import run_with_redis
from bot.clock import Clock, system_clock
from bot.gateway.console.audit import AuditLog
from bot.services.booking.formatting import STATUS_LABELS
from bot.services.booking.service import BookingService
from bot.services.booking.sessions import day_range, may_check_in, parse_days, session_city
from bot.services.geo import normalize_city
from bot.services.phone import phone_tail
from bot.settings import Settings


async def _list(booking: BookingService, clock: Clock, args: argparse.Namespace) -> int:
    first, days = parse_days(args.first or "", args.days or "", clock().date())
    city = normalize_city(args.city) if args.city else None
    if args.city and city is None:
        raise ValueError(f"不是山东的地级市：{args.city}")
    rows = [r for r in await booking.sessions(*day_range(first, days)) if city is None or session_city(r.workshop) == city]
    for row in rows:
        cancelled = "（已停开）" if row.slot.status == "cancelled" else ""
        print(f"{row.slot.id}\t{row.slot.label()}{cancelled}\t{session_city(row.workshop) or '全省'}\t"
              f"{row.workshop.title}\t已约 {row.taken}/{row.slot.capacity}\t候补 {row.waiting}")
    print(f"共 {len(rows)} 个场次（{first} 起 {days} 天）")
    return 0


async def _show(booking: BookingService, args: argparse.Namespace) -> int:
    slot = await booking.catalogue.get_slot(args.slot_id)
    if slot is None:
        raise ValueError(f"没有这个场次：{args.slot_id}")
    for b in await booking.slot_bookings(slot.id):
        print(f"{b.code}\t{b.name}\t{phone_tail(b.phone)}\t{STATUS_LABELS.get(b.status, b.status)}")
    return 0


async def _mark(booking: BookingService, audit: AuditLog, clock: Clock, code: str, attended: bool, staff: str) -> int:
    record = await booking.get(code.strip().upper())
    slot = await booking.catalogue.get_slot(record.slot_id) if record else None
    if record is None or slot is None:
        raise ValueError(f"没有这个预约码：{code}")
    if not may_check_in(slot, clock()):
        raise ValueError(f"{record.code} 的场次在 {slot.label()}，当天才能签到")
    if not await booking.mark_attendance(record.code, attended, staff):
        raise ValueError(f"{record.code} {STATUS_LABELS.get(record.status, record.status)}，不能签到")
    await audit.record("cli", "session_attendance", record.code,
                       {"slot": slot.id, "attended": attended, "previous": record.status, "staff": staff})
    print(f"{'已标记到场' if attended else '已标记未到场'}：{record.code} {record.name}（{slot.label()}）")
    return 0


async def _run(args: argparse.Namespace, clock: Clock, redis: aioredis.Redis, settings: Settings) -> int:
    booking = BookingService(redis, settings, clock=clock)
    if args.command == "list":
        return await _list(booking, clock, args)
    if args.command == "show":
        return await _show(booking, args)
    audit = AuditLog(redis, settings, clock)
    return await _mark(booking, audit, clock, args.code, args.command == "checkin", args.staff)


def main(argv: Optional[List[str]] = None, clock: Clock = system_clock) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.sessions", description="工作坊场次签到")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="列出场次（默认今天起 8 天）")
    listing.add_argument("--city", help="只列这个城市的场次，如 青岛")
    listing.add_argument("--from", dest="first", help="起始日期，如 2026-12-01")
    listing.add_argument("--days", help="天数（1–62）")
    show = sub.add_parser("show", help="一个场次的预约名单（手机号只显示后四位）")
    show.add_argument("slot_id")
    for name, text in (("checkin", "标记到场（会请用户评价）"), ("noshow", "标记未到场（可更正）")):
        mark = sub.add_parser(name, help=text)
        mark.add_argument("code", help="预约码")
        mark.add_argument("--staff", default="cli", help="签到人（记入操作日志）")
    args = parser.parse_args(argv)
    try:
        return run_with_redis(lambda redis, settings: _run(args, clock, redis, settings))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
