"""The monthly service figures (supervisors and admins): per city and in total for a month, ECharts
charts, and the XLSX export. Read from `MonthlyStats` (counted as events happen), filtered by the
staff member's scope: a city supervisor sees their cities and their own total, the province's
staff every city, the province-wide bucket (online offerings) and users of unknown city.
Figures are kept per city, so a scope narrowed to counties sees no city's figures.
"""
from __future__ import annotations

import json
from typing import List, Optional

import aiohttp_jinja2
from aiohttp import web

from bot.gateway.appkeys import CLOCK, REDIS, SETTINGS
from bot.gateway.client_ip import client_ip
from bot.gateway.console.keys import AUDIT, JINJA
from bot.gateway.console.middleware import staff_of
from bot.gateway.console.pages import base_context
from bot.services.monthly_report import chart_data, table, valid_month, write_xlsx
from bot.services.monthly_stats import MonthlyStats, MonthReport, month_of
from bot.services.staff_scope import StaffScope

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def scope_cities(scope: StaffScope) -> Optional[List[str]]:
    """The cities whose figures the scope may read; None = all of them (the province)."""
    if scope.is_province:
        return None
    return sorted(city for city in scope.cities if scope.covers(city))


def _stats(request: web.Request) -> MonthlyStats:
    return MonthlyStats(request.config_dict[REDIS], request.config_dict[SETTINGS], request.config_dict[CLOCK])


def _month(request: web.Request, stats: MonthlyStats) -> str:
    month = request.query.get("month") or month_of(request.config_dict[CLOCK]())
    if not valid_month(month):
        raise web.HTTPBadRequest(text="月份格式应为“年-月”，例如 " + month_of(request.config_dict[CLOCK]()),
                                 content_type="text/plain")
    return month


async def _report(request: web.Request) -> MonthReport:
    stats = _stats(request)
    return await stats.month(_month(request, stats), cities=scope_cities(staff_of(request).scope))


async def monthly_page(request: web.Request) -> web.Response:
    stats = _stats(request)
    report = await _report(request)
    months = sorted(set(await stats.months()) | {month_of(request.config_dict[CLOCK]()), report.month}, reverse=True)
    context = base_context(
        request, page="monthly", report=report, months=months, table=table(report),
        charts=json.dumps(chart_data(report), ensure_ascii=False),
    )
    return aiohttp_jinja2.render_template("monthly.html", request, context, app_key=JINJA)


async def monthly_xlsx(request: web.Request) -> web.Response:
    """Aggregates only; every download is written to the audit log with the scope it covered."""
    report = await _report(request)
    staff = staff_of(request)
    body = write_xlsx(report, staff.scope.label())
    await request.config_dict[AUDIT].record(
        staff.username, "monthly_export", report.month, {"scope": staff.scope.label()}, ip=client_ip(request)
    )
    return web.Response(
        body=body,
        content_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="monthly-{report.month}.xlsx"'},
    )


def add_monthly_routes(console: web.Application) -> None:
    console.router.add_get("/monthly", monthly_page)
    console.router.add_get("/monthly.xlsx", monthly_xlsx)
