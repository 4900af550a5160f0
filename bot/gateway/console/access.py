"""Who may use which console route, decided once per route: `ROUTE_ACCESS` names every route of
the console's route table with its access rule, and `console_guard` (middleware.py) refuses any
route the table does not name (a route added later without a scope decision answers 403, and
tests/bot/gateway/console/test_scope_routes.py fails).

Rules (staff roles and scopes: bot/gateway/console/auth.py, bot/services/staff_scope.py):

    PUBLIC      no session (login, static files)
    STAFF       any signed-in staff member; what the handler shows is filtered by scope
    ITEM        a handoff item the staff member may see (`may_see_item`), checked here
    SUPERVISOR  supervisor or admin; the handler shows the scope's figures / cohorts / campaigns
    CAMPAIGN    supervisor or admin, and the campaign's cities lie within the scope, checked here
    RATING      supervisor or admin, and the rating's city lies within the scope, checked here
    SESSION     any staff member whose scope covers the workshop session (its city; an online
                one is the province's: bot/services/booking/sessions.py), checked here
    PROVINCE    supervisor or admin working for the whole province (province-wide by nature:
                the audit log of every account; a cohort's enrolment list of all cities)
    ADMIN       the provincial administrator (accounts)
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Dict, Mapping, Optional, Tuple

from aiohttp import web

from bot.gateway.appkeys import HANDOFF, SERVICES
from bot.gateway.console.auth import StaffSession
from bot.services.booking.sessions import in_scope as session_in_scope
from bot.services.staff_scope import StaffScope


class Access(Enum):
    PUBLIC = "public"
    STAFF = "staff"
    ITEM = "item"
    SUPERVISOR = "supervisor"
    CAMPAIGN = "campaign"
    RATING = "rating"
    SESSION = "session"
    PROVINCE = "province"
    ADMIN = "admin"


# (method, canonical path) of every console route; HEAD follows GET.
ROUTE_ACCESS: Dict[Tuple[str, str], Access] = {
    ("GET", "/console/login"): Access.PUBLIC,
    ("POST", "/console/login"): Access.PUBLIC,
    ("GET", "/console/static"): Access.PUBLIC,
    ("POST", "/console/logout"): Access.STAFF,
    ("GET", "/console/"): Access.STAFF,
    ("GET", "/console/api/queue"): Access.STAFF,
    ("GET", "/console/api/stream"): Access.STAFF,
    ("POST", "/console/api/heartbeat"): Access.STAFF,
    ("GET", "/console/conversations/{item_id}"): Access.ITEM,
    ("GET", "/console/api/items/{item_id}"): Access.ITEM,
    **{("POST", f"/console/api/items/{{item_id}}/{name}"): Access.ITEM for name in (
        "claim", "release", "transfer", "close", "reply", "template", "note", "handback")},
    ("GET", "/console/dashboard"): Access.SUPERVISOR,
    ("GET", "/console/api/dashboard"): Access.SUPERVISOR,
    ("GET", "/console/cohorts"): Access.SUPERVISOR,
    ("GET", "/console/monthly"): Access.SUPERVISOR,
    ("GET", "/console/monthly.xlsx"): Access.SUPERVISOR,
    ("GET", "/console/campaigns"): Access.SUPERVISOR,
    ("POST", "/console/campaigns"): Access.SUPERVISOR,
    ("GET", "/console/campaigns/{campaign_id}"): Access.CAMPAIGN,
    ("POST", "/console/campaigns/{campaign_id}/cancel"): Access.CAMPAIGN,
    ("GET", "/console/ratings"): Access.SUPERVISOR,
    ("POST", "/console/ratings/{rating_id}/review"): Access.RATING,
    ("GET", "/console/sessions"): Access.STAFF,
    ("GET", "/console/sessions/{slot_id}"): Access.SESSION,
    ("POST", "/console/sessions/{slot_id}/attendance"): Access.SESSION,
    ("POST", "/console/sessions/{slot_id}/cancel"): Access.SESSION,
    ("GET", "/console/sessions/{slot_id}/bookings.csv"): Access.SESSION,
    ("GET", "/console/cohorts/{cohort_id}/enrolments.csv"): Access.PROVINCE,
    ("GET", "/console/audit"): Access.PROVINCE,
    ("GET", "/console/users"): Access.ADMIN,
    ("POST", "/console/users"): Access.ADMIN,
    ("POST", "/console/users/{username}"): Access.ADMIN,
}

ROLE_TEXT = {
    Access.SUPERVISOR: "需要主管权限",
    Access.CAMPAIGN: "该推送活动不在您的工作范围内",
    Access.RATING: "该评价不在您的工作范围内",
    Access.SESSION: "该场次不在您的工作范围内",
    Access.PROVINCE: "需要省级主管权限",
    Access.ADMIN: "需要省级管理员权限",
    Access.ITEM: "该会话不在您的工作范围内",
}


def route_access(request: web.Request) -> Optional[Access]:
    """The rule of the route the request matched; None for a route the table does not name.
    A path no route matches is STAFF (its handler answers 404 to signed-in staff only)."""
    resource = request.match_info.route.resource
    if resource is None:
        return Access.STAFF
    method = "GET" if request.method == "HEAD" else request.method
    return ROUTE_ACCESS.get((method, resource.canonical))


async def _session_in_scope(request: web.Request, scope: StaffScope) -> bool:
    catalogue = request.config_dict[SERVICES].booking.catalogue
    slot = await catalogue.get_slot(request.match_info["slot_id"])
    workshop = await catalogue.get_workshop(slot.workshop_id) if slot else None
    return workshop is None or session_in_scope(scope, workshop)  # a missing session: the handler's 404


def may_see_item(staff: StaffSession, item: Mapping[str, Any]) -> bool:
    """A handoff item (hash or summary) is the staff member's business when its user is in their
    scope (`item_visible`)."""
    return item_visible(staff.scope, staff.is_supervisor, item)


def item_visible(scope: StaffScope, supervisor: bool, item: Mapping[str, Any]) -> bool:
    """Provincial counsellors serve the provincial pool: items of no known city, and city items
    their city left for the province (`pool`); city staff see their cities' items whatever the
    pool; supervisors and admins see their whole scope."""
    city, district = item.get("city") or "", item.get("district") or ""
    if scope.is_province and not supervisor:
        return not city or item.get("pool", "province") == "province"
    return scope.covers(city, district)


async def allowed(request: web.Request, staff: StaffSession, access: Access) -> bool:
    """Whether `staff` passes `access` for this request (role, then the scope of what it names)."""
    if access in (Access.PUBLIC, Access.STAFF):
        return True
    if access is Access.ITEM:
        item = await request.config_dict[HANDOFF].get(request.match_info["item_id"])
        return item is None or may_see_item(staff, item)  # a missing item: the handler's 404
    if access is Access.SESSION:
        return await _session_in_scope(request, staff.scope)
    if not staff.is_supervisor:
        return False
    if access is Access.SUPERVISOR:
        return True
    if access is Access.CAMPAIGN:
        campaign = await request.config_dict[SERVICES].campaigns.store.get(request.match_info["campaign_id"])
        return campaign is None or staff.scope.covers_all(campaign.segment.cities)
    if access is Access.RATING:
        rating = await request.config_dict[SERVICES].satisfaction.get(request.match_info["rating_id"])
        return rating is None or staff.scope.covers(rating.get("city") or "", rating.get("district") or "")
    if access is Access.PROVINCE:
        return staff.scope.is_province
    return staff.is_admin
