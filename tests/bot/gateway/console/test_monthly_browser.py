"""The monthly figures page in real headless Chromium under the console's CSP: the admin sees every
city of a generated month, the vendored ECharts draws each chart, the month picker and the XLSX
download work; a 青岛 supervisor's page names no other city. Screenshot:
test-artifacts/console-monthly.png (docs/console-monthly.png is a committed copy)."""
from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.gateway.appkeys import REDIS
from bot.services.monthly_stats import month_of
from tests.bot.gateway.console.helpers import add_user, login_in_browser
from tests.bot.gateway.console.test_console_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.bot.gateway.console.test_dashboard_browser import CSP_RECORDER
from tests.bot.gateway.console.test_monthly import generate_month, sheet_values
from tests.helpers.gateway import serve_gateway

pytestmark = [pytest.mark.browser]

CHARTS = ["chart-users", "chart-needs", "chart-rating"]


async def test_monthly_page_for_the_admin_and_a_city_supervisor(settings, aiohttp_server, tmp_path):
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium missing: run `make install-system` (scripts/install_system_packages.sh)")
    app, server, _ = await serve_gateway(aiohttp_server, settings)
    month = month_of((await generate_month(app[REDIS], settings))())
    add_user(settings, "root", "admin")
    add_user(settings, "qd-boss", "supervisor", scope="青岛市")

    ARTIFACTS.mkdir(exist_ok=True)
    errors, failed = [], []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        admin = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
        await admin.add_init_script(CSP_RECORDER)
        admin.on("pageerror", lambda exc: errors.append(str(exc)))
        admin.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        await login_in_browser(admin, server, "root")
        await admin.click("text=月度统计")
        await admin.wait_for_url("**/console/monthly")
        await admin.select_option("#month-select", month)
        await admin.click("#month-form button[type=submit]")
        await admin.wait_for_url(f"**/console/monthly?month={month}")
        for chart in CHARTS:
            await admin.locator(f"#{chart} canvas").first.wait_for(timeout=10000)
        headers = await admin.locator("#monthly-table thead th").all_inner_texts()
        assert headers == ["指标", "青岛市", "济南市", "烟台市", "未知", "合计"]
        users_row = await admin.locator("#monthly-table tbody tr").first.locator("td").all_inner_texts()
        assert users_row == ["服务用户数", "2", "1", "0", "1", "4"]
        box = await admin.locator("#chart-users canvas").first.bounding_box()
        await admin.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
        await admin.screenshot(path=str(ARTIFACTS / "console-monthly.png"), full_page=True)
        async with admin.expect_download() as download_info:
            await admin.click("#monthly-export")
        saved = tmp_path / "monthly.xlsx"
        await (await download_info.value).save_as(str(saved))
        assert sheet_values(load_workbook(saved, read_only=True), "合计")["会话数"] == 5
        assert await admin.evaluate("window.__cspViolations") == []

        boss = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        await boss.add_init_script(CSP_RECORDER)
        boss.on("pageerror", lambda exc: errors.append(str(exc)))
        await login_in_browser(boss, server, "qd-boss")
        await boss.goto(str(server.make_url(f"/console/monthly?month={month}")))
        await boss.locator("#chart-users canvas").first.wait_for(timeout=10000)
        assert await boss.locator("#monthly-table thead th").all_inner_texts() == ["指标", "青岛市", "合计"]
        assert "济南" not in await boss.locator("main, body").first.locator("#monthly-table").inner_text()
        assert await boss.evaluate("window.__cspViolations") == []
        await browser.close()

    assert errors == []
    assert failed == []
