"""The staff CLI defines a campaign that the job runner then sends; mistakes get exit code 2."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import SHANGHAI, Clock, FrozenClock
from bot.jobs.scheduler import JobScheduler
from bot.cli.campaigns import main
from bot.services.campaigns.jobs import JOB_KIND, register_campaign_jobs
from bot.services.campaigns.store import CampaignStore, Segment
from tests.bot.services.test_campaigns import COHORT, generate_users, make_worker


def _run_cli(capsys, *argv: str, clock: Clock):
    code = main(list(argv), clock=clock)
    out = capsys.readouterr()
    return code, out.out.strip(), out.err.strip()


def _days_ahead_at_nine(clock: Clock, days: int) -> datetime:
    return (clock() + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)


def _typed(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


async def test_created_campaign_is_sent_by_the_job_runner_and_reported(wechat_env, capsys):
    env = wechat_env
    await generate_users(env, 30, seed=11)
    code, out, _ = await _to_thread(
        _run_cli, capsys, "create", "--cohort", COHORT, "--message", "实训营开始报名啦，回复“报名”",
        "--at", "2026-11-28 10:00", clock=env.clock,
    )
    assert code == 0, out
    campaign_id = out.splitlines()[0]
    campaign = await CampaignStore(env.redis, env.settings).get(campaign_id)
    assert campaign.cohort_id == COHORT and "回复“报名”" in campaign.message

    scheduler = JobScheduler(env.redis, env.settings)
    register_campaign_jobs(scheduler, make_worker(env))
    assert (await scheduler.run_due(datetime(2026, 11, 28, 9, 59, tzinfo=SHANGHAI))).ran == 0
    env.clock.set(datetime(2026, 11, 28, 10, 0, 1, tzinfo=SHANGHAI))
    assert (await scheduler.run_due(env.clock())).ran == 1
    report = await CampaignStore(env.redis, env.settings).report(campaign_id)
    assert report.sent > 0 and report.sent == env.delivered

    code, out, _ = await _to_thread(_run_cli, capsys, "report", campaign_id, clock=env.clock)
    assert code == 0
    lines = [line.strip() for line in out.splitlines()]
    assert f"已发送 sent: {report.sent}" in lines
    assert f"待发送 pending: {report.pending}" in lines and report.pending == 0
    assert f"跳过 skipped: {report.skipped_total}" in lines and report.skipped_total > 0
    for channel, label in (("customer_service", "客服消息 customer service"), ("template", "模板消息 template")):
        if report.sent_by_channel.get(channel):
            assert f"{label}: {report.sent_by_channel[channel]}" in lines
    assert any(line.startswith("已退订") for line in lines) == bool(report.skipped.get("selection:opted_out"))
    code, out, _ = await _to_thread(_run_cli, capsys, "list", clock=env.clock)
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith(campaign_id))
    assert row.split("\t")[1:4] == [COHORT, campaign.created_at[:16].replace("T", " "), "done"]


async def test_unknown_cohort_and_bad_time_are_refused_without_a_traceback(wechat_env, capsys):
    clock = wechat_env.clock
    code, _, err = await _to_thread(_run_cli, capsys, "create", "--cohort", "nope", "--message", "hi", clock=clock)
    assert code == 2 and "没有期次" in err and COHORT in err
    code, _, err = await _to_thread(
        _run_cli, capsys, "create", "--cohort", COHORT, "--message", "hi", "--at", "明天", clock=clock
    )
    assert code == 2 and "时间格式" in err
    code, _, err = await _to_thread(_run_cli, capsys, "report", "c-missing", clock=clock)
    assert code == 2 and "没有这个活动" in err
    code, _, err = await _to_thread(_run_cli, capsys, "cancel", "c-missing", clock=clock)
    assert code == 2 and "没有这个活动" in err


async def test_cancel_stops_a_queued_campaign_once(settings, redis, capsys):
    clock = FrozenClock()
    code, out, err = await _to_thread(
        _run_cli, capsys, "create", "--cohort", COHORT, "--message", "hi",
        "--at", _typed(_days_ahead_at_nine(clock, 3)), clock=clock,
    )
    assert code == 0, err
    campaign_id = out.splitlines()[0]
    code, out, err = await _to_thread(_run_cli, capsys, "cancel", campaign_id, "--by", "zhang", clock=clock)
    assert code == 0 and campaign_id in out
    report = await CampaignStore(redis, settings).report(campaign_id)
    assert report.status == "cancelled"
    assert await redis.hget(settings.key("campaign", campaign_id), "cancelled_by") == "zhang"
    code, _, err = await _to_thread(_run_cli, capsys, "cancel", campaign_id, clock=clock)
    assert code == 2 and "已取消" in err


async def _to_thread(func, *args, **kwargs):
    return await asyncio.to_thread(func, *args, **kwargs)


async def test_create_stores_the_segment_and_queues_one_scheduler_job(settings, redis, capsys):
    clock = FrozenClock()
    later = _days_ahead_at_nine(clock, 3)
    code, out, err = await _to_thread(
        _run_cli, capsys, "create", "--cohort", "jn-2026-12",
        "--identity", "应届毕业生", "--identity", "离校未就业毕业生", "--city", "济南市",
        "--graduation-year", "2025", "--graduation-year", "2026", "--tag", "制造业",
        "--message", "济南实训营开始报名", "--template-id", "TPL_X", "--at", _typed(later), clock=clock,
    )
    assert code == 0, err
    campaign_id = out.splitlines()[0]
    campaign = await CampaignStore(redis, settings).get(campaign_id)
    assert campaign.cohort_id == "jn-2026-12" and campaign.template_id == "TPL_X"
    assert campaign.segment == Segment(
        identities=("应届毕业生", "离校未就业毕业生"), cities=("济南市",), graduation_years=(2025, 2026), tags=("制造业",)
    )
    jobs = await JobScheduler(redis, settings).pending()
    assert [(j.kind, j.payload, j.due_at) for j in jobs] == [
        (JOB_KIND, {"campaign_id": campaign_id}, later)
    ]
    # --start-now: due at once (the runner's next poll picks it up), the scheduled one is not
    clock.advance(minutes=5)
    code, out, err = await _to_thread(
        _run_cli, capsys, "create", "--cohort", "jn-2026-12", "--message", "hi", "--start-now", clock=clock
    )
    assert code == 0, err
    second = out.splitlines()[0]
    assert second != campaign_id
    due_now = await JobScheduler(redis, settings).pending(until=clock())
    assert [j.payload["campaign_id"] for j in due_now] == [second]
    assert due_now[0].due_at == clock()


def test_module_entry_point_as_a_subprocess(settings):
    """`python -m bot.cli.campaigns`, as staff type it, against the test's Redis prefix."""
    env = {**os.environ, "REDIS_URL": settings.redis_url, "REDIS_KEY_PREFIX": settings.redis_key_prefix}
    root = Path(__file__).resolve().parents[3]

    def cli(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli.campaigns", *argv],
            cwd=root, env=env, capture_output=True, text=True, timeout=60,
        )

    bad = cli("create", "--cohort", "no-such-cohort", "--message", "hi")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "no-such-cohort" in bad.stderr and all(c in bad.stderr for c in ("jn-2026-12", COHORT))
    bad_date = cli("create", "--cohort", COHORT, "--message", "hi", "--at", "2026-13-01 09:00")
    assert bad_date.returncode == 2 and "YYYY-MM-DD HH:MM" in bad_date.stderr and "Traceback" not in bad_date.stderr
    assert cli("list").stdout.strip() == "（还没有活动）"  # nothing was created by the refused commands
    ok = cli("create", "--cohort", COHORT, "--city", "青岛", "--message", "线上实训营开始报名", "--start-now")
    assert ok.returncode == 0, ok.stderr
    campaign_id = ok.stdout.splitlines()[0]
    listed = cli("list")
    assert listed.returncode == 0 and listed.stdout.split("\t")[:2] == [campaign_id, COHORT]
    report = cli("report", campaign_id)
    assert report.returncode == 0 and "待发送 pending: 0" in report.stdout and "已发送 sent: 0" in report.stdout
