"""A Rasa double: a real aiohttp server playing Rasa's REST webhook, trigger_intent, tracker and status.

It records every call, can be made slow (`delay_s`) and told what to answer (`answer`).
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web


class RasaDouble:
    """State of the fake Rasa: what it was sent, how slow it is, what it answers."""

    def __init__(self, reply_prefix: str = "机器人收到：") -> None:
        self.calls: List[Dict[str, Any]] = []
        self.triggers: List[Dict[str, Any]] = []
        self.delay_s = 0.0
        self.answer: Callable[[Dict[str, Any]], List[str]] = lambda p: [f"{reply_prefix}{p['message']}"]
        self.url = ""

    def texts(self, sender: Optional[str] = None) -> List[str]:
        return [c["message"] for c in self.calls if sender is None or c["sender"] == sender]

    async def _webhook(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.calls.append(payload)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return web.json_response([{"recipient_id": payload["sender"], "text": t} for t in self.answer(payload)])

    async def _trigger(self, request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        self.triggers.append({"sender": sender, **await request.json()})
        return web.json_response({"tracker": {}, "messages": [{"recipient_id": sender, "text": "您好！我是职引，欢迎回来。"}]})

    async def _tracker(self, request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        events: List[Dict[str, Any]] = []
        for call in self.calls:
            if call["sender"] == sender:
                events.append({"event": "user", "text": call["message"], "timestamp": 1.7e9, "parse_data": _LOW_CONFIDENCE})
                events.append({"event": "bot", "text": self.answer(call)[0], "timestamp": 1.7e9})
        return web.json_response({"sender_id": sender, "events": events,
                                  "latest_message": events[-2]["parse_data"] if events else {}})

    async def _status(self, _request: web.Request) -> web.Response:
        return web.json_response({"model_file": "models/double.tar.gz", "num_active_training_jobs": 0})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/status", self._status)
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_post("/conversations/{sender}/trigger_intent", self._trigger)
        app.router.add_get("/conversations/{sender}/tracker", self._tracker)
        return app


# A turn the console shows as "unsure" (low confidence, close runner-up).
_LOW_CONFIDENCE: Dict[str, Any] = {
    "intent": {"name": "ask_policy", "confidence": 0.42},
    "intent_ranking": [{"name": "ask_policy", "confidence": 0.42}, {"name": "nlu_fallback", "confidence": 0.4}],
    "entities": [],
}


async def start_rasa(aiohttp_server, reply_prefix: str = "机器人收到：") -> RasaDouble:
    """Serve a RasaDouble on a free port (pytest-aiohttp's `aiohttp_server`)."""
    double = RasaDouble(reply_prefix)
    server = await aiohttp_server(double.app(), access_log=None)  # its URLs carry OpenIDs, like Rasa's
    double.url = str(server.make_url("")).rstrip("/")
    return double
