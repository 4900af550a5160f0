"""Shared pieces for the console tests: a Rasa double (a real aiohttp server that counts
calls), the real gateway with the console mounted, staff accounts and logging in."""
from __future__ import annotations

import dataclasses
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from aiohttp import web

from bot.app import create_app
from bot.clock import Clock, system_clock
from bot.services.handoff.config import HandoffConfig, parse_office_hours
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
ALWAYS_OPEN = parse_office_hours("1-7 00:00-23:59")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RasaDouble:
    """Plays Rasa's REST webhook, trigger_intent and tracker; records every call."""

    def __init__(self) -> None:
        self.messages: List[Dict[str, Any]] = []
        self.triggers: List[Dict[str, Any]] = []
        self.url = ""

    def app(self) -> web.Application:
        async def webhook(request: web.Request) -> web.Response:
            payload = await request.json()
            self.messages.append(payload)
            return web.json_response([{"recipient_id": payload["sender"], "text": f"机器人收到：{payload['message']}"}])

        async def trigger(request: web.Request) -> web.Response:
            body = await request.json()
            self.triggers.append({"sender": request.match_info["sender"], **body})
            return web.json_response({"tracker": {}, "messages": [{"recipient_id": request.match_info["sender"], "text": "您好！我是职引，欢迎回来。"}]})

        async def tracker(request: web.Request) -> web.Response:
            sender = request.match_info["sender"]
            events = []
            for m in self.messages:
                if m["sender"] == sender:
                    events.append({"event": "user", "text": m["message"], "timestamp": 1.7e9,
                                   "parse_data": {"intent": {"name": "ask_policy", "confidence": 0.42},
                                                  "intent_ranking": [{"name": "ask_policy", "confidence": 0.42}, {"name": "nlu_fallback", "confidence": 0.4}],
                                                  "entities": []}})
                    events.append({"event": "bot", "text": f"机器人收到：{m['message']}", "timestamp": 1.7e9})
            return web.json_response({"sender_id": sender, "events": events,
                                      "latest_message": events[-2]["parse_data"] if events else {}})

        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        app.router.add_post("/conversations/{sender}/trigger_intent", trigger)
        app.router.add_get("/conversations/{sender}/tracker", tracker)
        return app

    def texts(self, sender: Optional[str] = None) -> List[str]:
        return [m["message"] for m in self.messages if sender is None or m["sender"] == sender]


async def start_rasa(aiohttp_server) -> RasaDouble:
    double = RasaDouble()
    server = await aiohttp_server(double.app())
    double.url = str(server.make_url("")).rstrip("/")
    return double


def gateway_app(settings: Settings, rasa_url: str, port: int, *, clock: Clock = system_clock,
                config: Optional[HandoffConfig] = None) -> web.Application:
    settings = dataclasses.replace(
        settings,
        rasa_url=rasa_url,
        gateway_port=port,  # the simulator posts to the configured port
        wechat_api_base=f"http://127.0.0.1:{port}/fake-wechat",
        public_base_url=f"http://127.0.0.1:{port}",
        simulator_enabled=True,
    )
    return create_app(
        settings, clock=clock, handoff_config=config or HandoffConfig(office_hours=ALWAYS_OPEN)
    )


def add_user(settings: Settings, username: str, role: str, password: str = "correct-horse-42") -> None:
    env = {"REDIS_URL": settings.redis_url, "REDIS_KEY_PREFIX": settings.redis_key_prefix, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.console.users", "add", username, "--role", role],
        input=password + "\n", capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


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
