"""Staff command line for camp push campaigns (the gateway's job runner does the sending).

    python -m bot.cli.campaigns create --cohort jn-2026-12 --identity 应届毕业生 \
        --city 济南市 --message "济南第12期青年求职能力实训营开始报名，回复“报名”即可报名" \
        [--template-id T] [--start-now | --at "2026-12-01 09:00"]
    python -m bot.cli.campaigns report CAMPAIGN_ID
    python -m bot.cli.campaigns cancel CAMPAIGN_ID
    python -m bot.cli.campaigns list

User mistakes exit 2 with one line on
stderr; an unreachable Redis exits 1 with one line; never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import Dict, List, Optional, Sequence

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.cli.redis_run import run_with_redis
from bot.clock import Clock, system_clock
from bot.jobs.scheduler import JobScheduler
from bot.services.camp import CampCatalogue, load_catalogue
from bot.services.campaigns.jobs import define_campaign
from bot.services.campaigns.store import (
    REPORT_LABELS,
    CampaignReport,
    CampaignStore,
    Segment,
    parse_start_time,
)
from bot.settings import Settings


class UsageError(Exception):
    """A mistake in what the staff member typed: reported in one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.campaigns")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="define a campaign and queue it for sending")
    create.add_argument("--cohort", required=True)
    create.add_argument("--identity", action="append", default=[])
    create.add_argument("--city", action="append", default=[])
    create.add_argument("--graduation-year", action="append", type=int, default=[])
    create.add_argument("--tag", action="append", default=[])
    create.add_argument("--message", required=True)
    create.add_argument("--template-id", default="")
    when = create.add_mutually_exclusive_group()
    when.add_argument("--start-now", action="store_true", help="queue for now (the default)")
    when.add_argument("--at", help="start time in Asia/Shanghai, YYYY-MM-DD HH:MM (default: now)")
    create.add_argument("--by", default="staff-cli")
    report = sub.add_parser("report", help="delivery report of one campaign")
    report.add_argument("campaign_id")
    cancel = sub.add_parser("cancel", help="stop a campaign (the batch in flight finishes)")
    cancel.add_argument("campaign_id")
    cancel.add_argument("--by", default="staff-cli")
    sub.add_parser("list", help="all campaigns")
    return parser


async def _run(
    args: argparse.Namespace, clock: Clock, redis: aioredis.Redis, settings: Settings
) -> List[str]:
    store = CampaignStore(redis, settings, clock)
    if args.command == "create":
        catalogue = load_catalogue(settings.camp_cohorts_file, clock().date())
        return await _create(args, store, JobScheduler(redis, settings), catalogue)
    if args.command in ("report", "cancel") and await store.get(args.campaign_id) is None:
        raise UsageError(f"没有这个活动 unknown campaign: {args.campaign_id}")
    if args.command == "report":
        return format_report(await store.report(args.campaign_id))
    if args.command == "cancel":
        if not await store.cancel(args.campaign_id, args.by):
            raise UsageError(f"活动已结束或已取消 campaign already finished or cancelled: {args.campaign_id}")
        return [f"已取消 cancelled: {args.campaign_id}（正在发送的一批发完即停）"]
    return [await _describe(store, campaign_id) for campaign_id in await store.ids()] or ["（还没有活动）"]


async def _create(
    args: argparse.Namespace, store: CampaignStore, scheduler: JobScheduler, catalogue: CampCatalogue
) -> List[str]:
    segment = Segment(
        identities=tuple(args.identity),
        cities=tuple(args.city),
        graduation_years=tuple(args.graduation_year),
        tags=tuple(args.tag),
    )
    try:
        when = parse_start_time(args.at)
        campaign = await define_campaign(
            store, scheduler, catalogue, cohort_id=args.cohort, segment=segment, message=args.message,
            template_id=args.template_id, created_by=args.by, when=when,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    start = when.strftime("%Y-%m-%d %H:%M") if when else "立即"
    return [campaign.id, f"已排队发送（开始：{start}；夜间 22:00–08:00 自动顺延）"]


def _breakdown(counts: Dict[str, int]) -> List[str]:
    return [f"    {REPORT_LABELS.get(k, k)}: {v}" for k, v in sorted(counts.items())]


def format_report(report: CampaignReport) -> List[str]:
    """The delivery report, one figure per line, Chinese and English labels."""
    return [
        f"活动 campaign {report.campaign_id}  状态 status: {report.status}",
        f"  目标人数 audience: {report.audience}",
        f"  已发送 sent: {report.sent}",
        *_breakdown(report.sent_by_channel),
        f"  失败 failed: {report.failed_total}",
        *_breakdown(report.failed),
        f"  跳过 skipped: {report.skipped_total}",
        *_breakdown(report.skipped),
        f"  待发送 pending: {report.pending}",
    ]


async def _describe(store: CampaignStore, campaign_id: str) -> str:
    campaign = await store.get(campaign_id)
    report = await store.report(campaign_id)
    if campaign is None:
        return campaign_id
    created = campaign.created_at[:16].replace("T", " ")
    return f"{campaign.id}\t{campaign.cohort_id}\t{created}\t{report.status}\t已发送 sent {report.sent}"


def main(argv: Optional[Sequence[str]] = None, clock: Clock = system_clock) -> int:
    args = _parser().parse_args(argv)
    try:
        lines = run_with_redis(lambda redis, settings: _run(args, clock, redis, settings))
    except UsageError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    except (RedisConnectionError, RedisTimeoutError) as exc:
        print(f"错误 error: 无法连接 Redis (cannot reach Redis): {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
