"""Workshop sessions in the console: staff check people in (issue #25 items 4–5 in real use).

`/console/sessions` lists the sessions (slots) of a day range in the staff member's scope with
seats taken and waitlist; a session's page lists its bookings with 已到场 / 未到场 (a correction
allowed), 取消 (after a confirmation page) and the list as CSV. Who may check in, and from when:
bot/services/booking/sessions.py; the guard checks the session is in scope (access.py, SESSION).
Every change and every download is audited. Marking attended asks the user for a rating and
counts in the month's figures (`BookingService.mark_attendance`)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

import aiohttp_jinja2
from aiohttp import web

from bot.gateway.appkeys import SERVICES
from bot.gateway.client_ip import client_ip
from bot.gateway.console.keys import AUDIT, JINJA
from bot.gateway.console.middleware import staff_of
from bot.gateway.console.pages import base_context
from bot.services import geo
from bot.services.booking.formatting import STATUS_LABELS
from bot.services.booking.models import Booking
from bot.services.booking.sessions import day_range, in_scope, may_check_in, parse_days, session_city
from bot.services.phone import phone_tail
from bot.services.workshops import Slot, Workshop

SLOT_ID = "{slot_id:[A-Za-z0-9_-]{1,100}}"
MARKABLE = ("confirmed", "attended", "no_show")
DONE_TEXT = {"attended": "已标记到场", "no_show": "已标记未到场", "cancelled": "已取消预约"}


async def sessions_page(request: web.Request) -> web.Response:
    services = request.config_dict[SERVICES]
    scope = staff_of(request).scope
    today = services.clock().date()
    error = ""
    try:
        first, days = parse_days(request.query.get("from", ""), request.query.get("days", ""), today)
    except ValueError as exc:
        error = str(exc)
        first, days = parse_days("", "", today)
    city = request.query.get("city", "")  # one city of a wider scope ("全省": the online sessions)
    rows = [row for row in await services.booking.sessions(*day_range(first, days))
            if in_scope(scope, row.workshop) and (not city or (session_city(row.workshop) or "全省") == city)]
    cities = [c for c in geo.CITIES if scope.covers(c)] + (["全省"] if scope.is_province else [])
    context = base_context(request, page="sessions", rows=rows, first=first, days=days, error=error,
                           city=city, cities=cities, city_of=lambda w: session_city(w) or "全省")
    return aiohttp_jinja2.render_template("sessions.html", request, context, app_key=JINJA, status=400 if error else 200)


async def _session(request: web.Request) -> Tuple[Slot, Workshop]:
    """(slot, workshop) of the URL's session; 404 when there is none."""
    catalogue = request.config_dict[SERVICES].booking.catalogue
    slot = await catalogue.get_slot(request.match_info["slot_id"])
    workshop = await catalogue.get_workshop(slot.workshop_id) if slot else None
    if slot is None or workshop is None:
        raise web.HTTPNotFound(text="没有这个场次", content_type="text/plain")
    return slot, workshop


def _rows(bookings: List[Booking]) -> List[Dict[str, Any]]:
    return [{"b": b, "phone": phone_tail(b.phone), "label": STATUS_LABELS.get(b.status, b.status)} for b in bookings]


async def _render_session(request: web.Request, message: str = "", good: bool = False, status: int = 200,
                          confirm: Optional[Booking] = None) -> web.Response:
    services = request.config_dict[SERVICES]
    slot, workshop = await _session(request)
    bookings = await services.booking.slot_bookings(slot.id)
    done, code = request.query.get("done", ""), request.query.get("code", "")
    if not message and done in DONE_TEXT and any(b.code == code for b in bookings):
        message, good = f"{DONE_TEXT[done]}：{code}", True
    context = base_context(
        request, page="sessions", slot=slot, workshop=workshop, rows=_rows(bookings),
        taken=await services.booking.seats_taken(slot.id), waiting=len(await services.booking.waitlist(slot.id)),
        city=session_city(workshop) or "全省", open_marks=may_check_in(slot, services.clock()),
        message=message, good=good, confirm=confirm, markable=MARKABLE,
    )
    template = "session_cancel.html" if confirm else "session.html"
    return aiohttp_jinja2.render_template(template, request, context, app_key=JINJA, status=status)


async def session_page(request: web.Request) -> web.Response:
    return await _render_session(request)


async def _booking_of(request: web.Request, slot: Slot) -> Union[Booking, web.Response]:
    """The form's booking code, which must be a booking of this session (else the session's
    page again, saying so)."""
    code = str((await request.post()).get("code", "")).strip().upper()[:32]
    booking = await request.config_dict[SERVICES].booking.get(code) if code else None
    if booking is None or booking.slot_id != slot.id:
        text = f"预约码“{code}”不是本场次的预约，请核对后再试" if code else "请填写预约码"
        return await _render_session(request, text, status=404)
    return booking


def _back(slot: Slot, done: str, code: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/console/sessions/{slot.id}?done={done}&code={code}")


async def mark_attendance(request: web.Request) -> web.Response:
    slot, _ = await _session(request)
    booking = await _booking_of(request, slot)
    if isinstance(booking, web.Response):
        return booking
    services, staff = request.config_dict[SERVICES], staff_of(request)
    choice = str((await request.post()).get("attended", ""))
    if choice not in ("yes", "no"):
        return await _render_session(request, "请选择“已到场”或“未到场”", status=400)
    attended = choice == "yes"
    if not may_check_in(slot, services.clock()):
        return await _render_session(request, "场次当天才能签到（标记到场会请用户评价）", status=409)
    if booking.status not in MARKABLE:
        return await _render_session(request, f"{booking.code} {STATUS_LABELS.get(booking.status, booking.status)}，不能签到", status=409)
    await services.booking.mark_attendance(booking.code, attended, staff.username)
    await request.config_dict[AUDIT].record(
        staff.username, "session_attendance", booking.code,
        {"slot": slot.id, "attended": attended, "previous": booking.status}, ip=client_ip(request))
    raise _back(slot, "attended" if attended else "no_show", booking.code)


async def cancel_booking(request: web.Request) -> web.Response:
    """Without `confirm=yes` the confirmation page; with it, the cancellation (no cut-off: staff
    act for the user), which frees the seat for the head of the waitlist."""
    slot, _ = await _session(request)
    booking = await _booking_of(request, slot)
    if isinstance(booking, web.Response):
        return booking
    if booking.status != "confirmed":
        return await _render_session(request, f"{booking.code} {STATUS_LABELS.get(booking.status, booking.status)}，不能取消", status=409)
    if str((await request.post()).get("confirm", "")) != "yes":
        return await _render_session(request, confirm=booking)
    services, staff = request.config_dict[SERVICES], staff_of(request)
    result = await services.booking.staff_cancel(booking.code, staff.username)
    await request.config_dict[AUDIT].record(
        staff.username, "session_cancel", booking.code,
        {"slot": slot.id, "status": result.status, "promoted": [code for _, code in result.promoted]},
        ip=client_ip(request))
    if result.status != "cancelled":
        return await _render_session(request, f"{booking.code} 没有取消（{result.status}）", status=409)
    raise _back(slot, "cancelled", booking.code)


async def session_csv(request: web.Request) -> web.Response:
    """The list holds names and mobile numbers: every download is written to the audit log."""
    slot, _ = await _session(request)
    services, staff = request.config_dict[SERVICES], staff_of(request)
    body = await services.booking.export_csv([slot.id])
    await request.config_dict[AUDIT].record(staff.username, "session_export", slot.id, ip=client_ip(request))
    return web.Response(
        body=body, content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{slot.id}.csv"'},
    )


def add_session_routes(console: web.Application) -> None:
    console.router.add_get("/sessions", sessions_page)
    console.router.add_get(f"/sessions/{SLOT_ID}", session_page)
    console.router.add_post(f"/sessions/{SLOT_ID}/attendance", mark_attendance)
    console.router.add_post(f"/sessions/{SLOT_ID}/cancel", cancel_booking)
    console.router.add_get(f"/sessions/{SLOT_ID}/bookings.csv", session_csv)
