"""Camp cohorts in the console over HTTP on the real gateway app: seats and waitlist per cohort,
and the enrolment list as CSV for the organisers (supervisors only, every download audited)."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from bot.gateway.appkeys import SERVICES
from bot.clock import SHANGHAI, FrozenClock
from bot.gateway.console.keys import AUDIT
from tests.bot.gateway.console.helpers import add_user, login
from tests.helpers.gateway import serve_gateway

COHORT = "online-2026-12"
MORNING = datetime(2026, 11, 28, 9, 30, tzinfo=SHANGHAI)


async def test_supervisor_sees_seats_and_downloads_the_enrolment_list(settings, aiohttp_server, aiohttp_client):
    app, server, _ = await serve_gateway(aiohttp_server, settings, clock=FrozenClock(MORNING))
    add_user(settings, "li", "counsellor")
    add_user(settings, "zhang", "supervisor")
    services = app[SERVICES]
    cohort = services.campaigns.catalogue.get(COHORT)
    for i, name in enumerate(["王梓涵", "=HYPERLINK(1)"]):
        result = await services.enrolments.enroll(f"oCohort{i}", cohort, {"name": name, "phone": f"1381234567{i}"})
        assert result.status == "enrolled"

    anonymous = await aiohttp_client(server)
    assert (await anonymous.get(f"/console/cohorts/{COHORT}/enrolments.csv", allow_redirects=False)).status == 302
    counsellor = await aiohttp_client(server)
    await login(counsellor, "li")
    assert (await counsellor.get("/console/cohorts")).status == 403
    assert (await counsellor.get(f"/console/cohorts/{COHORT}/enrolments.csv")).status == 403

    boss = await aiohttp_client(server)
    await login(boss, "zhang")
    page = await (await boss.get("/console/cohorts")).text()
    row = page.split(f'data-cohort="{COHORT}"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="enrolled">2</td>' in row and '<td class="waitlisted">0</td>' in row

    resp = await boss.get(f"/console/cohorts/{COHORT}/enrolments.csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="enrolments-{COHORT}-20261128.csv"'
    body = await resp.read()
    assert body.startswith("\ufeff".encode("utf-8"))  # Excel reads UTF-8 only with the BOM
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert sorted((r["手机号"], r["姓名"], r["状态"]) for r in rows) == [  # same enrolment time: any order
        ("13812345670", "王梓涵", "已录取"), ("13812345671", "'=HYPERLINK(1)", "已录取")
    ]
    audit = [r for r in await app[AUDIT].latest() if r["action"] == "enrolments_export"]
    assert [(r["user"], r["target"]) for r in audit] == [("zhang", COHORT)]
    assert (await boss.get("/console/cohorts/no-such/enrolments.csv")).status == 404
