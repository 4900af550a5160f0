"""Shared pieces for the console tests: staff accounts and logging in (the gateway under test
and the Rasa double live in tests/helpers/)."""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from bot.cli.users import main as users_command
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[4]


def add_user(settings: Settings, username: str, role: str, password: str = "correct-horse-42",
             scope: str = "province") -> None:
    """An account made the way staff make one, `python -m bot.cli.users add` (its `main`, in this
    process: a subprocess per account cost the console tests minutes; tests/bot/cli/test_users.py
    runs the command itself)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REDIS_URL", settings.redis_url)
        env.setenv("REDIS_KEY_PREFIX", settings.redis_key_prefix)
        env.setattr(sys, "stdin", io.StringIO(password + "\n"))
        assert users_command(["add", username, "--role", role, "--scope", scope]) == 0


async def login(client, username: str, password: str = "correct-horse-42") -> str:
    """Log in through the form; returns the session's CSRF token (from the queue page)."""
    page = await client.get("/console/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', await page.text()).group(1)
    resp = await client.post("/console/login", data={"_csrf": token, "username": username, "password": password, "next": ""}, allow_redirects=False)
    assert resp.status == 302, await resp.text()
    home = await client.get("/console/")
    assert home.status == 200
    return re.search(r'name="csrf-token" content="([^"]+)"', await home.text()).group(1)


async def login_in_browser(page, server, username: str, password: str = "correct-horse-42") -> None:
    """Log in through the real login form in a Playwright page; waits for the queue page."""
    await page.goto(str(server.make_url("/console/login")))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("#login-btn")
    await page.wait_for_url("**/console/", timeout=10000)


async def user_says(client, openid: str, text: str):
    """A text message from a WeChat user through the simulator; returns the bot's replies."""
    resp = await client.post("/simulator/api/send", json={"openid": openid, "type": "text", "text": text})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["replies"]
