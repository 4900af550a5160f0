"""The supervisor dashboard in real headless Chromium under the console's strict CSP: the
vendored ECharts and dashboard.js load from /console/static, every chart draws a canvas fed by
/console/api/dashboard, hovering shows a tooltip, and the page raises no error and no CSP
violation. Screenshots go to test-artifacts/console-dashboard.png (docs/dashboard.png is a committed copy)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.gateway.appkeys import HANDOFF
from bot.services.intent_stats import queue_intent_count, stats_day
from tests.bot.gateway.console.helpers import add_user, login_in_browser
from tests.helpers.gateway import serve_gateway
from tests.bot.gateway.console.test_console_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser]

CHARTS = ["chart-qlen", "chart-wait", "chart-handled", "chart-intents", "chart-fallbacks", "chart-bookings"]

# Recorded in the page before any of its scripts run (init scripts are not subject to the CSP).
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


async def test_supervisor_dashboard_renders_charts(settings, redis, aiohttp_server):
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium missing: run `make install-system` (scripts/install_system_packages.sh)")
    app, server, _ = await serve_gateway(aiohttp_server, settings)
    add_user(settings, "zhang", "supervisor")
    add_user(settings, "li", "counsellor")

    handoff = app[HANDOFF]
    first = await handoff.request("sim-dash0001", first_message="我想找人工咨询失业登记")
    await handoff.request("sim-dash0002", first_message="转人工")
    await handoff.request("sim-dash0003", first_message="请帮我转人工客服")
    await handoff.claim(first.item_id, "li")
    await handoff.close(first.item_id, "li", "resolved")

    day = stats_day(handoff.now())
    pipe = redis.pipeline()
    for intent, text, times in [("ask_policy", "失业保险怎么领", 3), ("find_job", "有什么工作", 2),
                                ("nlu_fallback", "这个怎么弄啊我不太懂", 1)]:
        for _ in range(times):
            queue_intent_count(pipe, settings.key, day, intent, text)
    await pipe.execute()

    ARTIFACTS.mkdir(exist_ok=True)
    errors, console_errors, failed = [], [], []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
        await page.add_init_script(CSP_RECORDER)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: console_errors.append(f"{msg.text} @ {msg.location.get('url', '')}") if msg.type == "error" else None)
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        await login_in_browser(page, server, "zhang")
        resp = await page.goto(str(server.make_url("/console/dashboard")))
        assert resp.status == 200
        assert "script-src 'self'" in resp.headers["content-security-policy"]

        for chart_id in CHARTS:
            await page.wait_for_selector(f"#{chart_id} canvas", state="attached", timeout=15000)
        await page.locator("#kpis .kpi").first.wait_for(timeout=10000)

        # the charts hold the figures the API served, not just empty axes
        option = """id => { const o = echarts.getInstanceByDom(document.getElementById(id)).getOption();
                           return {title: o.title[0].text, cats: (o.yAxis[0].data || o.xAxis[0].data || []),
                                   data: o.series.map(s => s.data)}; }"""
        intents = await page.evaluate(option, "chart-intents")
        assert intents["title"] == "热门意图"
        assert dict(zip(intents["cats"], intents["data"][0])) == {"ask_policy": 3, "find_job": 2, "nlu_fallback": 1}
        fallbacks = await page.evaluate(option, "chart-fallbacks")
        assert dict(zip(fallbacks["cats"], fallbacks["data"][0])) == {"这个怎么弄啊我不太懂": 1}
        handled = await page.evaluate(option, "chart-handled")
        assert dict(zip(handled["cats"], handled["data"][0])) == {"li": 1}
        kpis = await page.locator("#kpis").inner_text()
        assert "当前排队" in kpis and "近 7 天接入" in kpis
        assert await page.locator("#kpis .kpi b").first.inner_text() == "2"  # two still queued

        # each canvas has real pixels drawn (not a blank bitmap)
        for chart_id in CHARTS:
            painted = await page.evaluate(
                """id => { const c = document.querySelector('#' + id + ' canvas');
                           const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                           let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""", chart_id)
            assert painted > 500, (chart_id, painted)

        # hovering a bar shows its tooltip without tripping the CSP (ECharts' HTML tooltip writes style="")
        # (opened through ECharts' API: a synthetic mouse hover did not reliably hit the bar headless)
        await page.evaluate("""() => echarts.getInstanceByDom(document.getElementById("chart-intents"))
                                  .dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: 0})""")
        tooltip = page.locator("#chart-intents .tt-row")
        await tooltip.wait_for(state="visible", timeout=5000)
        assert (await page.locator("#chart-intents .tt-head").inner_text()) == "ask_policy"
        assert (await tooltip.locator("b").inner_text()) == "3"

        await page.wait_for_timeout(1500)  # let ECharts' 1 s entrance animation finish for the picture
        await page.screenshot(path=str(ARTIFACTS / "console-dashboard.png"), full_page=True)
        violations = await page.evaluate("window.__cspViolations")
        await browser.close()

    assert errors == []
    assert violations == []
    assert failed == []
    assert console_errors == []
