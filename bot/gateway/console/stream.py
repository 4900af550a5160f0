"""The console's live queue: server-sent events at /console/api/stream.

Stopped by the `stopping` event in CONSOLE_STATE at shutdown, so open streams do not hold it.
"""
from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web

from bot.gateway.appkeys import HANDOFF
from bot.gateway.console.keys import CONSOLE_STATE
from bot.gateway.console.access import may_see_item
from bot.gateway.console.api import visible_queue
from bot.gateway.console.auth import StaffSession
from bot.gateway.console.middleware import staff_of

HEARTBEAT_S = 15.0


def _shown_to(staff: StaffSession, data: str) -> bool:
    """Queue events of items outside the staff member's scope are not sent (an item only ever
    enters a view: a city item joining the provincial pool stays visible to its city)."""
    try:
        item = json.loads(data).get("item") or {}
    except ValueError:
        return False
    return may_see_item(staff, item)


async def api_stream(request: web.Request) -> web.StreamResponse:
    """SSE: a full snapshot first (also after every reconnect, whatever Last-Event-ID says, so a
    console that missed events is always resynchronised), then every queue event with its
    Redis stream id as the event id. Keeps the staff member's presence fresh while open."""
    handoff = request.config_dict[HANDOFF]
    state = request.config_dict[CONSOLE_STATE]
    staff = staff_of(request)
    resp = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
    })
    await resp.prepare(request)
    state["streams"].add(resp)
    stopping: asyncio.Event = state["stopping"]
    try:
        await handoff.heartbeat(staff.username, staff.scope.areas())
        last_id = await handoff.latest_event_id()
        snapshot = {**await visible_queue(request), "resumed_from": request.headers.get("Last-Event-ID", "")}
        await resp.write(f"retry: 2000\nid: {last_id}\nevent: snapshot\ndata: {json.dumps(snapshot, ensure_ascii=False)}\n\n".encode())
        beat = time.monotonic()
        while not stopping.is_set():
            if time.monotonic() - beat > HEARTBEAT_S:
                await handoff.heartbeat(staff.username, staff.scope.areas())
                await resp.write(b": keepalive\n\n")
                beat = time.monotonic()
            for entry_id, data in await handoff.read_events(last_id, count=100, block_ms=1000):
                last_id = entry_id
                if _shown_to(staff, data):
                    await resp.write(f"id: {entry_id}\nevent: item\ndata: {data}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        state["streams"].discard(resp)
    return resp
