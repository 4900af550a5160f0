"""The console over HTTP on the real gateway app: login, roles, CSRF, claim races (409),
replies through the fake WeChat API, hand-back to the Rasa double, audit, SSE, metrics."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest

from bot.gateway.appkeys import HANDOFF
from bot.clock import SHANGHAI
from bot.gateway.console.display import fmt_ts
from bot.gateway.console.keys import AUDIT
from tests.bot.gateway.console.helpers import add_user, login, user_says
from tests.helpers.gateway import client_factory, serve_gateway


@pytest.fixture
async def gw(settings, aiohttp_server):
    app, server, rasa = await serve_gateway(aiohttp_server, settings)
    add_user(settings, "li", "counsellor")
    add_user(settings, "wang", "counsellor")
    add_user(settings, "zhang", "supervisor")
    async with client_factory(server) as client:
        yield app, server, rasa, client


async def test_unauthenticated_requests_are_refused(gw):
    app, server, rasa, client = gw
    c = await client()
    page = await c.get("/console/", allow_redirects=False)
    assert page.status == 302 and page.headers["Location"].startswith("/console/login")
    assert (await c.get("/console/api/queue")).status == 401
    assert (await c.post("/console/api/items/1/claim")).status == 401
    assert (await c.get("/console/api/stream")).status == 401
    assert (await c.get("/console/static/console.js")).status == 200


async def test_wrong_password_and_wrong_role(gw):
    app, server, rasa, client = gw
    c = await client()
    page = await c.get("/console/login")
    import re
    token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
    bad = await c.post("/console/login", data={"_csrf": token, "username": "li", "password": "wrong-password!"}, allow_redirects=False)
    assert bad.status == 401
    await login(c, "li")
    assert (await c.get("/console/dashboard")).status == 403
    assert (await c.get("/console/api/dashboard")).status == 403
    assert (await c.get("/console/audit")).status == 403
    boss = await client()
    await login(boss, "zhang")
    assert (await boss.get("/console/dashboard")).status == 200
    data = await (await boss.get("/console/api/dashboard")).json()
    assert "wait" in data and "handled_per_counsellor" in data
    audit = await app[AUDIT].latest()
    assert {"login_failed", "login", "forbidden"} <= {r["action"] for r in audit}


async def test_csrf_is_enforced(gw):
    app, server, rasa, client = gw
    c = await client()
    csrf = await login(c, "li")
    item = await app[HANDOFF].request("sim-csrf01", first_message="转人工")
    url = f"/console/api/items/{item.item_id}/claim"
    assert (await c.post(url)).status == 403
    assert (await c.post(url, headers={"X-CSRF-Token": "forged"})).status == 403
    assert (await c.post(url, headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"})).status == 403
    # login form without the double-submit token
    anon = await client()
    assert (await anon.post("/console/login", data={"username": "li", "password": "correct-horse-42"})).status == 403
    assert (await app[HANDOFF].get(item.item_id))["status"] == "queued"
    ok = await c.post(url, headers={"X-CSRF-Token": csrf})
    assert ok.status == 200


async def test_claim_race_over_http_one_winner_others_409(gw):
    app, server, rasa, client = gw
    li, wang = await client(), await client()
    csrf_li, csrf_wang = await login(li, "li"), await login(wang, "wang")
    item = await app[HANDOFF].request("sim-race01", first_message="转人工")
    url = f"/console/api/items/{item.item_id}/claim"
    results = await asyncio.gather(*[
        (li if n % 2 else wang).post(url, headers={"X-CSRF-Token": csrf_li if n % 2 else csrf_wang})
        for n in range(20)
    ])
    statuses = sorted(r.status for r in results)
    assert statuses.count(200) == 1 and statuses.count(409) == 19
    loser = [r for r in results if r.status == 409][0]
    body = await loser.json()
    assert "已被其他职业指导师接入" in body["error"] and body["holder"] in ("li", "wang")


async def test_full_flow_through_the_wechat_path(gw):
    app, server, rasa, client = gw
    c = await client()
    csrf = await login(c, "li")
    user = "sim-flow0001"
    replies = await user_says(c, user, "你好")
    assert replies == ["机器人收到：你好"]
    replies = await user_says(c, user, "转人工")
    assert "第 1 位" in replies[0]
    queue = (await (await c.get("/console/api/queue")).json())["items"]
    assert [i["openid"] for i in queue] == [user]
    item_id = queue[0]["id"]
    h = {"X-CSRF-Token": csrf}
    assert (await c.post(f"/console/api/items/{item_id}/claim", headers=h)).status == 200
    assert await user_says(c, user, "我想咨询失业登记") == []
    page = await c.get(f"/console/conversations/{item_id}")
    html = await page.text()
    assert "我想咨询失业登记" in html and "ask_policy" in html and "机器人收到：你好" in html

    reply = await c.post(f"/console/api/items/{item_id}/reply", json={"text": "您好，我是李老师"}, headers=h)
    assert reply.status == 200, await reply.text()
    sent = await (await c.get("/fake-wechat/_sent", params={"touser": user})).json()
    assert any("您好，我是李老师" in json.dumps(m, ensure_ascii=False) for m in sent["messages"])
    assert (await c.post(f"/console/api/items/{item_id}/note", json={"text": "需要跟进失业金"}, headers=h)).status == 200

    back = await c.post(f"/console/api/items/{item_id}/handback", headers=h)
    assert back.status == 200 and (await back.json())["delivered"] == 1
    assert rasa.triggers[-1]["sender"] == user and rasa.triggers[-1]["name"] == "greet"
    sent = await (await c.get("/fake-wechat/_sent", params={"touser": user})).json()
    assert "欢迎回来" in json.dumps(sent["messages"][-1], ensure_ascii=False)
    assert await user_says(c, user, "附近的服务点") == ["机器人收到：附近的服务点"]
    assert rasa.texts(user) == ["你好", "附近的服务点"]
    kinds = [e["kind"] for e in await app[HANDOFF].transcript(item_id)]
    assert {"user", "counsellor", "note", "bot", "system"} <= set(kinds)

    metrics = await (await c.get("/metrics")).text()
    assert 'zhinan_messages_total{channel="wechat",handled_by="interceptor"}' in metrics
    assert "zhinan_handoff_wait_seconds_count 1.0" in metrics
    assert "zhinan_counsellor_replies_total 1.0" in metrics
    assert "zhinan_handoff_queue_length 0.0" in metrics


async def test_transcript_read_through_the_api_is_audited_like_the_page(gw):
    app, server, rasa, client = gw
    c = await client()
    await login(c, "li")
    item = await app[HANDOFF].request("sim-audit01", first_message="转人工")
    assert (await c.get(f"/console/api/items/{item.item_id}")).status == 200
    assert (await c.get(f"/console/conversations/{item.item_id}")).status == 200
    views = [r for r in await app[AUDIT].latest() if r["action"] == "view"]
    assert len(views) == 2  # the JSON read and the page read, one entry each
    shapes = {(r["user"], r["target"], r["detail"], bool(r["ip"])) for r in views}
    assert shapes == {("li", item.item_id, "{}", True)}


async def test_reply_refused_when_window_closed(gw):
    app, server, rasa, client = gw
    c = await client()
    csrf = await login(c, "li")
    item = await app[HANDOFF].request("sim-nowin01", first_message="转人工")  # never wrote via WeChat
    h = {"X-CSRF-Token": csrf}
    await c.post(f"/console/api/items/{item.item_id}/claim", headers=h)
    resp = await c.post(f"/console/api/items/{item.item_id}/reply", json={"text": "在吗"}, headers=h)
    assert resp.status == 409
    assert (await resp.json())["reason"] == "window_closed"
    tpl = await c.post(f"/console/api/items/{item.item_id}/template", headers=h)
    assert tpl.status == 200
    sent = await (await c.get("/fake-wechat/_sent", params={"touser": "sim-nowin01"})).json()
    assert [m["kind"] for m in sent["messages"]] == ["template"]
    # the reply time the user reads is Beijing time, whatever the server's own time zone
    shown = sent["messages"][0]["payload"]["data"]["keyword2"]["value"]
    shown_at = datetime.strptime(shown, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    assert abs((shown_at - datetime.now(SHANGHAI)).total_seconds()) < 120, shown


async def test_sse_snapshot_then_live_event(gw):
    app, server, rasa, client = gw
    c = await client()
    await login(c, "li")
    await app[HANDOFF].request("sim-sse00001", first_message="先来的")
    resp = await c.get("/console/api/stream", headers={"Last-Event-ID": "0-1"})
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")

    async def next_event():
        block = b""
        while not block.endswith(b"\n\n"):
            block += await resp.content.readline()
        return block.decode()

    first = await asyncio.wait_for(next_event(), 5)
    assert "event: snapshot" in first and "先来的" in first and '"resumed_from": "0-1"' in first
    await app[HANDOFF].request("sim-sse00002", first_message="后来的")
    second = await asyncio.wait_for(next_event(), 5)
    assert "event: item" in second and "后来的" in second and '"type": "queued"' in second
    resp.close()


def test_console_times_are_beijing_time_whatever_the_server_zone():
    """Transcripts, the audit log and the 48-hour window show Beijing time (servers run on UTC)."""
    early_morning = datetime(2026, 12, 4, 1, 30, tzinfo=SHANGHAI)  # still the 3rd in UTC
    assert fmt_ts(early_morning.timestamp()) == "12-04 01:30:00"
    assert fmt_ts(None) == "" and fmt_ts("not a time") == ""
