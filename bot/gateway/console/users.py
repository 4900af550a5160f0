"""Console accounts for the provincial administrator (/console/users, admin only: access.py):
create an account, disable or enable it, change its role and scope, reset its password. Every
change goes to the audit log; the writes are `ConsoleAuth`'s (auth.py owns the account keys),
the same rules as `python -m bot.cli.users`. Changing role, scope, state or password ends the
account's open sessions, which carry the rights they were opened with.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

import aiohttp_jinja2
from aiohttp import web

from bot.gateway.client_ip import client_ip
from bot.gateway.console.auth import ROLE_LABELS, ROLES
from bot.gateway.console.keys import AUDIT, CONSOLE_AUTH, JINJA
from bot.gateway.console.middleware import staff_of
from bot.gateway.console.pages import base_context
from bot.services.geo import CITIES
from bot.services.staff_scope import parse_scope


async def _render(request: web.Request, *, error: str = "", notice: str = "",
                  form: Optional[Mapping[str, str]] = None, status: int = 200) -> web.Response:
    users = await request.config_dict[CONSOLE_AUTH].list_users()
    rows = []
    for name, user in users.items():
        try:
            scope_label = parse_scope(user.get("scope")).label() if user.get("role") != "admin" else "全省"
        except ValueError:
            scope_label = "（范围无效）"
        rows.append({"name": name, "user": user, "scope_label": scope_label,
                     "scope_text": user.get("scope") or "province"})
    context = base_context(
        request, page="users", rows=rows, roles=[(r, ROLE_LABELS[r]) for r in ROLES],
        cities=list(CITIES), error=error, notice=notice, form=form or {},
    )
    response = aiohttp_jinja2.render_template("users.html", request, context, app_key=JINJA)
    response.set_status(status)
    return response


async def users_page(request: web.Request) -> web.Response:
    return await _render(request)


def _fields(form: Mapping[str, Any]) -> Dict[str, str]:
    return {k: str(v).strip() for k, v in form.items() if k != "_csrf" and isinstance(v, str)}


async def create_user(request: web.Request) -> web.StreamResponse:
    values = _fields(await request.post())
    username = values.get("username", "")
    try:
        await request.config_dict[CONSOLE_AUTH].create_user(
            username, values.get("role", ""), values.get("display_name", ""),
            values.get("password", ""), values.get("scope", ""),
        )
    except ValueError as exc:
        values.pop("password", None)
        return await _render(request, error=str(exc), form=values, status=400)
    await _audit(request, "user_add", username, {"role": values.get("role"), "scope": values.get("scope") or "province"})
    raise web.HTTPSeeOther("/console/users")


async def update_user(request: web.Request) -> web.StreamResponse:
    """One account's form: `action` = "save" (role, scope, disabled) or "password"."""
    username = request.match_info["username"]
    values = _fields(await request.post())
    auth, me = request.config_dict[CONSOLE_AUTH], staff_of(request)
    try:
        if values.get("action") == "password":
            await auth.reset_password(username, values.get("password", ""))
            await _audit(request, "user_passwd", username, {})
            return await _render(request, notice=f"已重置 {username} 的密码，其已登录的会话已结束")
        role, disabled = values.get("role", ""), values.get("disabled") == "1"
        if username == me.username and (role != "admin" or disabled):
            raise ValueError("不能停用自己或取消自己的管理员角色（请由另一位管理员操作）")
        await auth.update_user(username, role=role, scope_text=values.get("scope", ""), disabled=disabled)
    except ValueError as exc:
        return await _render(request, error=f"{username}：{exc}", status=400)
    await _audit(request, "user_update", username,
                 {"role": role, "scope": values.get("scope") or "province", "disabled": disabled})
    raise web.HTTPSeeOther("/console/users")


async def _audit(request: web.Request, action: str, target: str, detail: Dict[str, Any]) -> None:
    await request.config_dict[AUDIT].record(staff_of(request).username, action, target, detail, ip=client_ip(request))


def add_user_routes(console: web.Application) -> None:
    console.router.add_get("/users", users_page)
    console.router.add_post("/users", create_user)
    console.router.add_post("/users/{username:[A-Za-z0-9_.-]{2,32}}", update_user)
