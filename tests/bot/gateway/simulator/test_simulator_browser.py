"""The simulator page chats in real headless Chromium, through the real stack."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.gateway.app import create_app
from bot.stack import free_port

pytestmark = [pytest.mark.stack, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def test_a_person_chats_in_the_simulator(aiohttp_server, stack_settings):
    from playwright.async_api import async_playwright

    port = free_port()
    server = await aiohttp_server(create_app(dataclasses.replace(stack_settings, gateway_port=port)), port=port)
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 420, "height": 820})
        await page.goto(str(server.make_url("/")))
        await page.fill("#text", "你好")
        await page.press("#text", "Enter")
        greeting = page.locator(".row.bot .bubble", has_text="职引")
        await greeting.first.wait_for(timeout=15000)
        await page.click("#location")
        listing = page.locator(".row.bot .bubble").nth(1)
        await listing.wait_for(timeout=15000)
        await page.screenshot(path=str(ARTIFACTS / "simulator.png"))
        texts = await page.locator(".row.me .bubble").all_inner_texts()
        await browser.close()
    assert texts[0] == "你好"
    assert "位置" in texts[1]
