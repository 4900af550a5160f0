"""Scoped staff over HTTP on the real gateway (real Redis, the Rasa double, a FrozenClock):
counsellors of two cities each see and claim only their city's users; a 青岛 user's request
reaches the 青岛 counsellor and falls to the provincial pool when no 青岛 counsellor is online
(the job on the shared scheduler); the provincial administrator manages accounts, audited; a
city supervisor's campaign reaches only their city."""
from __future__ import annotations

import asyncio
import json
import re
from typing import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from bot.clock import FrozenClock
from bot.gateway.appkeys import HANDOFF, SERVICES
from bot.gateway.console.keys import AUDIT, CONSOLE_AUTH
from bot.services.handoff.config import HandoffConfig
from bot.services.profiles import ProfileStore
from tests.bot.gateway.console.helpers import add_user, login, user_says
from tests.helpers.gateway import ALWAYS_OPEN, client_factory, serve_gateway
from tests.helpers.moments import upcoming


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(upcoming(3, 10))


@pytest.fixture
async def gw(settings, aiohttp_server, clock):
    config = HandoffConfig(office_hours=ALWAYS_OPEN, no_staff_minutes=5, city_wait_minutes=3)
    app, server, rasa = await serve_gateway(aiohttp_server, settings, clock=clock, config=config)
    add_user(settings, "qd", "counsellor", scope="青岛市")
    add_user(settings, "yt", "counsellor", scope="烟台市")
    add_user(settings, "prov", "counsellor")
    add_user(settings, "boss-yt", "supervisor", scope="烟台市")
    async with client_factory(server) as client:
        yield app, client


async def queue_of(c: TestClient) -> list:
    resp = await c.get("/console/api/queue")
    assert resp.status == 200
    return [i["openid"] for i in (await resp.json())["items"]]


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """The job runner of the gateway under test may take a due job before the test's own pass."""
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)


async def test_two_city_counsellors_each_see_and_claim_only_their_city(gw, settings):
    app, client = gw
    qd, yt, prov, boss = await client(), await client(), await client(), await client()
    csrf = {name: await login(c, name) for name, c in (("qd", qd), ("yt", yt), ("prov", prov), ("boss-yt", boss))}
    await ProfileStore(app[SERVICES].redis, app[SERVICES].settings).update("sim-qd000001", {"city": "青岛市"})
    told = await user_says(qd, "sim-qd000001", "转人工")
    assert "青岛市的职业指导师" in told[0]
    await user_says(yt, "sim-yt000001", "我在烟台莱山区，想问问失业登记怎么办")
    assert "烟台市的职业指导师" in (await user_says(yt, "sim-yt000001", "转人工"))[0]

    assert await queue_of(qd) == ["sim-qd000001"]
    assert await queue_of(yt) == ["sim-yt000001"]
    assert await queue_of(boss) == ["sim-yt000001"]
    assert await queue_of(prov) == []  # both wait for their cities first

    items = {i["openid"]: i for i in await app[HANDOFF].snapshot()}
    qd_item, yt_item = items["sim-qd000001"]["id"], items["sim-yt000001"]["id"]
    assert items["sim-yt000001"]["district"] == "莱山区"
    refused = await yt.post(f"/console/api/items/{qd_item}/claim", headers={"X-CSRF-Token": csrf["yt"]})
    assert refused.status == 403 and "工作范围" in (await refused.json())["error"]
    assert (await yt.get(f"/console/api/items/{qd_item}")).status == 403
    assert (await yt.get(f"/console/conversations/{qd_item}")).status == 403
    assert (await app[HANDOFF].get(qd_item))["status"] == "queued"
    assert (await qd.post(f"/console/api/items/{qd_item}/claim", headers={"X-CSRF-Token": csrf["qd"]})).status == 200
    # a transfer only to a colleague whose scope covers the user
    moved = await qd.post(f"/console/api/items/{qd_item}/transfer", json={"to": "yt"}, headers={"X-CSRF-Token": csrf["qd"]})
    assert moved.status == 400 and "工作范围" in (await moved.json())["error"]
    assert "forbidden" in {r["action"] for r in await app[AUDIT].latest()}

    # the live stream's first snapshot holds the same view
    resp = await yt.get("/console/api/stream")
    block = b""
    while not block.endswith(b"\n\n"):
        block += await asyncio.wait_for(resp.content.readline(), 5)
    snapshot = json.loads(block.decode().split("data: ", 1)[1])
    assert [i["openid"] for i in snapshot["items"]] == ["sim-yt000001"]
    resp.close()


async def test_a_qingdao_request_falls_to_the_provincial_pool_when_no_qingdao_counsellor_is_online(gw, clock):
    app, client = gw
    qd, prov = await client(), await client()
    await login(qd, "qd")
    csrf_prov = await login(prov, "prov")
    await ProfileStore(app[SERVICES].redis, app[SERVICES].settings).update("sim-qd000002", {"city": "青岛市"})
    told = (await user_says(qd, "sim-qd000002", "转人工"))[0]
    assert "已为您转接人工服务，由青岛市的职业指导师为您解答" in told and "将由省级职业指导师为您服务" in told
    assert await queue_of(qd) == ["sim-qd000002"] and await queue_of(prov) == []
    item_id = (await app[HANDOFF].snapshot())[0]["id"]
    scheduler = app[SERVICES].scheduler

    async def looked(attempt: int) -> bool:
        job = await scheduler.get(f"handoff_fallback:{item_id}:{attempt}")
        return job is not None and job.state == "done"

    # the 青岛 counsellor's console is open at the first look: the item stays with 青岛
    clock.advance(minutes=3, seconds=1)
    await scheduler.run_due(clock())
    await until(lambda: looked(1), "the first look ran")
    assert await queue_of(prov) == []
    # the 青岛 console was closed (no heartbeat for more than 5 minutes) at the next look
    clock.advance(minutes=3, seconds=1)
    await prov.post("/console/api/heartbeat", headers={"X-CSRF-Token": csrf_prov})
    await scheduler.run_due(clock())
    await until(lambda: looked(2), "the second look ran")
    assert await queue_of(prov) == ["sim-qd000002"]
    assert await queue_of(qd) == ["sim-qd000002"]  # still 青岛's business too
    claimed = await prov.post(f"/console/api/items/{item_id}/claim", headers={"X-CSRF-Token": csrf_prov})
    assert claimed.status == 200


async def test_the_admin_manages_accounts_in_the_console_and_every_change_is_audited(gw, settings):
    app, client = gw
    add_user(settings, "root", "admin", scope="青岛市")  # an admin's scope is always the province
    admin, boss = await client(), await client()
    csrf = await login(admin, "root")
    boss_csrf = await login(boss, "boss-yt")
    assert (await boss.get("/console/users")).status == 403
    assert (await boss.post("/console/users", data={"_csrf": boss_csrf, "username": "x1"})).status == 403
    page = await (await admin.get("/console/users")).text()
    assert "root" in page and "全省" in page and "烟台市" in page

    bad = await admin.post("/console/users", data={"_csrf": csrf, "username": "wf", "role": "counsellor",
                                                    "scope": "北京市", "password": "long-enough-pw"})
    assert bad.status == 400 and "不是山东省的地级市" in await bad.text()
    made = await admin.post("/console/users", allow_redirects=False, data={
        "_csrf": csrf, "username": "wf", "display_name": "潍坊王老师", "role": "counsellor",
        "scope": "潍坊市", "password": "long-enough-pw"})
    assert made.status == 303
    wf = await client()
    await login(wf, "wf", "long-enough-pw")
    assert "潍坊市" in await (await wf.get("/console/")).text()

    # a new scope and role end the account's session (it carried the old rights)
    changed = await admin.post("/console/users/wf", allow_redirects=False, data={
        "_csrf": csrf, "action": "save", "role": "supervisor", "scope": "潍坊市,日照市", "disabled": "0"})
    assert changed.status == 303
    assert (await wf.get("/console/api/queue")).status == 401
    await login(wf, "wf", "long-enough-pw")
    assert (await wf.get("/console/dashboard")).status == 200
    reset = await admin.post("/console/users/wf", data={"_csrf": csrf, "action": "password", "password": "another-long-pw"})
    assert reset.status == 200 and "已重置" in await reset.text()
    assert (await wf.get("/console/api/queue")).status == 401
    await admin.post("/console/users/wf", data={"_csrf": csrf, "action": "save", "role": "supervisor",
                                                "scope": "潍坊市", "disabled": "1"})
    again = await client()
    form = await (await again.get("/console/login")).text()
    token = re.search(r'name="_csrf" value="([^"]+)"', form).group(1)
    refused = await again.post("/console/login", allow_redirects=False,
                               data={"_csrf": token, "username": "wf", "password": "another-long-pw"})
    assert refused.status == 401  # disabled
    self_demote = await admin.post("/console/users/root", data={"_csrf": csrf, "action": "save", "role": "counsellor",
                                                                "scope": "province", "disabled": "0"})
    assert self_demote.status == 400

    audit = [(r["user"], r["action"], r["target"]) for r in await app[AUDIT].latest()]
    for action in ("user_add", "user_update", "user_passwd"):
        assert ("root", action, "wf") in audit
    account = (await app[CONSOLE_AUTH].list_users())["wf"]
    assert (account["role"], account["scope"], account["disabled"]) == ("supervisor", "潍坊市", "1")
    assert (await app[CONSOLE_AUTH].list_users())["root"]["scope"] == "province"


async def test_a_city_supervisor_addresses_only_their_city_in_a_campaign(gw):
    app, client = gw
    boss = await client()
    csrf = await login(boss, "boss-yt")
    services = app[SERVICES]
    cohort = next(c for c in services.campaigns.catalogue.cohorts if c.is_open(services.clock().date()))
    page = await (await boss.get("/console/campaigns")).text()
    assert 'value="烟台市"' in page and 'value="青岛市"' not in page  # only their cities to tick

    async def preview(*cities: str):
        form = [("_csrf", csrf), ("cohort", cohort.id), ("action", "preview"), ("message", "【示例】实训营开始报名")]
        return await boss.post("/console/campaigns", data=form + [("city", c) for c in cities])

    for cities in (("青岛市",), ("烟台市", "青岛市"), ()):
        refused = await preview(*cities)
        assert refused.status == 400 and "您的工作范围是烟台市" in await refused.text(), cities
    assert (await preview("烟台市")).status == 200
    assert await services.campaigns.store.ids() == []
