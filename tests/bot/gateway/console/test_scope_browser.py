"""The scoped console in real headless Chromium under the console's CSP: the provincial
administrator creates a city supervisor and changes a counsellor's scope on the account page;
that 青岛 supervisor sees only 青岛's users in the live queue and the dashboard says which figures
are 青岛's. Screenshots: test-artifacts/console-users.png and console-city-supervisor.png
(docs/console-users.png and docs/console-city-supervisor.png are committed copies)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.gateway.appkeys import HANDOFF
from bot.gateway.console.keys import AUDIT, CONSOLE_AUTH
from bot.services.handoff.routing import UserPlace
from tests.bot.gateway.console.helpers import add_user, login_in_browser
from tests.bot.gateway.console.test_console_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.bot.gateway.console.test_dashboard_browser import CSP_RECORDER
from tests.helpers.gateway import serve_gateway

pytestmark = [pytest.mark.browser]


async def test_admin_user_page_and_a_city_supervisors_view(settings, aiohttp_server):
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium missing: run `make install-system` (scripts/install_system_packages.sh)")
    app, server, _ = await serve_gateway(aiohttp_server, settings)
    add_user(settings, "root", "admin")
    add_user(settings, "li", "counsellor", scope="烟台市")
    handoff = app[HANDOFF]
    await handoff.request("sim-scope-qd1", first_message="想咨询青岛的就业补贴", place=UserPlace("青岛市", "黄岛区", "profile"))
    await handoff.request("sim-scope-yt1", first_message="烟台有招聘会吗", place=UserPlace("烟台市", "", "chat"))
    await handoff.request("sim-scope-xx1", first_message="转人工")

    ARTIFACTS.mkdir(exist_ok=True)
    errors, failed = [], []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        admin = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        await admin.add_init_script(CSP_RECORDER)
        admin.on("pageerror", lambda exc: errors.append(str(exc)))
        admin.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        await login_in_browser(admin, server, "root")
        await admin.click("text=账号管理")
        await admin.wait_for_url("**/console/users")
        form = admin.locator("#new-user")
        await form.locator("input[name=username]").fill("qd-boss")
        await form.locator("input[name=display_name]").fill("青岛张主管")
        await form.locator("select[name=role]").select_option("supervisor")
        await form.locator("input[name=scope]").fill("青岛")
        await form.locator("input[name=password]").fill("qingdao-boss-42")
        await form.locator("button[type=submit]").click()
        await admin.wait_for_url("**/console/users")
        created = admin.locator("tr[data-user='qd-boss']")
        assert "青岛市" in await created.locator(".scope-label").inner_text()
        # li moves from 烟台 to 烟台 and 威海
        row = admin.locator("tr[data-user='li'] form.user-form")
        await row.locator("input[name=scope]").fill("烟台市,威海市")
        await row.locator("button[type=submit]").click()
        await admin.wait_for_url("**/console/users")
        assert await admin.locator("tr[data-user='li'] .scope-label").inner_text() == "烟台市、威海市"
        await admin.screenshot(path=str(ARTIFACTS / "console-users.png"), full_page=True)
        assert await admin.evaluate("window.__cspViolations") == []

        boss = await browser.new_page(viewport={"width": 1280, "height": 700}, locale="zh-CN")
        await boss.add_init_script(CSP_RECORDER)
        boss.on("pageerror", lambda exc: errors.append(str(exc)))
        await login_in_browser(boss, server, "qd-boss", "qingdao-boss-42")
        rows = boss.locator("#queue-body tr.item")
        await rows.first.wait_for(timeout=10000)
        assert await rows.count() == 1
        assert "青岛市黄岛区" in await rows.first.locator("td.area").inner_text()
        assert "青岛的就业补贴" in await rows.first.inner_text()
        nav = await boss.locator("header nav").inner_text()
        assert "数据看板" in nav and "操作日志" not in nav and "账号管理" not in nav
        assert "青岛市" in await boss.locator("#staff-scope").inner_text()
        await boss.screenshot(path=str(ARTIFACTS / "console-city-supervisor.png"), full_page=True)
        await boss.goto(str(server.make_url("/console/dashboard")))
        await boss.locator("#kpis .kpi").first.wait_for(timeout=10000)
        assert "全省数据" in await boss.locator("#scope-note").inner_text()
        assert await boss.locator("#kpis .kpi b").first.inner_text() == "1"  # 青岛's one waiting user
        assert (await boss.goto(str(server.make_url("/console/users")))).status == 403
        assert await boss.evaluate("window.__cspViolations") == []
        await browser.close()

    assert errors == []
    assert failed == []
    accounts = await app[CONSOLE_AUTH].list_users()
    assert (accounts["qd-boss"]["role"], accounts["qd-boss"]["scope"]) == ("supervisor", "青岛市")
    actions = {(r["user"], r["action"], r["target"]) for r in await app[AUDIT].latest()}
    assert {("root", "user_add", "qd-boss"), ("root", "user_update", "li")} <= actions
