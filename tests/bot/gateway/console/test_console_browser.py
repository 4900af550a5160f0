"""The console in real headless Chromium against the real gateway (aiohttp test server):
a counsellor logs in; a simulated WeChat user says 转人工 and the item appears in the open
queue without a reload (the time is measured and printed), with its arrival in Beijing time
although the browser runs in UTC; the counsellor claims it, replies
(the fake WeChat API receives it), hands back, and the user's next message reaches the bot."""
from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from bot.gateway.appkeys import HANDOFF
from bot.clock import SHANGHAI
from tests.bot.gateway.console.helpers import ROOT, add_user
from tests.helpers.gateway import serve_gateway

pytestmark = [pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


async def test_counsellor_handles_a_handoff_live(settings, aiohttp_server, aiohttp_client):
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium missing: run `make install-system` (scripts/install_system_packages.sh)")
    app, server, rasa = await serve_gateway(aiohttp_server, settings)
    wechat_user = await aiohttp_client(server)
    add_user(settings, "li", "counsellor")
    openid = "sim-browser01"
    ARTIFACTS.mkdir(exist_ok=True)

    async def user_says(text: str):
        resp = await wechat_user.post("/simulator/api/send", json={"openid": openid, "type": "text", "text": text})
        assert resp.status == 200
        return (await resp.json())["replies"]

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # the browser's own zone is UTC: what the console shows must still be Beijing time
        page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="UTC")
        await page.goto(str(server.make_url("/console/")))
        assert "/console/login" in page.url
        await page.fill("input[name=username]", "li")
        await page.fill("input[name=password]", "correct-horse-42")
        await page.click("#login-btn")
        await page.wait_for_selector("#live-state[data-state=live]", timeout=10000)
        await page.wait_for_selector("#queue-body tr.empty")
        navigations = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url))

        assert await user_says("你好") == ["机器人收到：你好"]
        t0 = time.perf_counter()
        queued = await user_says("转人工")
        row = page.locator("#queue-body tr.item", has_text="转人工")
        await row.wait_for(timeout=10000)
        appeared_ms = (time.perf_counter() - t0) * 1000
        print(f"\n转人工 -> visible in the open console: {appeared_ms:.0f} ms (incl. the WeChat round trip)")
        assert "第 1 位" in queued[0]
        assert navigations == []  # no reload
        assert await page.locator("#queue-count").inner_text() == "1"
        [item] = await app[HANDOFF].snapshot()
        arrived = datetime.fromtimestamp(item["created_at"], SHANGHAI)
        assert arrived.strftime("%H:%M:%S") in await row.locator("td.created").inner_text()
        await page.screenshot(path=str(ARTIFACTS / "console-queue.png"))

        await row.locator("button.claim").click()
        await page.wait_for_url("**/console/conversations/*", timeout=10000)
        assert await user_says("我想问失业登记怎么办") == []  # the bot stays silent
        live_line = page.locator("#transcript li", has_text="我想问失业登记怎么办")
        await live_line.wait_for(timeout=10000)  # appended by the live stream, timed by console.js
        said = [e for e in await app[HANDOFF].transcript(item["id"]) if e["text"] == "我想问失业登记怎么办"][0]
        said_at = datetime.fromtimestamp(said["at"], SHANGHAI).strftime("%H:%M:%S")
        assert said_at in await live_line.locator(".t-meta").inner_text()
        await page.select_option("#canned", index=1)
        await page.click("#btn-reply")
        await page.locator("#flash", has_text="已发送").wait_for(timeout=10000)
        await page.locator("#transcript li.t-counsellor").wait_for(timeout=10000)
        sent = await (await wechat_user.get("/fake-wechat/_sent", params={"touser": openid})).json()
        assert "我是职业指导师" in json.dumps(sent["messages"][-1], ensure_ascii=False)
        await page.screenshot(path=str(ARTIFACTS / "console-conversation.png"), full_page=True)

        page.on("dialog", lambda d: d.accept())
        await page.click("#btn-handback")
        await page.locator("#flash", has_text="已交回机器人").wait_for(timeout=10000)
        await page.locator("#conv-status", has_text="已结束").wait_for(timeout=10000)
        await browser.close()

    assert rasa.triggers and rasa.triggers[-1]["sender"] == openid
    before = len(rasa.texts(openid))
    assert await user_says("附近的服务点") == ["机器人收到：附近的服务点"]
    assert rasa.texts(openid)[before:] == ["附近的服务点"]
