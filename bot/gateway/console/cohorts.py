"""Training-camp cohorts in the console (supervisors): seats taken, waitlist, and the enrolment
list as CSV for the camp organisers (UTF-8 with BOM, as `python -m bot.cli.camp export`)."""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.gateway.appkeys import SERVICES
from bot.gateway.client_ip import client_ip
from bot.gateway.console.keys import AUDIT, JINJA
from bot.gateway.console.middleware import staff_of
from bot.gateway.console.pages import base_context


async def cohorts_page(request: web.Request) -> web.Response:
    services = request.config_dict[SERVICES]
    today = services.clock().date()
    rows = []
    for cohort in services.campaigns.catalogue.cohorts:
        counts = await services.enrolments.counts(cohort.id)
        rows.append({"cohort": cohort, "open": cohort.is_open(today), **counts})
    context = base_context(request, page="cohorts", rows=rows)
    return aiohttp_jinja2.render_template("cohorts.html", request, context, app_key=JINJA)


async def enrolments_csv(request: web.Request) -> web.Response:
    """The list holds names and mobile numbers: every download is written to the audit log."""
    services = request.config_dict[SERVICES]
    cohort_id = request.match_info["cohort_id"]
    if services.campaigns.catalogue.get(cohort_id) is None:
        raise web.HTTPNotFound(text="没有这个期次", content_type="text/plain")
    body = await services.enrolments.export_csv(cohort_id)
    staff = staff_of(request)
    await request.config_dict[AUDIT].record(staff.username, "enrolments_export", cohort_id, ip=client_ip(request))
    filename = f"enrolments-{cohort_id}-{services.clock():%Y%m%d}.csv"
    return web.Response(
        body=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def add_cohort_routes(console: web.Application) -> None:
    console.router.add_get("/cohorts", cohorts_page)
    console.router.add_get("/cohorts/{cohort_id:[A-Za-z0-9_-]{1,64}}/enrolments.csv", enrolments_csv)
