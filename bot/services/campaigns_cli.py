"""Staff command line for camp push campaigns (the gateway's job runner does the sending).

    python -m bot.services.campaigns_cli create --cohort jn-2026-12 --identity 应届毕业生 \
        --city 济南市 --message "济南第12期青年求职能力实训营开始报名，回复“报名”即可报名" [--at "2026-12-01 09:00"]
    python -m bot.services.campaigns_cli report CAMPAIGN_ID
    python -m bot.services.campaigns_cli list
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import List, Optional, Sequence

from bot.clock import SHANGHAI
from bot.jobs.scheduler import JobScheduler
from bot.redis_client import create_redis
from bot.services.camp import load_catalogue
from bot.services.campaigns import CampaignStore, Segment, start_campaign
from bot.settings import load_settings


class UsageError(Exception):
    """A mistake in what the staff member typed: reported in one line, exit code 2."""


def _parse_at(text: Optional[str]) -> Optional[datetime]:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    except ValueError as exc:
        raise UsageError(f"时间格式应为 YYYY-MM-DD HH:MM，而不是 {text!r}") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.services.campaigns_cli")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="define a campaign and queue it for sending")
    create.add_argument("--cohort", required=True)
    create.add_argument("--identity", action="append", default=[])
    create.add_argument("--city", action="append", default=[])
    create.add_argument("--graduation-year", action="append", type=int, default=[])
    create.add_argument("--tag", action="append", default=[])
    create.add_argument("--message", required=True)
    create.add_argument("--template-id", default="")
    create.add_argument("--at", help="start time in Asia/Shanghai, YYYY-MM-DD HH:MM (default: now)")
    create.add_argument("--by", default="staff-cli")
    report = sub.add_parser("report", help="delivery report of one campaign")
    report.add_argument("campaign_id")
    sub.add_parser("list", help="all campaigns")
    return parser


async def _run(args: argparse.Namespace) -> List[str]:
    settings = load_settings()
    redis = create_redis(settings)
    store = CampaignStore(redis, settings)
    try:
        if args.command == "create":
            return await _create(args, store, JobScheduler(redis, settings))
        if args.command == "report":
            if await store.get(args.campaign_id) is None:
                raise UsageError(f"没有这个活动：{args.campaign_id}")
            return [(await store.report(args.campaign_id)).as_text()]
        return [await _describe(store, campaign_id) for campaign_id in await store.ids()] or ["（还没有活动）"]
    finally:
        await redis.close()


async def _create(args: argparse.Namespace, store: CampaignStore, scheduler: JobScheduler) -> List[str]:
    catalogue = load_catalogue()
    if catalogue.get(args.cohort) is None:
        valid = ", ".join(cohort.id for cohort in catalogue.cohorts)
        raise UsageError(f"没有期次 {args.cohort!r}；可选：{valid}")
    when = _parse_at(args.at)
    segment = Segment(
        identities=tuple(args.identity),
        cities=tuple(args.city),
        graduation_years=tuple(args.graduation_year),
        tags=tuple(args.tag),
    )
    try:
        campaign = await store.create(
            args.cohort, segment, args.message, template_id=args.template_id, created_by=args.by
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    await start_campaign(scheduler, campaign.id, when)
    start = when.strftime("%Y-%m-%d %H:%M") if when else "立即"
    return [campaign.id, f"已排队发送（开始：{start}；夜间 22:00–08:00 自动顺延）"]


async def _describe(store: CampaignStore, campaign_id: str) -> str:
    campaign = await store.get(campaign_id)
    report = await store.report(campaign_id)
    if campaign is None:
        return campaign_id
    return f"{campaign.id}\t{campaign.cohort_id}\t{campaign.created_at[:16]}\t{report.status}\t已发送 {report.sent}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        lines = asyncio.run(_run(args))
    except UsageError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
