"""Low satisfaction ratings for supervisors (issue #25 item 4): the ratings of 2 or less in the
staff member's scope, newest first, each marked reviewed once (audited). The ratings themselves
are kept by bot/services/satisfaction.py; a rating names the service, never the user."""
from __future__ import annotations

from datetime import datetime

import aiohttp_jinja2
from aiohttp import web

from bot.clock import in_beijing
from bot.gateway.appkeys import SERVICES
from bot.gateway.client_ip import client_ip
from bot.gateway.console.keys import AUDIT, JINJA
from bot.gateway.console.middleware import staff_of
from bot.gateway.console.pages import base_context

KIND_LABELS = {"handoff": "人工服务", "workshop": "工作坊/咨询"}


def _when(iso: str) -> str:
    try:
        return f"{in_beijing(datetime.fromisoformat(iso)):%Y-%m-%d %H:%M}"
    except ValueError:
        return iso


async def ratings_page(request: web.Request) -> web.Response:
    scope = staff_of(request).scope
    rows = await request.config_dict[SERVICES].satisfaction.flagged(
        lambda row: scope.covers(row.get("city") or "", row.get("district") or "")
    )
    for row in rows:
        row["kind_label"] = KIND_LABELS.get(row.get("kind", ""), row.get("kind", ""))
        row["when"] = _when(row.get("at", ""))
    context = base_context(request, page="ratings", rows=rows)
    return aiohttp_jinja2.render_template("ratings.html", request, context, app_key=JINJA)


async def review_rating(request: web.Request) -> web.StreamResponse:
    """The guard has checked the rating lies in the staff member's scope (access.py, RATING)."""
    rating_id = request.match_info["rating_id"]
    staff = staff_of(request)
    ratings = request.config_dict[SERVICES].satisfaction
    if await ratings.get(rating_id) is None:
        raise web.HTTPNotFound(text="没有这条评价", content_type="text/plain")
    if await ratings.mark_reviewed(rating_id, staff.username):
        await request.config_dict[AUDIT].record(staff.username, "rating_reviewed", rating_id, ip=client_ip(request))
    raise web.HTTPSeeOther("/console/ratings")


def add_rating_routes(console: web.Application) -> None:
    console.router.add_get("/ratings", ratings_page)
    console.router.add_post("/ratings/{rating_id:[0-9]{1,12}}/review", review_rating)
