"""The monthly figures in the console: a month of activity generated through the real services on
real Redis, then the XLSX export opened with openpyxl (right totals, no OpenIDs), scoped to the
staff member (a 青岛 supervisor sees no 济南 figure, the admin the province), audited."""
from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import timedelta
from typing import Dict

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from bot.clock import FrozenClock, in_beijing, system_clock
from bot.gateway.appkeys import REDIS
from bot.gateway.console.keys import AUDIT
from bot.services.booking.service import BookingService
from bot.services.camp import Cohort, EnrollmentStore
from bot.services.conversation_marks import ConversationCounter
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.routing import UserPlace
from bot.services.handoff.service import HandoffService
from bot.services.monthly_stats import MonthlyStats, month_of, queue_message
from bot.services.profiles import ProfileStore
from bot.services.workshops import WorkshopCatalogue
from tests.bot.gateway.console.helpers import add_user, login
from tests.bot.services.booking_helpers import WORKSHOP, add_slot
from tests.helpers.gateway import ALWAYS_OPEN, serve_gateway

OPENIDS = ("o-month-qd1", "o-month-qd2", "o-month-jn1", "o-month-x1")


def this_month_morning() -> FrozenClock:
    """09:00 on the first of this Beijing month: the generated month is the current one."""
    now = in_beijing(system_clock())
    return FrozenClock(now.replace(day=1, hour=9, minute=0, second=0, microsecond=0))


async def generate_month(redis, settings) -> FrozenClock:
    """Several cities, users, conversations, messages, bookings, a camp enrolment, handoffs, ratings."""
    clock = this_month_morning()
    profiles = ProfileStore(redis, settings)
    for openid, city in (("o-month-qd1", "青岛"), ("o-month-qd2", "青岛市"), ("o-month-jn1", "济南")):
        await profiles.update(openid, {"city": city})
    counter = ConversationCounter(redis, settings, clock)
    for openid in OPENIDS:
        await counter.message(openid)
    clock.advance(minutes=40)
    await counter.message("o-month-qd1")  # after 40 silent minutes: a second conversation
    pipe = redis.pipeline(transaction=False)  # as the tracker store counts each message
    for city, intent in (("青岛市", "find_job"), ("青岛市", "nlu_fallback"), ("济南市", "find_job_fair")):
        queue_message(pipe, settings, clock(), city, intent)
    await pipe.execute()

    catalogue = WorkshopCatalogue(redis, settings, clock)
    booking = BookingService(redis, settings, catalogue=catalogue, clock=clock)
    await add_slot(catalogue, "m-qd", clock() + timedelta(hours=2), 5, replace(WORKSHOP, id="w-qd", city="青岛"))
    await add_slot(catalogue, "m-jn", clock() + timedelta(days=1), 5)  # WORKSHOP is 济南's
    attended = await booking.book("o-month-qd1", "m-qd", "张三", "13800138000")
    await booking.book("o-month-qd2", "m-qd", "李四", "13900139000")
    cancelled = await booking.book("o-month-jn1", "m-jn", "王五", "13700137000")
    await booking.cancel("o-month-jn1", cancelled.code)
    clock.advance(hours=2)
    await booking.mark_attendance(attended.code, True)

    day = clock().date()
    cohort = Cohort("m-yt", "烟台", "示例实训营", "示例地点", False, day + timedelta(days=10),
                    day + timedelta(days=20), "示例", "示例", 10, "免费", "示例", "12333", day + timedelta(days=5))
    await EnrollmentStore(redis, settings, clock).enroll("o-month-x1", cohort, {"phone": "13600136000"})

    handoff = HandoffService(redis, settings, clock, HandoffConfig(office_hours=ALWAYS_OPEN))
    qd = await handoff.request("o-month-qd1", first_message="转人工", place=UserPlace("青岛市", "", "profile"))
    jn = await handoff.request("o-month-jn1", first_message="转人工", place=UserPlace("济南市", "", "profile"))
    clock.advance(seconds=60)
    await handoff.claim(qd.item_id, "qd-counsellor")
    clock.advance(seconds=60)
    await handoff.claim(jn.item_id, "jn-counsellor")
    clock.advance(seconds=180)
    await handoff.close(qd.item_id, "qd-counsellor", "resolved")  # handled 240 s

    stats = MonthlyStats(redis, settings, clock)  # as the satisfaction ratings record them
    for city, score in (("青岛市", 5), ("青岛市", 3), ("济南市", 1)):
        await stats.count("rating_requested", city)
        await stats.observe("rating", city, score)
    await stats.count("rating_low", "济南市")
    return clock


def sheet_values(book, title: str) -> Dict[str, object]:
    return {row[0]: row[1] for row in book[title].iter_rows(min_row=3, values_only=True) if row and row[0]}


def all_cells(book) -> str:
    return " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v is not None)


async def _client(server, username: str) -> TestClient:
    client = TestClient(server)
    await client.start_server()
    await login(client, username)
    return client


async def _export(client: TestClient, month: str):
    resp = await client.get(f"/console/monthly.xlsx?month={month}")
    assert resp.status == 200 and resp.content_type.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(await resp.read()), read_only=True)


async def test_the_monthly_xlsx_opens_with_the_right_totals_for_a_generated_month(settings, aiohttp_server):
    app, server, _ = await serve_gateway(aiohttp_server, settings)
    redis = app[REDIS]
    clock = await generate_month(redis, settings)
    month = month_of(clock())
    add_user(settings, "root", "admin")
    admin = await _client(server, "root")
    try:
        book = await _export(admin, month)
        assert book.sheetnames[0] == "合计" and set(book.sheetnames) == {"合计", "青岛市", "济南市", "烟台市", "未知"}
        total = sheet_values(book, "合计")
        assert (total["服务用户数"], total["会话数"], total["用户消息数"], total["未理解消息数"]) == (4, 5, 3, 1)
        assert (total["指导课预约"], total["取消预约"], total["到场"], total["实训营报名"]) == (3, 1, 1, 1)
        assert (total["转人工"], total["人工接入"], total["人工结束"]) == (2, 2, 1)
        assert total["平均等待（分钟）"] == 1.5 and total["平均处理时长（分钟）"] == 4.0
        assert (total["邀请评价"], total["评价数"], total["平均满意度（1–5）"], total["低分评价"]) == (3, 3, 3.0, 1)
        qingdao = sheet_values(book, "青岛市")
        assert (qingdao["服务用户数"], qingdao["会话数"], qingdao["到场"], qingdao["平均满意度（1–5）"]) == (2, 3, 1, 4.0)
        assert not any(openid in all_cells(book) for openid in OPENIDS)
        audited = [e for e in await app[AUDIT].latest() if e["action"] == "monthly_export"]
        assert [(e["user"], e["target"]) for e in audited] == [("root", month)]
    finally:
        await admin.close()


async def test_a_qingdao_supervisor_sees_no_jinan_figures_and_the_admin_sees_the_province(settings, aiohttp_server):
    app, server, _ = await serve_gateway(aiohttp_server, settings)
    clock = await generate_month(app[REDIS], settings)
    month = month_of(clock())
    add_user(settings, "qd-boss", "supervisor", scope="青岛市")
    add_user(settings, "root", "admin")
    boss, admin = await _client(server, "qd-boss"), await _client(server, "root")
    try:
        book = await _export(boss, month)
        assert book.sheetnames == ["合计", "青岛市"]
        assert sheet_values(book, "合计")["服务用户数"] == 2 and sheet_values(book, "合计")["转人工"] == 1
        assert "济南" not in all_cells(book)
        page = await (await boss.get(f"/console/monthly?month={month}")).text()
        figures = re.search(r'<table class="queue" id="monthly-table">.*?</table>.*?data-figures="[^"]*"', page, re.S).group(0)
        assert "青岛市" in figures and "济南" not in figures and "未知" not in figures
        province = await (await admin.get(f"/console/monthly?month={month}")).text()
        assert all(city in province for city in ("青岛市", "济南市", "烟台市", "未知"))
        bad = await admin.get("/console/monthly?month=13-2026")
        assert bad.status == 400 and "月份格式" in await bad.text()
    finally:
        await boss.close()
        await admin.close()


def test_figures_are_per_city_so_a_county_scope_reads_none():
    from bot.gateway.console.monthly import scope_cities
    from bot.services.staff_scope import parse_scope

    assert scope_cities(parse_scope("province")) is None
    assert scope_cities(parse_scope("青岛市,烟台市")) == ["烟台市", "青岛市"]
    assert scope_cities(parse_scope("青岛市/黄岛区")) == []  # the whole city's figures would show other counties
