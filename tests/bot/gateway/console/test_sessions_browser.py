"""Workshop check-in in real headless Chromium under the console's CSP: a 青岛 counsellor opens
场次签到, sees 青岛's session only, checks a person in with one click and cancels another
booking through the confirmation page. Screenshot: test-artifacts/console-sessions.png
(docs/console-sessions.png is a committed copy)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.gateway.appkeys import SERVICES
from tests.bot.gateway.console.helpers import login_in_browser
from tests.bot.gateway.console.test_console_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.bot.gateway.console.test_dashboard_browser import CSP_RECORDER
from tests.bot.gateway.console.test_sessions_console import serve_and_book

pytestmark = [pytest.mark.browser]


async def test_a_counsellor_checks_a_person_in_through_the_page(settings, aiohttp_server):
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium missing: run `make install-system` (scripts/install_system_packages.sh)")
    app, server, _, codes = await serve_and_book(settings, aiohttp_server)
    booking = app[SERVICES].booking

    ARTIFACTS.mkdir(exist_ok=True)
    errors, failed = [], []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        await page.add_init_script(CSP_RECORDER)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        await login_in_browser(page, server, "qd-li")
        await page.click("text=场次签到")
        await page.wait_for_url("**/console/sessions")
        slots = await page.locator("#sessions tbody tr").evaluate_all("rows => rows.map(r => r.dataset.slot)")
        assert "t-qd-1" in slots and "t-jn-1" not in slots and "t-on-1" not in slots
        await page.click("tr[data-slot='t-qd-1'] a")
        await page.wait_for_url("**/console/sessions/t-qd-1")

        await page.click(f"tr[data-code='{codes['wang']}'] button.mark-attended")
        await page.wait_for_url(f"**/console/sessions/t-qd-1?done=attended&code={codes['wang']}")
        assert f"已标记到场：{codes['wang']}" in await page.locator("#session-message").inner_text()
        row = page.locator(f"tr[data-code='{codes['wang']}']")
        assert (await row.locator(".status").inner_text()).startswith("已到场")
        assert await row.locator("button.mark-no_show").count() == 1  # a correction stays possible
        assert (await booking.get(codes["wang"])).status == "attended"

        await page.click(f"tr[data-code='{codes['zhao']}'] button.cancel")
        assert codes["zhao"] in await page.locator("#cancel-info").inner_text()
        assert (await booking.get(codes["zhao"])).status == "confirmed"
        await page.click("#cancel-confirm")
        await page.wait_for_url(f"**/console/sessions/t-qd-1?done=cancelled&code={codes['zhao']}")
        assert (await booking.get(codes["zhao"])).status == "cancelled"
        await page.screenshot(path=str(ARTIFACTS / "console-sessions.png"), full_page=True)
        assert await page.evaluate("window.__cspViolations") == []
        await browser.close()

    assert errors == []
    assert failed == []
