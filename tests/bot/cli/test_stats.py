"""`python -m bot.cli.stats monthly`: the month's XLSX from the command line, scoped by --city, audited."""
from __future__ import annotations

import asyncio

from openpyxl import load_workbook

from bot.cli import stats as cli
from bot.clock import FrozenClock, system_clock
from bot.gateway.console.audit import AuditLog
from bot.services.monthly_stats import MonthlyStats, month_of


async def _activity(redis, settings) -> str:
    stats = MonthlyStats(redis, settings, FrozenClock(system_clock()))
    await stats.conversation("u1", "青岛市")
    await stats.conversation("u2", "济南市")
    await stats.observe("rating", "济南市", 2)
    return month_of(system_clock())


async def test_monthly_export_from_the_command_line(redis, settings, tmp_path, capsys):
    month = await _activity(redis, settings)
    out = tmp_path / "m.xlsx"
    assert await _in_thread(cli.main, ["monthly", "--month", month, "--out", str(out)]) == 0
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["合计", "济南市", "青岛市"]  # as many users each: by name
    assert await _in_thread(cli.main, ["monthly", "--month", month, "--out", str(out), "--city", "青岛"]) == 0
    only = load_workbook(out, read_only=True)
    assert only.sheetnames == ["合计", "青岛市"]
    assert "服务用户 1 人" in capsys.readouterr().out
    assert [e["action"] for e in await AuditLog(redis, settings).latest()] == ["monthly_export"] * 2


async def test_a_bad_month_or_city_is_refused_with_a_clear_message(settings, tmp_path, capsys):
    assert await _in_thread(cli.main, ["monthly", "--month", "11/2026", "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "月份格式" in capsys.readouterr().err
    month = month_of(system_clock())
    assert await _in_thread(cli.main, ["monthly", "--month", month, "--out", str(tmp_path / "x.xlsx"), "--city", "东京"]) == 2
    assert "东京" in capsys.readouterr().err and not (tmp_path / "x.xlsx").exists()


async def _in_thread(fn, argv):
    """The tool runs its own event loop (asyncio.run), so it runs beside the test's."""
    return await asyncio.to_thread(fn, argv)
