"""The staff CLI defines a campaign that the job runner then sends; mistakes get exit code 2."""
from __future__ import annotations

from datetime import datetime

from bot.clock import SHANGHAI
from bot.jobs.scheduler import JobScheduler
from bot.services.campaigns import CampaignStore, register_campaign_jobs
from bot.services.campaigns_cli import main
from tests.bot.services.test_camp_support import wechat_env  # noqa: F401  (fixture)
from tests.bot.services.test_campaigns import COHORT, generate_users, make_worker


def _run_cli(capsys, *argv: str):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out.strip(), out.err.strip()


async def test_created_campaign_is_sent_by_the_job_runner_and_reported(wechat_env, capsys):
    env = wechat_env
    await generate_users(env, 30, seed=11)
    code, out, _ = await _to_thread(
        _run_cli, capsys, "create", "--cohort", COHORT, "--message", "实训营开始报名啦，回复“报名”", "--at", "2026-11-28 10:00"
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

    code, out, _ = await _to_thread(_run_cli, capsys, "report", campaign_id)
    assert code == 0 and f"已发送 {report.sent}" in out
    code, out, _ = await _to_thread(_run_cli, capsys, "list")
    assert code == 0 and campaign_id in out


async def test_unknown_cohort_and_bad_time_are_refused_without_a_traceback(wechat_env, capsys):
    code, _, err = await _to_thread(_run_cli, capsys, "create", "--cohort", "nope", "--message", "hi")
    assert code == 2 and "没有期次" in err and COHORT in err
    code, _, err = await _to_thread(
        _run_cli, capsys, "create", "--cohort", COHORT, "--message", "hi", "--at", "明天"
    )
    assert code == 2 and "时间格式" in err
    code, _, err = await _to_thread(_run_cli, capsys, "report", "c-missing")
    assert code == 2 and "没有这个活动" in err


async def _to_thread(func, *args):
    import asyncio

    return await asyncio.to_thread(func, *args)
