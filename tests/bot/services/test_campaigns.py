"""Campaigns: 5,000 generated users, quiet hours, a worker killed mid-campaign, the report.

Deliveries are counted at the fake WeChat API over real HTTP (per-user records in its Redis).
"""
from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timedelta

import pytest

from bot.clock import SHANGHAI
from bot.services.camp import EnrollmentStore, last_pushed_cohort, load_catalogue
from bot.services.campaigns.jobs import define_campaign, register_campaign_jobs, start_campaign
from bot.services.campaigns.store import CampaignStore, Segment
from bot.services.campaigns.worker import CampaignWorker
from bot.services.push import PushConfig, PushPreferences, PushService

COHORT = "online-2026-12"  # all groups; unemployed youth up to 35; graduates within 3 years
IDENTITIES = ["在校生", "应届毕业生", "离校未就业毕业生", "失业青年", "在职人员"]
CITIES = ["济南", "青岛", "烟台", "日照"]


def expected_eligible(p: dict) -> bool:
    """The online cohort's rules on 2026-11-28, written out independently of the rule engine."""
    identity, grad, age = p["identity"], p.get("graduation_year"), p.get("age")
    if identity == "在校生":
        return grad == 2027
    if identity == "应届毕业生":
        return grad == 2027 or 2023 <= grad <= 2026
    if identity == "离校未就业毕业生":
        return 2023 <= grad <= 2026
    if identity == "失业青年":
        return 16 <= age <= 35
    return False


async def generate_users(env, n: int, seed: int = 7):
    rng = random.Random(seed)
    users = {}
    async with env.redis.pipeline(transaction=False) as pipe:
        for i in range(n):
            openid = f"oCamp{i:05d}"
            identity = rng.choice(IDENTITIES)
            p = {"identity": identity, "city": rng.choice(CITIES), "name": f"用户{i}"}
            if identity == "失业青年":
                p["age"] = rng.randint(14, 38)
            else:
                p["graduation_year"] = rng.randint(2021, 2028)
                p["age"] = 22
            p["opted_out"] = rng.random() < 0.1
            p["window"] = rng.random() < 0.6
            p["template_ok"] = rng.random() < 0.4
            users[openid] = p
            pipe.hset(env.settings.key("profile", openid), mapping={k: str(v) for k, v in p.items() if k in ("identity", "city", "name", "age", "graduation_year")})
            prefs = {"opted_out": "1" if p["opted_out"] else "0", "template_ok": "1" if p["template_ok"] else "0"}
            pipe.hset(env.settings.key("push_pref", openid), mapping=prefs)
        await pipe.execute()
    opened = [o for o, p in users.items() if p["window"]]
    for start in range(0, len(opened), 200):
        await asyncio.gather(*(env.window.record_user_message(o) for o in opened[start : start + 200]))
    return users


def make_worker(env, *, clock=None, batch_size: int = 200):
    push = PushService(
        env.redis, env.settings, env.client, env.window, clock or env.clock,
        config=PushConfig(rate_per_s=5000.0, burst=500),
    )
    return CampaignWorker(env.redis, env.settings, push, clock or env.clock, batch_size=batch_size, concurrency=24)


@pytest.mark.slow
async def test_campaign_5000_users_quiet_hours_restart_exactly_once(wechat_env):
    env = wechat_env
    env.clock.set(datetime(2026, 11, 28, 21, 40, tzinfo=SHANGHAI))
    t0 = time.monotonic()
    users = await generate_users(env, 5000)
    # a few already enrolled: they are told nothing
    enrolments = EnrollmentStore(env.redis, env.settings, env.clock)
    cohort = load_catalogue(env.settings.camp_cohorts_file, env.clock().date()).get(COHORT)
    segment_ids = [o for o, p in users.items() if p["city"] != "日照" and p["identity"] != "在职人员"]
    already = [o for o in segment_ids if expected_eligible(users[o]) and not users[o]["opted_out"]][:25]
    for i, openid in enumerate(already):
        assert (await enrolments.enroll(openid, cohort, {"phone": f"1350000{i:04d}"})).ok
    print(f"\n[campaign] generated 5000 users in {time.monotonic() - t0:.1f}s")

    campaign = await CampaignStore(env.redis, env.settings, env.clock).create(
        COHORT,
        Segment(identities=("在校生", "应届毕业生", "离校未就业毕业生", "失业青年"), cities=("济南", "青岛", "烟台")),
        "【青年求职能力实训营】线上第4期12月15日开营，免费、发结业证书。回复“报名”即可报名，回复“退订”不再接收。",
        template_id="TPL_CAMP",
        created_by="staff-01",
    )

    # what must happen, computed from the generated data alone
    in_segment = set(segment_ids)
    opted_out = {o for o in in_segment if users[o]["opted_out"]}
    enrolled = set(already)
    not_eligible = {o for o in in_segment - opted_out - enrolled if not expected_eligible(users[o])}
    targets = in_segment - opted_out - enrolled - not_eligible
    reachable = {o for o in targets if users[o]["window"] or users[o]["template_ok"]}
    unreachable = targets - reachable

    # phase 1: starts at 21:40, the clock reaches 22:00 after 300 deliveries → deferred
    def quiet_at_300(n: int) -> None:
        if n == 300:
            env.clock.set(datetime(2026, 11, 28, 22, 0, tzinfo=SHANGHAI))

    env.on_delivery = quiet_at_300
    outcome = await make_worker(env).run(campaign.id)
    assert outcome.status == "deferred"
    assert outcome.resume_at == datetime(2026, 11, 29, 8, 0, tzinfo=SHANGHAI)
    phase1 = env.delivered
    assert 300 <= phase1 <= 300 + 24  # only sends already past the quiet-hours check finish
    # during quiet hours nothing goes out, however often the worker is woken
    env.on_delivery = None
    env.clock.set(datetime(2026, 11, 29, 3, 0, tzinfo=SHANGHAI))
    assert (await make_worker(env).run(campaign.id)).status == "deferred"
    assert env.delivered == phase1

    # phase 2: 08:00 next day; the worker task is killed after 300 more deliveries
    env.clock.set(datetime(2026, 11, 29, 8, 0, tzinfo=SHANGHAI))
    killed = asyncio.Event()
    env.on_delivery = lambda n: killed.set() if n >= phase1 + 300 else None
    started = time.monotonic()
    first = asyncio.create_task(make_worker(env).run(campaign.id))
    await asyncio.wait_for(killed.wait(), timeout=40)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    at_kill = env.delivered
    env.on_delivery = None
    # phase 3: a brand-new worker (new PushService, new instances) finishes the campaign
    outcome = await make_worker(env).run(campaign.id)
    assert outcome.status == "done"
    store = CampaignStore(env.redis, env.settings, env.clock)
    for _ in range(100):  # the killed worker's shielded in-flight sends record their outcome
        report = await store.report(campaign.id)
        if report.pending == 0 and "interrupted" not in report.failed:
            break
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    rate = (env.delivered - phase1) / elapsed

    counts = await env.counts_for(list(users))
    delivered_to = {o for o, n in counts.items() if n}
    assert all(n <= 1 for n in counts.values()), "somebody got the campaign twice"
    assert delivered_to == reachable
    assert env.delivered == len(reachable)
    assert report.sent == len(reachable)
    assert report.failed == {}
    assert report.pending == 0 and report.status == "done"
    assert report.skipped == {
        k: v
        for k, v in {
            "selection:opted_out": len(opted_out),
            "selection:already_enrolled": len(enrolled),
            "selection:not_eligible": len(not_eligible),
            "window_closed_template_not_allowed": len(unreachable),
        }.items()
        if v
    }
    assert report.audience == len(in_segment)
    channels = report.sent_by_channel
    assert channels["customer_service"] == len({o for o in reachable if users[o]["window"]})
    assert channels["template"] == len({o for o in reachable if not users[o]["window"]})
    # "报名" after the push can prefill the cohort
    some = next(iter(reachable))
    assert await last_pushed_cohort(env.redis, env.settings, some) == COHORT
    print(
        f"[campaign] phase1 {phase1} sent before 22:00, killed worker at {at_kill}, "
        f"send rate {rate:.0f} msg/s over {env.delivered - phase1} deliveries ({elapsed:.1f}s)\n"
        f"[campaign] {report.as_text()}"
    )


async def test_user_opting_out_mid_campaign_is_skipped(wechat_env):
    env = wechat_env
    users = await generate_users(env, 60, seed=3)
    campaign = await CampaignStore(env.redis, env.settings, env.clock).create(
        COHORT, Segment(eligible_only=False), "开营啦", template_id="TPL"
    )
    worker = make_worker(env)
    await worker.prepare(campaign)
    targets = await env.redis.lrange(worker.store.key(campaign.id, "targets"), 0, -1)
    late = next(o for o in targets if users[o]["window"])
    await PushPreferences(env.redis, env.settings).opt_out(late)
    assert (await worker.run(campaign.id)).status == "done"
    assert (await env.counts_for([late]))[late] == 0
    report = await worker.store.report(campaign.id)
    assert report.skipped.get("opted_out") == 1
    # running a finished campaign again sends nothing
    before = env.delivered
    assert (await make_worker(env).run(campaign.id)).status == "done"
    assert env.delivered == before


async def test_campaign_runs_from_the_job_scheduler(wechat_env):
    from bot.jobs.scheduler import JobScheduler

    env = wechat_env
    env.clock.set(datetime(2026, 11, 28, 23, 0, tzinfo=SHANGHAI))
    users = await generate_users(env, 40, seed=5)
    campaign = await CampaignStore(env.redis, env.settings, env.clock).create(
        COHORT, Segment(eligible_only=False), "开营啦"
    )
    scheduler = JobScheduler(env.redis, env.settings)
    register_campaign_jobs(scheduler, make_worker(env))
    assert await start_campaign(scheduler, campaign.id, env.clock())
    await scheduler.run_due(env.clock())
    assert env.delivered == 0  # quiet hours: rescheduled for 08:00
    pending = await scheduler.pending()
    assert [j.due_at for j in pending] == [datetime(2026, 11, 29, 8, 0, tzinfo=SHANGHAI)]
    env.clock.set(datetime(2026, 11, 29, 8, 0, 5, tzinfo=SHANGHAI))
    await scheduler.run_due(env.clock())
    expected = {o for o, p in users.items() if not p["opted_out"] and p["window"]}
    counts = await env.counts_for(list(users))
    assert {o for o, n in counts.items() if n} == expected


async def test_a_paused_campaign_continues_on_the_workers_clock(wechat_env):
    """The continuation of a time-sliced run is due at the worker's "now", not the machine's."""
    from bot.jobs.scheduler import JobScheduler

    env = wechat_env
    env.clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI))
    await generate_users(env, 120, seed=6)
    campaign = await CampaignStore(env.redis, env.settings, env.clock).create(
        COHORT, Segment(eligible_only=False), "开营啦"
    )
    scheduler = JobScheduler(env.redis, env.settings)
    register_campaign_jobs(scheduler, make_worker(env), slice_s=0.0)
    assert await start_campaign(scheduler, campaign.id, env.clock())
    await scheduler.run_due(env.clock())
    pending = await scheduler.pending()
    assert [j.due_at for j in pending] == [env.clock()]  # paused after preparing, resumed "now"


async def test_cancelled_campaign_stops_after_the_batch_in_flight_and_stays_stopped(wechat_env):
    from bot.jobs.scheduler import JobScheduler

    env = wechat_env
    users = await generate_users(env, 400, seed=9)
    store = CampaignStore(env.redis, env.settings, env.clock)
    campaign = await store.create(COHORT, Segment(eligible_only=False), "开营啦", template_id="TPL")
    cancelling = []
    env.on_delivery = lambda n: cancelling.append(asyncio.ensure_future(store.cancel(campaign.id, "zhang"))) if n == 10 else None
    outcome = await make_worker(env, batch_size=50).run(campaign.id)  # several batches for 400 users
    assert outcome.status == "cancelled"
    assert await cancelling[0] is True
    assert 10 <= env.delivered <= 50  # the first batch finished, no further batch started
    report = await store.report(campaign.id)
    assert report.status == "cancelled" and report.sent == env.delivered and report.pending > 0
    assert report.failed == {}  # nothing left claimed half-way

    # neither a new worker nor the job runner sends more; cancelling again says no
    env.on_delivery = None
    before = env.delivered
    assert (await make_worker(env).run(campaign.id)).status == "cancelled"
    scheduler = JobScheduler(env.redis, env.settings)
    register_campaign_jobs(scheduler, make_worker(env))
    assert await start_campaign(scheduler, campaign.id, env.clock())
    await scheduler.run_due(env.clock())
    assert env.delivered == before and await scheduler.pending() == []
    assert await store.cancel(campaign.id) is False
    assert len([o for o, n in (await env.counts_for(list(users))).items() if n]) == before


async def test_cancel_before_start_sends_nothing_and_a_finished_campaign_cannot_be_cancelled(wechat_env):
    env = wechat_env
    await generate_users(env, 30, seed=4)
    store = CampaignStore(env.redis, env.settings, env.clock)
    first = await store.create(COHORT, Segment(eligible_only=False), "开营啦")
    assert await store.cancel(first.id, "zhang") is True
    assert (await make_worker(env).run(first.id)).status == "cancelled"
    assert env.delivered == 0 and (await store.report(first.id)).audience == 0  # never prepared
    second = await store.create(COHORT, Segment(eligible_only=False), "开营啦")
    assert (await make_worker(env).run(second.id)).status == "done"
    assert await store.cancel(second.id) is False
    assert (await store.report(second.id)).status == "done"
    with pytest.raises(KeyError):
        await store.cancel("no-such-campaign")


async def test_a_closed_cohort_cannot_be_pushed(wechat_env):
    from bot.jobs.scheduler import JobScheduler

    env = wechat_env
    catalogue = load_catalogue(env.settings.camp_cohorts_file, env.clock().date())
    cohort = catalogue.get(COHORT)
    store = CampaignStore(env.redis, env.settings, env.clock)
    scheduler = JobScheduler(env.redis, env.settings)
    env.clock.set(datetime.combine(cohort.enroll_deadline, datetime.min.time(), SHANGHAI) + timedelta(days=1))
    with pytest.raises(ValueError, match="报名已于 .* 截止"):
        await define_campaign(store, scheduler, catalogue, cohort_id=COHORT, segment=Segment(), message="开营啦")
    assert await store.ids() == [] and await scheduler.pending() == []
    env.clock.set(datetime.combine(cohort.enroll_deadline, datetime.max.time(), SHANGHAI))  # its last day
    campaign = await define_campaign(store, scheduler, catalogue, cohort_id=COHORT, segment=Segment(), message="开营啦")
    assert await store.ids() == [campaign.id]
