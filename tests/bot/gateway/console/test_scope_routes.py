"""Every route of the console's route table, tried by every kind of staff member (and nobody):
who gets past the guard is what EXPECTED says, route by route. A route added to the console
without an access rule (bot/gateway/console/access.py) is refused by the guard and fails
`test_every_route_has_a_decision`; one added with a rule but not listed here fails too.

The objects routes name belong to 青岛: a 青岛 user's handoff item (still in 青岛's pool), a
campaign for 青岛's users, a low rating of a 青岛 service and a 青岛 workshop session; the cohort
list is province-wide."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Dict, FrozenSet, List, Tuple

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.gateway.appkeys import HANDOFF, SERVICES
import bot.gateway.console as console_package
from bot.gateway.console.access import ROLE_TEXT, ROUTE_ACCESS
from bot.services.campaigns.jobs import define_campaign
from bot.services.campaigns.store import Segment
from bot.services.handoff.routing import find_user_place
from bot.services.profiles import ProfileStore
from bot.services.rating_words import parse_rating
from bot.services.satisfaction import Subject
from tests.bot.gateway.console.helpers import add_user, login
from bot.stack import free_port
from tests.helpers.gateway import gateway_app, serve_gateway
from tests.helpers.rasa_double import start_rasa

STAFF = {  # username: (role, scope)
    "qd": ("counsellor", "青岛市"),
    "yt": ("counsellor", "烟台市"),
    "prov": ("counsellor", "province"),
    "qd-boss": ("supervisor", "青岛市"),
    "yt-boss": ("supervisor", "烟台市"),
    "prov-boss": ("supervisor", "province"),
    "root": ("admin", "province"),
}
ANON = "anon"
EVERYONE = frozenset(STAFF) | {ANON}
SIGNED_IN = frozenset(STAFF)
QINGDAO_ITEM = frozenset({"qd", "qd-boss", "prov-boss", "root"})  # not 烟台, not the provincial pool's counsellor
SUPERVISORS = frozenset({"qd-boss", "yt-boss", "prov-boss", "root"})
QINGDAO_CAMPAIGN = frozenset({"qd-boss", "prov-boss", "root"})
QINGDAO_RATING = QINGDAO_CAMPAIGN
QINGDAO_SESSION = frozenset({"qd", "prov", "qd-boss", "prov-boss", "root"})  # any role of a scope covering 青岛
PROVINCE_SUPERVISORS = frozenset({"prov-boss", "root"})
ADMIN = frozenset({"root"})

ITEM_ACTIONS = ("claim", "release", "transfer", "close", "reply", "template", "note", "handback")
EXPECTED: Dict[Tuple[str, str], FrozenSet[str]] = {
    ("GET", "/console/login"): EVERYONE,
    ("POST", "/console/login"): EVERYONE,
    ("GET", "/console/static"): EVERYONE,
    ("GET", "/console/"): SIGNED_IN,
    ("GET", "/console/api/queue"): SIGNED_IN,
    ("GET", "/console/api/stream"): SIGNED_IN,
    ("POST", "/console/api/heartbeat"): SIGNED_IN,
    ("GET", "/console/conversations/{item_id}"): QINGDAO_ITEM,
    ("GET", "/console/api/items/{item_id}"): QINGDAO_ITEM,
    **{("POST", f"/console/api/items/{{item_id}}/{action}"): QINGDAO_ITEM for action in ITEM_ACTIONS},
    ("GET", "/console/dashboard"): SUPERVISORS,
    ("GET", "/console/monthly"): SUPERVISORS,
    ("GET", "/console/monthly.xlsx"): SUPERVISORS,
    ("GET", "/console/api/dashboard"): SUPERVISORS,
    ("GET", "/console/cohorts"): SUPERVISORS,
    ("GET", "/console/campaigns"): SUPERVISORS,
    ("POST", "/console/campaigns"): SUPERVISORS,
    ("GET", "/console/campaigns/{campaign_id}"): QINGDAO_CAMPAIGN,
    ("POST", "/console/campaigns/{campaign_id}/cancel"): QINGDAO_CAMPAIGN,
    ("GET", "/console/ratings"): SUPERVISORS,
    ("POST", "/console/ratings/{rating_id}/review"): QINGDAO_RATING,
    ("GET", "/console/sessions"): SIGNED_IN,
    ("GET", "/console/sessions/{slot_id}"): QINGDAO_SESSION,
    ("POST", "/console/sessions/{slot_id}/attendance"): QINGDAO_SESSION,
    ("POST", "/console/sessions/{slot_id}/cancel"): QINGDAO_SESSION,
    ("GET", "/console/sessions/{slot_id}/bookings.csv"): QINGDAO_SESSION,
    ("GET", "/console/cohorts/{cohort_id}/enrolments.csv"): PROVINCE_SUPERVISORS,
    ("GET", "/console/audit"): PROVINCE_SUPERVISORS,
    ("GET", "/console/users"): ADMIN,
    ("POST", "/console/users"): ADMIN,
    ("POST", "/console/users/{username}"): ADMIN,
    ("POST", "/console/logout"): SIGNED_IN,  # tried last: it ends the session
}


def console_routes(app: web.Application) -> List[Tuple[str, str]]:
    """(method, canonical path) of every route of the mounted console (HEAD is GET's)."""
    console = next(sub for sub in app._subapps if any(
        r.resource is not None and r.resource.canonical.startswith("/console/") for r in sub.router.routes()))
    return sorted({(r.method, r.resource.canonical) for r in console.router.routes() if r.method != "HEAD"})


def concrete(path: str, ids: Dict[str, str]) -> str:
    if path == "/console/static":
        return "/console/static/console.js"
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


GUARD_REFUSALS = (*ROLE_TEXT.values(), "请先登录", "该页面尚未开放")


def refused(status: int, location: str, body: str) -> bool:
    """Refused by the guard: no session (401, or the login page), or the guard's own 403 (a
    handler's 403, such as the login form's CSRF check, is past the guard)."""
    if status == 401 or (status == 302 and location.startswith("/console/login?next=")):
        return True
    return status == 403 and any(text in body for text in GUARD_REFUSALS)


@pytest.fixture
async def gw(settings, aiohttp_server):
    app, server, _rasa = await serve_gateway(aiohttp_server, settings)
    for name, (role, scope) in STAFF.items():
        add_user(settings, name, role, scope=scope)
    add_user(settings, "victim", "counsellor", scope="青岛市")
    services = app[SERVICES]
    await ProfileStore(services.redis, services.settings).update("sim-routes01", {"city": "青岛市"})
    await app[HANDOFF].heartbeat("qd", ("青岛市",))
    place = await find_user_place(services.redis, services.settings, "sim-routes01")
    item = await app[HANDOFF].request("sim-routes01", first_message="转人工", place=place)
    today = services.clock().date()
    cohort = next(c for c in services.campaigns.catalogue.cohorts if c.is_open(today))
    campaign = await define_campaign(
        services.campaigns.store, services.scheduler, services.campaigns.catalogue, cohort_id=cohort.id,
        segment=Segment(cities=("青岛市",)), message="【示例】青岛实训营开始报名", created_by="qd-boss",
        when=services.clock() + timedelta(days=7),
    )
    rating_id = await services.satisfaction.record(Subject("handoff", item.item_id, "青岛市", "", "qd"), parse_rating("1"))
    qingdao = next(row for row in await services.booking.sessions(services.clock(), services.clock() + timedelta(days=28))
                   if row.workshop.city == "青岛" and row.workshop.mode == "线下")
    ids = {"item_id": item.item_id, "campaign_id": campaign.id, "cohort_id": cohort.id, "username": "victim",
           "rating_id": rating_id, "slot_id": qingdao.slot.id}
    yield app, server, ids


def test_every_route_has_a_decision(settings):
    app = gateway_app(settings, "http://127.0.0.1:9", free_port())
    routes = console_routes(app)
    assert routes, "the console mounted no routes"
    assert [r for r in routes if r not in ROUTE_ACCESS] == [], "a console route without an access rule"
    assert [r for r in routes if r not in EXPECTED] == [], "a console route this test does not try"
    assert sorted(EXPECTED) == routes


async def test_each_route_across_scopes(gw):
    app, server, ids = gw
    sessions: Dict[str, Tuple[TestClient, str]] = {}
    for name in [*STAFF, ANON]:
        c = TestClient(server)
        await c.start_server()
        sessions[name] = (c, await login(c, name) if name != ANON else "")
    wrong: List[str] = []
    try:
        for method, path in sorted(EXPECTED, key=lambda r: r == ("POST", "/console/logout")):
            url = concrete(path, ids)
            for name, (c, csrf) in sessions.items():
                if method == "GET":
                    resp = await c.get(url, allow_redirects=False)
                else:
                    resp = await c.post(url, json={}, headers={"X-CSRF-Token": csrf}, allow_redirects=False)
                body = "" if path == "/console/api/stream" else await resp.text(errors="replace")  # an XLSX too
                if resp.content_type == "application/json":
                    body = json.dumps(await resp.json(), ensure_ascii=False)
                got_in = not refused(resp.status, resp.headers.get("Location", ""), body)
                resp.close()
                if got_in != (name in EXPECTED[(method, path)]):
                    wrong.append(f"{method} {path} as {name}: {resp.status}")
    finally:
        for c, _ in sessions.values():
            await c.close()
    assert wrong == []


async def test_a_route_added_without_a_rule_is_refused(settings, aiohttp_server, monkeypatch):
    async def new_page(_request: web.Request) -> web.Response:
        return web.Response(text="secret")

    add_user_routes = console_package.add_user_routes

    def with_a_new_page(console: web.Application) -> None:  # a later feature forgetting access.py
        add_user_routes(console)
        console.router.add_get("/reports/new", new_page)

    monkeypatch.setattr(console_package, "add_user_routes", with_a_new_page)
    rasa = await start_rasa(aiohttp_server)
    port = free_port()
    app = gateway_app(settings, rasa.url, port)
    assert ("GET", "/console/reports/new") in console_routes(app)
    server = await aiohttp_server(app, port=port)
    add_user(settings, "root", "admin")
    c = TestClient(server)
    await c.start_server()
    try:
        await login(c, "root")
        resp = await c.get("/console/reports/new")
        assert resp.status == 403 and "secret" not in await resp.text()
    finally:
        await c.close()
