"""Camp push campaigns in the console (supervisors): define one, watch its delivery report, stop it.

The pages are server-rendered forms that need no script (console.js only keeps the live-queue
badge and alerts, as on every console page), posted with the session's CSRF token like every
console POST. Defining a campaign goes through `bot.services.campaigns.jobs.define_campaign`,
the same path as the staff CLI; the gateway's job runner does the sending.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any, Dict, List, Mapping, Optional, Tuple

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy, MultiMapping

from bot.gateway.appkeys import SERVICES
from bot.gateway.client_ip import client_ip
from bot.gateway.console.keys import AUDIT, JINJA
from bot.gateway.console.middleware import staff_of
from bot.gateway.console.pages import base_context
from bot.language.places import divisions
from bot.services.campaigns.jobs import define_campaign
from bot.services.campaigns.store import (
    REPORT_LABELS,
    Campaign,
    CampaignReport,
    Segment,
    parse_start_time,
)
from bot.services.eligibility import identity_choices

_YEAR = re.compile(r"\d{4}")
_LIST_SEPARATORS = re.compile(r"[,，、;；\s]+")
FINISHED_STATUSES = ("done", "cancelled")
STATUS_LABELS = {
    "created": "已创建，等待开始",
    "preparing": "正在筛选发送对象",
    "sending": "发送中",
    "paused": "发送中（分批）",
    "deferred": "夜间顺延",
    "done": "已完成",
    "cancelled": "已取消",
}


def status_text(report: CampaignReport) -> str:
    label = STATUS_LABELS.get(report.status, report.status)
    if report.status == "deferred" and report.resume_at:
        label += f"，{report.resume_at:%m-%d %H:%M} 继续"
    return label


class FormError(ValueError):
    """Something the supervisor typed cannot define a campaign; shown above the form."""


def _cities() -> List[str]:
    return [d.name for d in divisions() if d.level == "prefecture"]


def _split(text: str) -> Tuple[str, ...]:
    return tuple(part for part in _LIST_SEPARATORS.split(text.strip()) if part)


def _years(text: str) -> Tuple[int, ...]:
    parts = _split(text)
    if any(not _YEAR.fullmatch(p) or not 2000 <= int(p) <= 2100 for p in parts):
        raise FormError(f"毕业年份应为四位年份，多个用逗号分隔（例如 2026,2027）：{text.strip()!r}")
    return tuple(int(p) for p in parts)


def segment_from_form(form: MultiMapping[Any]) -> Segment:
    """The audience the form describes; unknown identities or cities are refused, not ignored."""
    identities = tuple(str(v) for v in form.getall("identity", []))
    cities = tuple(str(v) for v in form.getall("city", []))
    if not set(identities) <= set(identity_choices()):
        raise FormError("身份选项无效，请刷新页面后重选")
    if not set(cities) <= set(_cities()):
        raise FormError("城市选项无效，请刷新页面后重选")
    return Segment(
        identities=identities,
        cities=cities,
        graduation_years=_years(str(form.get("graduation_years", ""))),
        tags=_split(str(form.get("tags", ""))),
    )


def describe_segment(segment: Segment) -> str:
    parts = [
        "身份：" + "、".join(segment.identities) if segment.identities else "",
        "城市：" + "、".join(segment.cities) if segment.cities else "",
        "毕业年份：" + "、".join(map(str, segment.graduation_years)) if segment.graduation_years else "",
        "标签：" + "、".join(segment.tags) if segment.tags else "",
    ]
    described = "；".join(p for p in parts if p) or "所有用户"
    return described + ("（仅符合该期报名条件者）" if segment.eligible_only else "")


def _report_rows(report: CampaignReport) -> List[Tuple[str, str, int]]:
    """(group, label, count) rows for the report table, every reason with its own line."""
    rows = [("已发送", REPORT_LABELS.get(k, k), v) for k, v in sorted(report.sent_by_channel.items())]
    rows += [("失败", REPORT_LABELS.get(k, k), v) for k, v in sorted(report.failed.items())]
    rows += [("跳过", REPORT_LABELS.get(k, k), v) for k, v in sorted(report.skipped.items())]
    return rows


def scoped_segment(request: web.Request, form: MultiMapping[Any]) -> Segment:
    """The form's audience, refused when it reaches users outside the supervisor's scope (a city
    supervisor must name their cities; no city means the whole province)."""
    segment = segment_from_form(form)
    scope = staff_of(request).scope
    if not scope.covers_all(segment.cities):
        raise FormError(f"您的工作范围是{scope.label()}：请只选择范围内的城市（不选城市即全省，需省级主管）")
    return segment


async def _overview(request: web.Request) -> List[Dict[str, Any]]:
    store = request.config_dict[SERVICES].campaigns.store
    scope = staff_of(request).scope
    rows = []
    for campaign_id in await store.ids():
        campaign = await store.get(campaign_id)
        if campaign is not None and scope.covers_all(campaign.segment.cities):
            report = await store.report(campaign_id)
            rows.append({"campaign": campaign, "report": report, "status": status_text(report)})
    rows.sort(key=lambda row: row["campaign"].created_at, reverse=True)
    return rows


async def _render_list(
    request: web.Request, *, error: str = "", form: Optional[Mapping[str, Any]] = None,
    chosen: Optional[Mapping[str, List[str]]] = None, preview: Optional[Dict[str, Any]] = None,
    status: int = 200,
) -> web.Response:
    today = request.config_dict[SERVICES].clock().date()
    cohorts = request.config_dict[SERVICES].campaigns.catalogue.cohorts
    context = base_context(
        request,
        page="campaigns",
        campaigns=await _overview(request),
        cohorts=[{"id": c.id, "label": c.label, "open": c.is_open(today)} for c in cohorts],
        identities=list(identity_choices()),
        cities=[c for c in _cities() if staff_of(request).scope.covers_all([c])],
        error=error,
        form=form or {},
        chosen=chosen or {"identity": [], "city": []},
        preview=preview,
    )
    response = aiohttp_jinja2.render_template("campaigns.html", request, context, app_key=JINJA)
    response.set_status(status)
    return response


async def campaigns_page(request: web.Request) -> web.Response:
    return await _render_list(request)


async def create_campaign(request: web.Request) -> web.StreamResponse:
    """Define and queue a campaign, or (the form's 预览 button) count its audience first."""
    form: MultiDictProxy = await request.post()
    values = {k: str(v) for k, v in form.items() if k != "_csrf" and isinstance(v, str)}
    chosen = {name: [str(v) for v in form.getall(name, [])] for name in ("identity", "city")}
    services = request.config_dict[SERVICES]
    try:
        if values.get("action") == "preview":
            preview = await _preview(request, values.get("cohort", ""), scoped_segment(request, form))
            return await _render_list(request, form=values, chosen=chosen, preview=preview)
        if form.get("confirm") != "yes":
            raise FormError("请先勾选“我已核对发送对象和消息内容”")
        campaign = await define_campaign(
            services.campaigns.store, services.scheduler, services.campaigns.catalogue,
            cohort_id=values.get("cohort", ""), segment=scoped_segment(request, form),
            message=values.get("message", ""), template_id=values.get("template_id", ""),
            created_by=staff_of(request).username, when=parse_start_time(values.get("start_at")),
        )
    except ValueError as exc:  # FormError, or the service's own refusal
        return await _render_list(request, error=str(exc), form=values, chosen=chosen, status=400)
    await request.config_dict[AUDIT].record(
        staff_of(request).username, "campaign_create", campaign.id,
        {"cohort": campaign.cohort_id, "segment": describe_segment(campaign.segment),
         "start_at": values.get("start_at") or "立即"},
        ip=client_ip(request),
    )
    raise web.HTTPSeeOther(f"/console/campaigns/{campaign.id}")


async def _preview(request: web.Request, cohort_id: str, segment: Segment) -> Dict[str, Any]:
    """How many users the campaign would reach now, and whom it would skip, by reason."""
    worker = request.config_dict[SERVICES].campaigns
    if worker.catalogue.get(cohort_id) is None:
        raise FormError("请先选择期次")
    targets, skips = await worker.select_audience(cohort_id, segment)
    reasons = Counter(value.partition("|")[2] for value in skips.values())
    return {
        "targets": len(targets),
        "skipped": [(REPORT_LABELS.get(reason, reason), count) for reason, count in sorted(reasons.items())],
        "segment": describe_segment(segment),
    }


async def campaign_page(request: web.Request) -> web.Response:
    store = request.config_dict[SERVICES].campaigns.store
    campaign: Optional[Campaign] = await store.get(request.match_info["campaign_id"])
    if campaign is None:
        raise web.HTTPNotFound(text="没有这个推送活动", content_type="text/plain")
    report = await store.report(campaign.id)
    cohort = request.config_dict[SERVICES].campaigns.catalogue.get(campaign.cohort_id)
    context = base_context(
        request,
        page="campaigns",
        campaign=campaign,
        cohort_label=cohort.label if cohort else campaign.cohort_id,
        segment_text=describe_segment(campaign.segment),
        report=report,
        status=status_text(report),
        rows=_report_rows(report),
        refresh=report.status not in FINISHED_STATUSES,
    )
    return aiohttp_jinja2.render_template("campaign.html", request, context, app_key=JINJA)


async def cancel_campaign(request: web.Request) -> web.StreamResponse:
    campaign_id = request.match_info["campaign_id"]
    staff = staff_of(request)
    try:
        cancelled = await request.config_dict[SERVICES].campaigns.store.cancel(campaign_id, staff.username)
    except KeyError:
        raise web.HTTPNotFound(text="没有这个推送活动", content_type="text/plain") from None
    if cancelled:
        await request.config_dict[AUDIT].record(staff.username, "campaign_cancel", campaign_id, ip=client_ip(request))
    raise web.HTTPSeeOther(f"/console/campaigns/{campaign_id}")


def add_campaign_routes(console: web.Application) -> None:
    console.router.add_get("/campaigns", campaigns_page)
    console.router.add_post("/campaigns", create_campaign)
    console.router.add_get("/campaigns/{campaign_id:[A-Za-z0-9_-]{1,64}}", campaign_page)
    console.router.add_post("/campaigns/{campaign_id:[A-Za-z0-9_-]{1,64}}/cancel", cancel_campaign)
