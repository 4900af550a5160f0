"""`python -m bot.cli.sessions`: check-in without the console (real Redis), the same rules."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.cli import sessions as cli
from bot.clock import FrozenClock
from bot.gateway.console.audit import AuditLog
from bot.services.booking.service import BookingService
from bot.services.monthly_stats import MonthlyStats, month_of
from bot.services.workshops import Slot
from tests.bot.gateway.console.test_sessions_console import JN, QD, today_at


async def _morning(redis, settings):
    clock = FrozenClock(today_at(8))
    booking = BookingService(redis, settings, clock=clock)
    for workshop, slot_id, start in ((QD, "c-qd", today_at(9, 30)), (JN, "c-jn", today_at(9, 30)),
                                     (QD, "c-qd-later", today_at(9, 30) + timedelta(days=3))):
        await booking.catalogue.upsert_workshop(workshop)
        await booking.catalogue.upsert_slot(Slot(slot_id, workshop.id, start, start + timedelta(hours=2), 5))
    now = (await booking.book("oCli", "c-qd", "孙大伟", "13812349876", "r-cli")).code
    later = (await booking.book("oCli2", "c-qd-later", "周后来", "13812340000", "r-cli2")).code
    clock.set(today_at(10))
    return booking, clock, now, later


async def _cli(argv, clock):
    """The tool runs its own event loop (asyncio.run), so it runs beside the test's."""
    return await asyncio.to_thread(cli.main, argv, clock)


async def test_list_checkin_and_a_correction(redis, settings, capsys):
    booking, clock, code, _ = await _morning(redis, settings)
    assert await _cli(["list", "--city", "青岛"], clock) == 0
    out = capsys.readouterr().out
    assert "c-qd\t" in out and "c-jn" not in out and "已约 1/5" in out
    assert await _cli(["show", "c-qd"], clock) == 0
    out = capsys.readouterr().out
    assert code in out and "*******9876" in out and "13812349876" not in out

    assert await _cli(["checkin", code.lower(), "--staff", "li"], clock) == 0
    assert "已标记到场" in capsys.readouterr().out
    assert (await booking.get(code)).status == "attended"
    monthly = MonthlyStats(redis, settings, clock)
    assert (await monthly.month(month_of(clock()))).by_city["青岛市"].count("booking_attended") == 1
    assert [j.payload["openid"] for j in await booking.scheduler.pending() if j.kind == "rating_request"] == ["oCli"]
    assert await _cli(["noshow", code, "--staff", "li"], clock) == 0
    assert (await monthly.month(month_of(clock()))).by_city["青岛市"].count("booking_attended") == 0
    audit = await AuditLog(redis, settings).latest()
    assert [(e["action"], e["target"]) for e in audit] == [("session_attendance", code)] * 2


async def test_unknown_codes_early_marks_and_bad_input_get_a_clear_answer(redis, settings, capsys):
    booking, clock, _, later = await _morning(redis, settings)
    assert await _cli(["checkin", "ZZZZ99"], clock) == 1
    assert "没有这个预约码" in capsys.readouterr().err
    assert await _cli(["checkin", later], clock) == 1
    assert "当天才能签到" in capsys.readouterr().err
    assert (await booking.get(later)).status == "confirmed"
    assert await _cli(["list", "--city", "东京"], clock) == 1
    assert "东京" in capsys.readouterr().err
    assert await _cli(["list", "--days", "0"], clock) == 1
    assert "天数" in capsys.readouterr().err
