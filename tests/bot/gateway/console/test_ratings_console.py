"""The low-ratings page over HTTP on the real gateway app (real Redis): each supervisor sees the
low ratings of their scope only, good ratings are not listed, and "mark reviewed" is audited once."""
from __future__ import annotations

import re

from bot.gateway.appkeys import SERVICES
from bot.gateway.console.keys import AUDIT
from bot.services.rating_words import parse_rating
from bot.services.satisfaction import Subject
from tests.bot.gateway.console.helpers import add_user, login
from tests.helpers.gateway import serve_gateway


def listed(html: str) -> list:
    return re.findall(r'<tr data-rating="(\d+)" data-city="([^"]*)"', html)


async def test_each_supervisor_sees_the_low_ratings_of_their_scope(settings, aiohttp_server, aiohttp_client):
    app, server, _ = await serve_gateway(aiohttp_server, settings)
    ratings = app[SERVICES].satisfaction
    qingdao = await ratings.record(Subject("handoff", "91", "青岛市", "黄岛区", "qd-li"), parse_rating("1 态度不好，打13812345678找我"))
    jinan = await ratings.record(Subject("workshop", "JN7ABC", "济南市", "", "jn-resume"), parse_rating("不满意"))
    await ratings.record(Subject("handoff", "92", "青岛市", "", "qd-li"), parse_rating("5"))  # not flagged
    for name, role, scope in (("qd-boss", "supervisor", "青岛市"), ("jn-boss", "supervisor", "济南市"),
                              ("prov-boss", "supervisor", "province"), ("qd-li", "counsellor", "青岛市")):
        add_user(settings, name, role, scope=scope)
    qd, jn, prov, counsellor = [await aiohttp_client(server) for _ in range(4)]
    csrf = await login(qd, "qd-boss")
    jn_csrf = await login(jn, "jn-boss")
    await login(prov, "prov-boss")
    await login(counsellor, "qd-li")

    qd_page = await (await qd.get("/console/ratings")).text()
    assert listed(qd_page) == [(qingdao, "青岛市")]
    assert "态度不好" in qd_page and "13812345678" not in qd_page and "138****5678" in qd_page
    assert listed(await (await jn.get("/console/ratings")).text()) == [(jinan, "济南市")]
    assert listed(await (await prov.get("/console/ratings")).text()) == [(jinan, "济南市"), (qingdao, "青岛市")]
    assert (await counsellor.get("/console/ratings", allow_redirects=False)).status == 403

    # 济南's supervisor cannot mark 青岛's rating; 青岛's can, once, and it is audited
    refused = await jn.post(f"/console/ratings/{qingdao}/review", data={"_csrf": jn_csrf}, allow_redirects=False)
    assert refused.status == 403 and "该评价不在您的工作范围内" in await refused.text()
    for _ in range(2):
        done = await qd.post(f"/console/ratings/{qingdao}/review", data={"_csrf": csrf}, allow_redirects=False)
        assert done.status == 303
    assert "qd-boss 已处理" in await (await qd.get("/console/ratings")).text()
    audit = [r for r in await app[AUDIT].latest() if r["action"] == "rating_reviewed"]
    assert [(r["user"], r["target"]) for r in audit] == [("qd-boss", qingdao)]
