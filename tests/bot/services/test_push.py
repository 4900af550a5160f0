"""PushService against the fake WeChat API over HTTP, with the real 48-hour window on real Redis."""
from __future__ import annotations

import time
from datetime import datetime

import pytest

from bot.clock import SHANGHAI
from bot.services.notify import Notifier, TemplateMessage
from bot.services.push import PushConfig, PushService
from bot.services.profiles import ProfileStore
from bot.settings import load_settings

TPL = TemplateMessage("TPL_CAMP", {"first": "实训营开始报名", "keyword1": "济南第12期"})


def make(env, **config) -> PushService:
    base = dict(rate_per_s=1000.0, burst=1000, backoff_base_s=0.01)
    base.update(config)
    return PushService(env.redis, env.settings, env.client, env.window, env.clock, config=PushConfig(**base))


async def test_is_a_notifier(wechat_env):
    push: Notifier = make(wechat_env)
    assert callable(push.notify)


async def test_inside_window_customer_service_and_quota_consumed(wechat_env):
    env = wechat_env
    push = make(env)
    await env.window.record_user_message("u1")
    before = await env.window.remaining("u1")
    result = await push.notify("u1", "济南第12期开始报名啦", kind="camp_push", template=TPL)
    assert (result.status, result.channel) == ("sent", "customer_service")
    assert await env.window.remaining("u1") == before - 1
    sent = await env.sent_to("u1")
    assert [m["msgtype"] for m in sent] == ["text"]
    assert "济南第12期" in sent[0]["raw"] and "\\u" not in sent[0]["raw"]


async def test_outside_window_template_only_when_allowed(wechat_env):
    env = wechat_env
    push = make(env)
    no_tpl = await push.notify("u2", "hi", kind="camp_push")
    assert (no_tpl.status, no_tpl.reason) == ("skipped", "window_closed")
    not_allowed = await push.notify("u2", "hi", kind="camp_push", template=TPL)
    assert (not_allowed.status, not_allowed.reason) == ("skipped", "window_closed_template_not_allowed")
    assert await env.sent_to("u2") == []
    await push.preferences.set_template_allowed("u2", True)
    ok = await push.notify("u2", "hi", kind="camp_push", template=TPL)
    assert (ok.status, ok.channel) == ("sent", "template")
    sent = await env.sent_to("u2")
    assert len(sent) == 1 and sent[0]["payload"]["template_id"] == "TPL_CAMP"


async def test_quota_exhausted_after_five(wechat_env):
    env = wechat_env
    push = make(env)
    await env.window.record_user_message("u3")
    results = [await push.notify("u3", f"m{i}", kind="camp_push") for i in range(7)]
    assert [r.status for r in results] == ["sent"] * 5 + ["skipped"] * 2
    assert results[-1].reason == "quota_exhausted"
    assert len(await env.sent_to("u3")) == 5


@pytest.mark.parametrize("hour,minute,status", [(21, 59, "sent"), (22, 0, "deferred"), (3, 0, "deferred"), (7, 59, "deferred"), (8, 0, "sent")])
async def test_quiet_hours(wechat_env, hour, minute, status):
    env = wechat_env
    env.clock.set(datetime(2026, 11, 28, hour, minute, tzinfo=SHANGHAI))
    push = make(env)
    await env.window.record_user_message("u4")
    result = await push.notify("u4", "hi", kind="camp_push", dedupe_key="q1")
    assert result.status == status
    if status == "deferred":
        assert result.reason == "quiet_hours" and await env.sent_to("u4") == []
        assert push.next_send_time().hour == 8
        # deferred is not remembered: the same key is sent once the quiet hours are over
        env.clock.set(push.next_send_time())
        assert (await push.notify("u4", "hi", kind="camp_push", dedupe_key="q1")).status == "sent"
    # an answer the user is waiting for is never held back
    env.clock.set(datetime(2026, 11, 28, 23, 0, tzinfo=SHANGHAI))
    assert (await push.notify("u4", "您的回答", kind="reply")).status == "sent"


async def test_quiet_hours_configurable(wechat_env, monkeypatch):
    monkeypatch.setenv("PUSH_QUIET_HOURS", "12:00-13:30")
    config = PushConfig.from_settings(load_settings(), rate_per_s=1000.0, burst=1000)
    env = wechat_env
    env.clock.set(datetime(2026, 11, 28, 12, 45, tzinfo=SHANGHAI))
    push = PushService(env.redis, env.settings, env.client, env.window, env.clock, config=config)
    await env.window.record_user_message("u5")
    assert (await push.notify("u5", "hi", kind="camp_push")).status == "deferred"
    env.clock.set(datetime(2026, 11, 28, 23, 0, tzinfo=SHANGHAI))
    assert (await push.notify("u5", "hi", kind="camp_push")).status == "sent"


async def test_opt_out_respected_and_reversible(wechat_env):
    env = wechat_env
    push = make(env)
    await env.window.record_user_message("u6")
    await push.preferences.opt_out("u6")
    assert (await push.notify("u6", "promo", kind="camp_push")).reason == "opted_out"
    assert (await push.notify("u6", "明天9点的预约提醒", kind="reminder")).status == "sent"
    await push.preferences.opt_in("u6")
    assert (await push.notify("u6", "promo", kind="camp_push")).status == "sent"
    assert [m["payload"]["text"]["content"] for m in await env.sent_to("u6")] == ["明天9点的预约提醒", "promo"]


async def test_window_refusals_fall_back_to_template_without_retry(wechat_env):
    env = wechat_env
    push = make(env)
    for openid, code in (("u7", 45015), ("u8", 45047)):
        await env.window.record_user_message(openid)
        await push.preferences.set_template_allowed(openid, True)
        await env.control({"fail": {openid: code}})
        calls_before = (await env.stats()).get("custom", 0)
        result = await push.notify(openid, "hi", kind="camp_push", template=TPL)
        # the fake refuses every send to this user: one custom call, one template call, no storm
        assert (result.status, result.reason) == ("failed", f"wechat_{code}")
        assert (await env.stats()).get("custom", 0) == calls_before + 1
        allowed, why = await env.window.may_send(openid)
        assert not allowed  # WeChat's refusal closed our window record
        await env.control({"fail": {openid: 0}})
        again = await push.notify(openid, "hi", kind="camp_push", template=TPL)
        assert (again.status, again.channel) == ("sent", "template")
        assert (await env.stats()).get("custom", 0) == calls_before + 1  # no customer-service try


async def test_daily_api_limit_stops_calls_until_midnight(wechat_env):
    env = wechat_env
    push = make(env)
    for openid in ("a1", "a2", "a3"):
        await env.window.record_user_message(openid)
    await env.control({"fail_all": 45009})
    first = await push.notify("a1", "hi", kind="camp_push")
    assert (first.status, first.reason) == ("failed", "api_daily_limit")
    calls = (await env.stats()).get("custom", 0)
    assert calls == 1
    for openid in ("a2", "a3"):
        assert (await push.notify(openid, "hi", kind="camp_push")).reason == "api_daily_limit"
    assert (await env.stats()).get("custom", 0) == 1  # no further calls at all
    ttl = await env.redis.ttl(push.api_limited_key)
    assert 13 * 3600 < ttl <= 14 * 3600  # 10:00 → midnight


async def test_transient_errors_retried_with_backoff(wechat_env):
    env = wechat_env
    pauses = []

    async def fake_sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:  # WeChat recovers after two "system busy" answers
            await env.control({"fail": {"b1": 0}})

    push = PushService(
        env.redis, env.settings, env.client, env.window, env.clock,
        config=PushConfig(rate_per_s=1000.0, burst=1000, backoff_base_s=0.2, max_attempts=4),
        sleep=fake_sleep,
    )
    await env.window.record_user_message("b1")
    await env.control({"fail": {"b1": -1}})
    result = await push.notify("b1", "hi", kind="camp_push")
    assert result.status == "sent"
    assert (await env.stats())["custom"] == 3 and len(await env.sent_to("b1")) == 1
    assert 0.1 <= pauses[0] <= 0.3 and 0.2 <= pauses[1] <= 0.6  # exponential with jitter
    # exhausted retries: a bounded number of calls, then failed
    await env.window.record_user_message("b2")
    await env.control({"fail": {"b2": -1}})
    result = await push.notify("b2", "hi", kind="camp_push")
    assert (result.status, result.reason) == ("failed", "transient_error_retries_exhausted")
    assert (await env.stats())["custom"] == 3 + 4


async def test_dedupe_key_is_idempotent(wechat_env):
    env = wechat_env
    push = make(env)
    await env.window.record_user_message("d1")
    first = await push.notify("d1", "once", kind="reminder", dedupe_key="booking:42:reminder")
    second = await push.notify("d1", "once", kind="reminder", dedupe_key="booking:42:reminder")
    assert first == second and first.status == "sent"
    assert len(await env.sent_to("d1")) == 1


async def test_token_bucket_limits_the_rate(wechat_env):
    env = wechat_env
    push = make(env, rate_per_s=40.0, burst=5)
    openids = [f"r{i}" for i in range(45)]
    for openid in openids:
        await env.window.record_user_message(openid)
    started = time.monotonic()
    for openid in openids:
        assert (await push.notify(openid, "hi", kind="camp_push")).status == "sent"
    elapsed = time.monotonic() - started
    # 5 from the burst, 40 more at 40/s → at least ~1 s
    assert elapsed >= 0.9, elapsed


async def test_rate_limit_wait_is_bounded(wechat_env):
    env = wechat_env
    push = make(env, rate_per_s=0.01, burst=1, max_wait_s=0.2)
    for openid in ("t1", "t2"):
        await env.window.record_user_message(openid)
    assert (await push.notify("t1", "hi", kind="camp_push")).status == "sent"
    result = await push.notify("t2", "hi", kind="camp_push", dedupe_key="t2")
    assert (result.status, result.reason) == ("deferred", "rate_limited")
    assert await env.redis.get(env.settings.key("push", "dedupe", "t2")) is None


async def test_unsubscribe_deletes_push_preferences(wechat_env):
    env = wechat_env
    push = make(env)
    await push.preferences.opt_out("z1")
    profiles = ProfileStore(env.redis, env.settings)
    assert env.settings.key("push_pref", "z1") in profiles.personal_data_keys("z1")
    await profiles.delete_personal_data("z1")
    assert not await push.preferences.is_opted_out("z1")


async def test_a_deferred_notice_is_resent_by_the_scheduler_when_quiet_hours_end(wechat_env):
    from bot.jobs.scheduler import JobScheduler

    env = wechat_env
    env.clock.set(datetime(2026, 11, 28, 23, 30, tzinfo=SHANGHAI))
    scheduler = JobScheduler(env.redis, env.settings)
    push = make(env)
    push.register_jobs(scheduler)
    await env.window.record_user_message("u9")
    result = await push.notify("u9", "明天的直播课提醒", kind="course_push", dedupe_key="course:c1:u9")
    assert result.status == "deferred"
    # nothing is due during the quiet hours …
    env.clock.set(datetime(2026, 11, 29, 7, 59, tzinfo=SHANGHAI))
    assert (await scheduler.run_due(env.clock())).ran == 0
    assert await env.sent_to("u9") == []
    # … and at 08:00 the notice goes out exactly once, however often the runner passes
    env.clock.set(datetime(2026, 11, 29, 8, 0, 30, tzinfo=SHANGHAI))
    assert (await scheduler.run_due(env.clock())).ran == 1
    assert (await scheduler.run_due(env.clock())).ran == 0
    sent = await env.sent_to("u9")
    assert len(sent) == 1 and "直播课提醒" in sent[0]["raw"]


async def test_a_deferred_notice_job_id_does_not_name_the_user(wechat_env):
    """Job ids reach the scheduler's log lines; the dedupe key inside them holds the OpenID."""
    from bot.jobs.scheduler import JobScheduler

    env = wechat_env
    env.clock.set(datetime(2026, 11, 28, 23, 30, tzinfo=SHANGHAI))
    push = make(env)
    push.register_jobs(JobScheduler(env.redis, env.settings))
    await env.window.record_user_message("oSecretOpenid10")
    result = await push.notify("oSecretOpenid10", "提醒", kind="course_push", dedupe_key="course:c1:oSecretOpenid10")
    assert result.status == "deferred"
    job_ids = await env.redis.smembers(env.settings.key("push_retries", "oSecretOpenid10"))
    assert len(job_ids) == 1 and all("oSecretOpenid10" not in job_id for job_id in job_ids)
