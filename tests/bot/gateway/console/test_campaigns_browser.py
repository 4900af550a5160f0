"""A supervisor defines a camp push campaign in real headless Chromium: the form refuses a
campaign that was not confirmed (and keeps what was typed), then queues it; the gateway's job
runner sends it through the fake WeChat API and the campaign page shows the delivery report; the
cohorts page downloads the enrolment list.
No page error, no failed request, no CSP violation. Screenshots: test-artifacts/console-campaign*.png."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.gateway.appkeys import SERVICES
from bot.clock import SHANGHAI, FrozenClock
from tests.bot.gateway.console.helpers import add_user, login_in_browser
from tests.helpers.gateway import serve_gateway
from tests.bot.gateway.console.test_console_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.bot.gateway.console.test_dashboard_browser import CSP_RECORDER

pytestmark = [pytest.mark.browser]

MORNING = datetime(2026, 11, 28, 9, 30, tzinfo=SHANGHAI)  # enrolment open, outside quiet hours
MESSAGE = "线上青年求职能力实训营开始报名，回复“报名”即可报名"


async def test_supervisor_defines_a_campaign_and_watches_it_sent(settings, aiohttp_server):
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium missing: run `make install-system` (scripts/install_system_packages.sh)")
    app, server, _ = await serve_gateway(aiohttp_server, settings, clock=FrozenClock(MORNING))
    add_user(settings, "zhang", "supervisor")
    services = app[SERVICES]
    for openid, city in (("oBrowser-jn", "济南市"), ("oBrowser-qd", "青岛市")):
        await services.redis.hset(settings.key("profile", openid), mapping={
            "identity": "应届毕业生", "graduation_year": "2026", "age": "22", "city": city})
        await services.window.record_user_message(openid)

    ARTIFACTS.mkdir(exist_ok=True)
    errors, failed = [], []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 1200}, locale="zh-CN")
        await page.add_init_script(CSP_RECORDER)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        await login_in_browser(page, server, "zhang")
        await page.click("nav >> text=推送活动")
        await page.wait_for_url("**/console/campaigns", timeout=10000)

        await page.select_option("select[name=cohort]", "online-2026-12")
        await page.check("input[name=identity][value=应届毕业生]")
        await page.check("input[name=city][value=济南市]")
        await page.fill("input[name=graduation_years]", "2026")
        await page.fill("textarea[name=message]", MESSAGE)
        await page.click("#preview-audience")
        await page.wait_for_selector("#audience-preview", timeout=10000)
        assert await page.inner_text("#preview-targets") == "1"  # the 青岛 graduate is outside the segment
        await page.click("#create-campaign")
        await page.wait_for_selector("#form-error", timeout=10000)
        assert "请先勾选" in await page.inner_text("#form-error")
        assert await page.input_value("textarea[name=message]") == MESSAGE
        assert await page.is_checked("input[name=city][value=济南市]")
        assert await services.campaigns.store.ids() == []
        await page.screenshot(path=str(ARTIFACTS / "console-campaign-form.png"), full_page=True)

        await page.check("input[name=confirm]")
        await page.click("#create-campaign")
        await page.wait_for_url("**/console/campaigns/c*", timeout=10000)
        campaign_id = page.url.rsplit("/", 1)[1]
        assert "身份：应届毕业生；城市：济南市；毕业年份：2026" in await page.inner_text("dl.profile")

        for _ in range(60):  # the job runner polls every 5 s; the page refreshes itself every 10 s
            if (await services.campaigns.store.report(campaign_id)).status == "done":
                break
            await page.wait_for_timeout(500)
        await page.reload()
        assert await page.inner_text("#status") == "已完成"
        await page.wait_for_selector("#live-state[data-state=live]", timeout=10000)  # console.js runs here too
        assert await page.inner_text("#sent") == "1" and await page.inner_text("#audience") == "1"
        await page.screenshot(path=str(ARTIFACTS / "console-campaign.png"), full_page=True)

        await page.click("text=← 全部活动")
        row = page.locator(f'tr[data-campaign="{campaign_id}"]')
        assert "已完成" in await row.inner_text()
        # the organisers' enrolment list downloads from the cohorts page
        await page.click("nav >> text=实训营")
        await page.wait_for_url("**/console/cohorts", timeout=10000)
        async with page.expect_download() as download_info:
            await page.click('tr[data-cohort="online-2026-12"] >> text=下载 CSV')
        download = await download_info.value
        assert download.suggested_filename == "enrolments-online-2026-12-20261128.csv"
        data = Path(await download.path()).read_bytes()
        assert data.startswith("\ufeff报名编号,状态".encode("utf-8"))
        violations = await page.evaluate("window.__cspViolations")
        await browser.close()

    sent = await services.redis.lrange(settings.key("fakewechat", "sent"), 0, -1)
    assert len(sent) == 1 and "oBrowser-jn" in sent[0] and "回复“报名”" in sent[0]
    assert errors == [] and violations == []
    assert failed == [f"400 {server.make_url('/console/campaigns')}"]  # the unconfirmed form, on purpose
