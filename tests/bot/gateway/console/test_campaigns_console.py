"""Push campaigns in the console over HTTP on the real gateway app (real Redis, its job runner,
the fake WeChat API): supervisors only, CSRF, every bad form refused with its reason and nothing
queued, and a campaign defined in the console is sent by the runner and reported on its page."""
from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Dict

import pytest

from bot.gateway.appkeys import SERVICES
from bot.clock import SHANGHAI, FrozenClock
from bot.gateway.console.keys import AUDIT
from bot.services.campaigns.jobs import JOB_KIND
from tests.bot.gateway.console.helpers import add_user, login
from tests.helpers.gateway import serve_gateway

COHORT = "online-2026-12"
MORNING = datetime(2026, 11, 28, 9, 30, tzinfo=SHANGHAI)  # enrolment open, outside quiet hours


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MORNING)


@pytest.fixture
async def gw(settings, aiohttp_server, aiohttp_client, clock):
    app, server, _ = await serve_gateway(aiohttp_server, settings, clock=clock)
    add_user(settings, "li", "counsellor")
    add_user(settings, "zhang", "supervisor")
    boss = await aiohttp_client(server)
    csrf = await login(boss, "zhang")
    return app, boss, csrf


def _form(csrf: str, **overrides) -> Dict[str, object]:
    form = {"_csrf": csrf, "cohort": COHORT, "city": ["济南市"], "graduation_years": "", "tags": "",
            "message": "线上青年求职能力实训营开始报名，回复“报名”即可报名", "template_id": "",
            "start_at": "", "confirm": "yes"}
    form.update(overrides)
    return form


def _fields(form: Dict[str, object]):
    """The form as (name, value) pairs: a list is repeated fields (checkboxes), None is left out."""
    pairs = []
    for key, value in form.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                pairs.append((key, str(item)))
    return pairs


async def _campaign_ids(app):
    return await app[SERVICES].campaigns.store.ids()


async def test_only_supervisors_see_campaigns_and_posts_need_csrf(gw, settings, aiohttp_client):
    app, boss, csrf = gw
    page = await boss.get("/console/campaigns")
    html = await page.text()
    assert page.status == 200
    cohort_ids = {c.id for c in app[SERVICES].campaigns.catalogue.cohorts}
    assert cohort_ids == set(re.findall(r'<option value="([^"]+)"', html))
    assert len(re.findall(r'name="city" value="', html)) == 16
    assert "还没有推送活动" in html

    counsellor = await aiohttp_client(boss.server)
    counsellor_csrf = await login(counsellor, "li")
    assert (await counsellor.get("/console/campaigns")).status == 403
    refused = await counsellor.post("/console/campaigns", data=_fields(_form(counsellor_csrf)))
    assert refused.status == 403
    assert (await counsellor.post("/console/campaigns/c1/cancel", data={"_csrf": counsellor_csrf})).status == 403
    forged = await boss.post("/console/campaigns", data=_fields(_form("forged")))
    assert forged.status == 403
    assert await _campaign_ids(app) == []


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"confirm": None}, "请先勾选"),
        ({"cohort": "no-such-cohort"}, "没有期次"),
        ({"message": "   "}, "请填写推送消息"),
        ({"message": "报" * 700}, "消息太长"),
        ({"graduation_years": "26"}, "毕业年份应为四位年份"),
        ({"start_at": "2026-02-30T09:00"}, "时间格式应为"),
        ({"city": ["北京市"]}, "城市选项无效"),
        ({"identity": ["黑客"]}, "身份选项无效"),
        ({"action": "preview", "cohort": ""}, "请先选择期次"),
    ],
)
async def test_bad_forms_are_refused_with_their_reason_and_queue_nothing(gw, overrides, reason):
    app, boss, csrf = gw
    form = _form(csrf, **{"graduation_years": "2026, 2027", **overrides})
    resp = await boss.post("/console/campaigns", data=_fields(form), allow_redirects=False)
    html = await resp.text()
    assert resp.status == 400
    assert reason in re.search(r'id="form-error"[^>]*>([^<]+)<', html).group(1)
    if "graduation_years" not in overrides:
        assert 'value="2026, 2027"' in html  # what was typed stays in the form
    assert await _campaign_ids(app) == []
    assert [job for job in await app[SERVICES].scheduler.pending() if job.kind == JOB_KIND] == []


async def _profile(app, openid: str, *, window: bool, opted_out: bool = False, **fields: str) -> None:
    settings, redis = app[SERVICES].settings, app[SERVICES].redis
    await redis.hset(settings.key("profile", openid), mapping=fields)
    await redis.hset(settings.key("push_pref", openid), mapping={"opted_out": "1" if opted_out else "0", "template_ok": "0"})
    if window:
        await app[SERVICES].window.record_user_message(openid)


async def test_campaign_defined_in_the_console_is_sent_and_reported(gw):
    app, boss, csrf = gw
    graduate = dict(identity="应届毕业生", graduation_year="2026", age="22")
    await _profile(app, "oCon-sent", window=True, city="济南市", **graduate)
    await _profile(app, "oCon-nowin", window=False, city="济南", identity="失业青年", age="30")
    await _profile(app, "oCon-working", window=True, city="济南市", identity="在职人员", age="30")
    await _profile(app, "oCon-optout", window=True, opted_out=True, city="济南市", **graduate)
    await _profile(app, "oCon-qingdao", window=True, city="青岛市", **graduate)

    preview = await boss.post("/console/campaigns", data=_fields(_form(csrf, action="preview", confirm=None)))
    html = await preview.text()
    assert preview.status == 200
    assert re.search(r'id="preview-targets">2<', html)  # 青岛 is outside; one opted out, one not eligible
    assert "已退订（选人时）opted out at selection 1 人" in html and "不符合条件 not eligible 1 人" in html
    assert await _campaign_ids(app) == []

    resp = await boss.post("/console/campaigns", data=_fields(_form(csrf, action="create")), allow_redirects=False)
    assert resp.status == 303, await resp.text()
    campaign_id = resp.headers["Location"].rsplit("/", 1)[1]
    campaign = await app[SERVICES].campaigns.store.get(campaign_id)
    assert campaign.cohort_id == COHORT and campaign.segment.cities == ("济南市",)
    assert campaign.created_by == "zhang"
    audit = [r for r in await app[AUDIT].latest() if r["action"] == "campaign_create"]
    assert [r["target"] for r in audit] == [campaign_id]

    report = None
    for _ in range(100):  # the gateway's own job runner sends it (every 5 s)
        report = await app[SERVICES].campaigns.store.report(campaign_id)
        if report.status == "done":
            break
        await asyncio.sleep(0.2)
    assert report.status == "done"
    assert report.sent_by_channel == {"customer_service": 1}
    # the campaign has no template message, so the user outside the 48-hour window is skipped
    assert report.skipped == {"selection:not_eligible": 1, "selection:opted_out": 1, "window_closed": 1}
    assert report.failed == {}
    assert report.audience == 4  # 青岛 is outside the segment

    sent = await (await boss.get("/fake-wechat/_sent")).json()
    assert [m["touser"] for m in sent["messages"]] == ["oCon-sent"]
    assert "回复“报名”" in str(sent["messages"][0])

    page = await (await boss.get(f"/console/campaigns/{campaign_id}")).text()
    figures = dict(re.findall(r'<b id="(\w+)">(\d+)</b>', page))
    assert figures == {"audience": "4", "sent": "1", "failed": "0", "skipped": "3", "pending": "0"}
    assert "不符合条件 not eligible" in page and "48小时窗口已关，活动未设模板消息" in page
    assert "http-equiv=\"refresh\"" not in page
    listing = await (await boss.get("/console/campaigns")).text()
    assert f'data-campaign="{campaign_id}"' in listing
    assert (await boss.get("/console/campaigns/nope")).status == 404


async def test_campaign_deferred_by_quiet_hours_says_when_it_goes_on_and_can_be_cancelled(gw, clock):
    app, boss, csrf = gw
    clock.set(datetime(2026, 11, 28, 22, 40, tzinfo=SHANGHAI))
    await _profile(app, "oCon-night", window=True, city="济南市", identity="应届毕业生",
                   graduation_year="2026", age="22")
    resp = await boss.post("/console/campaigns", data=_fields(_form(csrf)), allow_redirects=False)
    assert resp.status == 303
    campaign_id = resp.headers["Location"].rsplit("/", 1)[1]
    store = app[SERVICES].campaigns.store
    for _ in range(100):
        if (await store.report(campaign_id)).status == "deferred":
            break
        await asyncio.sleep(0.2)
    report = await store.report(campaign_id)
    assert report.status == "deferred" and report.sent == 0
    assert report.resume_at == datetime(2026, 11, 29, 8, 0, tzinfo=SHANGHAI)
    page = await (await boss.get(f"/console/campaigns/{campaign_id}")).text()
    assert re.search(r'id="status" data-status="deferred">夜间顺延，11-29 08:00 继续<', page)
    assert 'http-equiv="refresh"' in page
    assert (await (await boss.get("/fake-wechat/_sent")).json())["messages"] == []
    assert 'id="cancel-campaign"' in page

    # a deferred campaign is stopped before 08:00: the runner then sends nothing
    cancel_url = f"/console/campaigns/{campaign_id}/cancel"
    assert (await boss.post(cancel_url, data={"_csrf": "forged"})).status == 403
    resp = await boss.post(cancel_url, data={"_csrf": csrf}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/console/campaigns/{campaign_id}"
    page = await (await boss.get(f"/console/campaigns/{campaign_id}")).text()
    assert 'data-status="cancelled">已取消<' in page
    assert 'http-equiv="refresh"' not in page and 'id="cancel-campaign"' not in page
    assert [r["target"] for r in await app[AUDIT].latest() if r["action"] == "campaign_cancel"] == [campaign_id]
    clock.set(datetime(2026, 11, 29, 8, 0, 10, tzinfo=SHANGHAI))
    await app[SERVICES].scheduler.run_due(clock())
    assert (await store.report(campaign_id)).status == "cancelled"
    assert (await (await boss.get("/fake-wechat/_sent")).json())["messages"] == []
    assert (await boss.post("/console/campaigns/nope/cancel", data={"_csrf": csrf})).status == 404
