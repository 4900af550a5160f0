"""Workshop check-in in the console over HTTP on the real gateway app (real Redis): a 青岛
counsellor sees 青岛's sessions only, marks a booking attended (one rating request, the month's
attendance counted), corrects it to no-show (the count goes back), cancels for a user (the seat
goes to the waitlist), and downloads the list (audited); CSRF, scope and wrong codes refused."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time, timedelta
from typing import Dict, Tuple

from bot.clock import SHANGHAI, FrozenClock, system_clock
from bot.gateway.appkeys import SERVICES
from bot.gateway.console.keys import AUDIT
from bot.services.monthly_stats import MonthlyStats, month_of
from bot.services.workshops import Slot, Workshop
from tests.bot.gateway.console.helpers import add_user, login
from tests.helpers.gateway import serve_gateway

QD = Workshop("t-qd-resume", "简历指导", "【示例】简历门诊", "示例", "王老师", "", "青岛", "线下", venue="青岛示例教室")
JN = Workshop("t-jn-resume", "简历指导", "【示例】济南简历课", "示例", "李老师", "", "济南", "线下", venue="济南示例教室")
ONLINE = Workshop("t-online", "职业规划", "【示例】线上规划课", "示例", "专家团", "", "全省", "线上", link="https://example.org/m")


def today_at(hour: int, minute: int = 0) -> datetime:
    """An instant of today (Beijing): the sessions page shows today and the next 7 days."""
    return datetime.combine(system_clock().date(), time(hour, minute), tzinfo=SHANGHAI)


async def add_session(services, workshop: Workshop, slot_id: str, capacity: int, start: datetime) -> Slot:
    catalogue = services.booking.catalogue
    await catalogue.upsert_workshop(workshop)
    slot = Slot(slot_id, workshop.id, start, start + timedelta(hours=2), capacity)
    await catalogue.upsert_slot(slot)
    return slot


async def workshop_morning(services, clock: FrozenClock) -> Dict[str, str]:
    """Sessions at 09:30 today in 青岛 (2 seats, full, one waiting), 济南 and online, booked
    at 08:00; the clock then stands at 10:00, the 青岛 session under way. Returns the codes."""
    booking = services.booking
    for workshop, slot_id in ((QD, "t-qd-1"), (JN, "t-jn-1"), (ONLINE, "t-on-1")):
        await add_session(services, workshop, slot_id, 2, today_at(9, 30))
    codes = {}
    for key, openid, slot_id, name, phone in (
        ("wang", "oWang", "t-qd-1", "王小明", "13812345678"), ("zhao", "oZhao", "t-qd-1", "=赵六", "13900001111"),
        ("jn", "oJn", "t-jn-1", "济南用户", "13700002222"), ("online", "oOn", "t-on-1", "线上用户", "13600003333"),
    ):
        result = await booking.book(openid, slot_id, name, phone, f"req-{key}")
        assert result.status == "confirmed", result
        codes[key] = result.code
    assert (await booking.join_waitlist("oLiu", "t-qd-1", "刘候补", "13500004444")).status == "waiting"
    clock.set(today_at(10))
    return codes


async def serve_and_book(settings, aiohttp_server) -> Tuple:
    clock = FrozenClock(today_at(8))
    app, server, _ = await serve_gateway(aiohttp_server, settings, clock=clock)
    codes = await workshop_morning(app[SERVICES], clock)
    add_user(settings, "qd-li", "counsellor", scope="青岛市")
    add_user(settings, "jn-boss", "supervisor", scope="济南市")
    return app, server, clock, codes


def listed(html: str) -> list:
    return re.findall(r'<tr data-slot="([^"]+)">', html)


def status_of(html: str, code: str) -> str:
    return re.search(rf'data-code="{code}" data-status="([a-z_]+)"', html).group(1)


def rating_jobs(services) -> list:
    return services.scheduler.job_key("rating_request:*")


async def test_a_qingdao_counsellor_checks_people_in(settings, aiohttp_server, aiohttp_client):
    app, server, clock, codes = await serve_and_book(settings, aiohttp_server)
    services = app[SERVICES]
    qd = await aiohttp_client(server)
    csrf = await login(qd, "qd-li")

    page = await (await qd.get("/console/sessions")).text()
    assert "t-qd-1" in listed(page) and "t-jn-1" not in listed(page) and "t-on-1" not in listed(page)
    assert "济南" not in page.split('id="sessions"', 1)[1]  # no 济南 sample session either
    row = page.split('data-slot="t-qd-1"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="taken">2/2</td>' in row and '<td class="waiting">1</td>' in row

    session = await (await qd.get("/console/sessions/t-qd-1")).text()
    assert "王小明" in session and "*******5678" in session and "13812345678" not in session
    assert status_of(session, codes["wang"]) == "confirmed"

    done = await qd.post("/console/sessions/t-qd-1/attendance",
                         data={"_csrf": csrf, "code": codes["wang"].lower(), "attended": "yes"}, allow_redirects=False)
    assert done.status == 303
    assert (await services.booking.get(codes["wang"])).status == "attended"
    page = await (await qd.get(done.headers["Location"])).text()
    assert f"已标记到场：{codes['wang']}" in page and status_of(page, codes["wang"]) == "attended"
    keys = [k async for k in services.redis.scan_iter(rating_jobs(services))]
    assert len(keys) == 1 and codes["wang"] in keys[0]
    job = await services.scheduler.get(keys[0][len(services.scheduler.job_key("")):])
    assert job.kind == "rating_request" and job.payload["openid"] == "oWang"
    monthly = MonthlyStats(services.redis, services.settings, clock)
    assert (await monthly.month(month_of(clock()))).by_city["青岛市"].count("booking_attended") == 1

    # a correction: no-show takes the figure back, and asks no second rating
    await qd.post("/console/sessions/t-qd-1/attendance",
                  data={"_csrf": csrf, "code": codes["wang"], "attended": "no"}, allow_redirects=False)
    assert (await services.booking.get(codes["wang"])).status == "no_show"
    assert (await monthly.month(month_of(clock()))).by_city["青岛市"].count("booking_attended") == 0
    assert len([k async for k in services.redis.scan_iter(rating_jobs(services))]) == 1
    audit = [r for r in await app[AUDIT].latest() if r["action"] == "session_attendance"]
    assert [(r["user"], r["target"]) for r in audit] == [("qd-li", codes["wang"])] * 2


async def test_staff_cancel_frees_the_seat_for_the_waitlist(settings, aiohttp_server, aiohttp_client):
    """A user phones to say they cannot come tomorrow: the seat goes to the first one waiting."""
    app, server, _, _ = await serve_and_book(settings, aiohttp_server)
    services = app[SERVICES]
    await add_session(services, QD, "t-qd-2", 1, today_at(9, 30) + timedelta(days=1))
    gone = (await services.booking.book("oGone", "t-qd-2", "=赵六", "13900001111", "req-gone")).code
    assert (await services.booking.join_waitlist("oLiu", "t-qd-2", "刘候补", "13500004444")).status == "waiting"
    qd = await aiohttp_client(server)
    csrf = await login(qd, "qd-li")
    ask = await qd.post("/console/sessions/t-qd-2/cancel", data={"_csrf": csrf, "code": gone})
    assert ask.status == 200 and "确认取消" in await ask.text()
    assert (await services.booking.get(gone)).status == "confirmed"  # nothing happened yet

    done = await qd.post("/console/sessions/t-qd-2/cancel",
                         data={"_csrf": csrf, "code": gone, "confirm": "yes"}, allow_redirects=False)
    assert done.status == 303
    assert (await services.booking.get(gone)).status == "cancelled"
    assert await services.booking.waitlist("t-qd-2") == []
    names = {b.name: b.status for b in await services.booking.slot_bookings("t-qd-2")}
    assert names == {"=赵六": "cancelled", "刘候补": "confirmed"}
    assert await services.booking.seats_taken("t-qd-2") == 1
    audit = [r for r in await app[AUDIT].latest() if r["action"] == "session_cancel"]
    assert [(r["user"], r["target"]) for r in audit] == [("qd-li", gone)]
    again = await qd.post("/console/sessions/t-qd-2/cancel", data={"_csrf": csrf, "code": gone, "confirm": "yes"})
    assert again.status == 409 and "不能取消" in await again.text()


async def test_refusals_csrf_scope_and_codes(settings, aiohttp_server, aiohttp_client):
    app, server, _, codes = await serve_and_book(settings, aiohttp_server)
    services = app[SERVICES]
    qd, jn = await aiohttp_client(server), await aiohttp_client(server)
    csrf = await login(qd, "qd-li")
    jn_csrf = await login(jn, "jn-boss")

    no_token = await qd.post("/console/sessions/t-qd-1/attendance", data={"code": codes["wang"], "attended": "yes"})
    assert no_token.status == 403 and "CSRF" in await no_token.text()
    for path in ("/console/sessions/t-qd-1/attendance", "/console/sessions/t-qd-1/cancel"):
        refused = await jn.post(path, data={"_csrf": jn_csrf, "code": codes["wang"], "attended": "yes", "confirm": "yes"})
        assert refused.status == 403 and "该场次不在您的工作范围内" in await refused.text()
    assert (await jn.get("/console/sessions/t-qd-1")).status == 403
    assert (await jn.get("/console/sessions/t-qd-1/bookings.csv")).status == 403
    assert (await qd.get("/console/sessions/t-on-1")).status == 403  # online: the province's
    assert (await services.booking.get(codes["wang"])).status == "confirmed"

    for code in (codes["jn"], "NOPE99", ""):  # another session's code, an unknown one, none
        wrong = await qd.post("/console/sessions/t-qd-1/attendance", data={"_csrf": csrf, "code": code, "attended": "yes"})
        text = await wrong.text()
        assert wrong.status == 404 and ("不是本场次的预约" in text or "请填写预约码" in text)
        assert "Traceback" not in text
    assert (await services.booking.get(codes["jn"])).status == "confirmed"
    unclear = await qd.post("/console/sessions/t-qd-1/attendance", data={"_csrf": csrf, "code": codes["wang"], "attended": "maybe"})
    assert unclear.status == 400 and "请选择" in await unclear.text()
    assert (await services.booking.get(codes["wang"])).status == "confirmed"
    assert (await qd.get("/console/sessions/no-such-slot")).status == 404
    assert 'name="city"' not in await (await jn.get("/console/sessions")).text()  # one city: no picker
    province = await aiohttp_client(server)
    add_user(settings, "prov-li", "counsellor", scope="province")
    await login(province, "prov-li")
    every = await (await province.get("/console/sessions")).text()
    assert {"t-qd-1", "t-jn-1", "t-on-1"} <= set(listed(every)) and 'name="city"' in every
    online = listed(await (await province.get("/console/sessions?city=全省")).text())
    assert "t-on-1" in online and "t-qd-1" not in online and "t-jn-1" not in online
    assert "t-qd-1" not in listed(await (await province.get("/console/sessions?city=济南市")).text())
    bad = await qd.get("/console/sessions?from=明天&days=9")
    assert bad.status == 400 and "看不懂" in await bad.text()


async def test_marks_wait_for_the_day_of_the_session(settings, aiohttp_server, aiohttp_client):
    app, server, clock, codes = await serve_and_book(settings, aiohttp_server)
    services = app[SERVICES]
    await add_session(services, QD, "t-qd-next", 5, today_at(9, 30) + timedelta(days=2))
    made = await services.booking.book("oNext", "t-qd-next", "下周用户", "13400005555", "req-next")
    qd = await aiohttp_client(server)
    csrf = await login(qd, "qd-li")
    early = await qd.post("/console/sessions/t-qd-next/attendance", data={"_csrf": csrf, "code": made.code, "attended": "yes"})
    assert early.status == 409 and "场次当天才能签到" in await early.text()
    assert (await services.booking.get(made.code)).status == "confirmed"


async def test_the_list_downloads_as_csv_and_is_audited(settings, aiohttp_server, aiohttp_client):
    app, server, _, codes = await serve_and_book(settings, aiohttp_server)
    qd = await aiohttp_client(server)
    await login(qd, "qd-li")
    resp = await qd.get("/console/sessions/t-qd-1/bookings.csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0][0] == "预约码" and {r[0] for r in rows[1:]} == {codes["wang"], codes["zhao"]}
    assert "'=赵六" in [r[6] for r in rows[1:]]  # a formula-looking name is made inert
    audit = [r for r in await app[AUDIT].latest() if r["action"] == "session_export"]
    assert [(r["user"], r["target"]) for r in audit] == [("qd-li", "t-qd-1")]
