"""The console's route table: every page, API endpoint and static file under /console
(login and logout, campaigns and cohorts add theirs in their own modules)."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.gateway.console import api, pages
from bot.gateway.console.stream import api_stream

STATIC_DIR = Path(__file__).parent / "static"

ITEM_ACTIONS = (
    ("claim", api.api_claim), ("release", api.api_release), ("transfer", api.api_transfer),
    ("close", api.api_close), ("reply", api.api_reply), ("template", api.api_template),
    ("note", api.api_note), ("handback", api.api_handback),
)


def add_routes(console: web.Application) -> None:
    r = console.router
    r.add_get("/", pages.queue_page)
    r.add_get("/conversations/{item_id:\\d+}", pages.conversation_page)
    r.add_get("/dashboard", pages.dashboard_page)
    r.add_get("/audit", pages.audit_page)
    r.add_get("/api/queue", api.api_queue)
    r.add_get("/api/stream", api_stream)
    r.add_post("/api/heartbeat", api.api_heartbeat)
    r.add_get("/api/dashboard", api.api_dashboard)
    r.add_get("/api/items/{item_id:\\d+}", api.api_transcript)
    for name, handler in ITEM_ACTIONS:
        r.add_post(f"/api/items/{{item_id:\\d+}}/{name}", handler)
    r.add_static("/static/", STATIC_DIR)
