"""A camp cancellation that promotes a waitlisted applicant queues exactly one notice for them,
sent by the job runner (real Redis, a frozen clock and a recording notifier)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.clock import SHANGHAI, FrozenClock
from bot.jobs.scheduler import JobScheduler
from bot.services.camp import EnrollmentStore, load_catalogue
from bot.services.camp_notices import CampPromotionNotices, promotion_notice
from bot.services.camp_scripts import promoted_job_id
from bot.settings import DEFAULT_CAMP_COHORTS_FILE
from tests.bot.services.booking_helpers import RecordingNotifier

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
COHORT = "wf-2027-01"


def one_seat_catalogue():
    sample = load_catalogue(DEFAULT_CAMP_COHORTS_FILE, NOW.date())
    return replace(sample, cohorts=[replace(c, capacity=1) for c in sample.cohorts])


def camp(redis, settings):
    """The store, a job runner with the notice handler registered, and what it sent."""
    catalogue, notifier = one_seat_catalogue(), RecordingNotifier()
    store = EnrollmentStore(redis, settings, FrozenClock(NOW))
    scheduler = JobScheduler(redis, settings)
    notices = CampPromotionNotices(store, notifier, lambda: catalogue)
    notices.register(scheduler)
    return store, scheduler, notices, notifier, catalogue.get(COHORT)


async def test_promoted_applicant_gets_exactly_one_notice(redis, settings):
    store, scheduler, notices, notifier, cohort = camp(redis, settings)
    await store.enroll("me", cohort, {"phone": "13800000001"})
    waiting = await store.enroll("next", cohort, {"phone": "13900000001"})
    assert waiting.status == "waitlisted"

    assert await store.cancel("me", cohort.id) == waiting.code
    jobs = await scheduler.pending(NOW)
    assert [(j.kind, j.payload) for j in jobs] == [("camp_promoted", {"cohort": COHORT, "code": waiting.code})]
    assert (await scheduler.run_due(NOW)).done == [jobs[0].id]
    await notices.send(jobs[0])  # a re-run (runner died after sending) sends nothing more
    assert (await scheduler.run_due(NOW)).ran == 0

    sent = notifier.to("next")
    assert len(sent) == 1 and notifier.sent == sent
    text = sent[0]["text"]
    for part in ("候补成功", cohort.title, "1月", cohort.venue, cohort.contact, waiting.code, "取消报名"):
        assert part in text
    assert sent[0]["kind"] == "camp_promoted" and sent[0]["dedupe_key"] == jobs[0].id


async def test_no_promotion_queues_no_notice(redis, settings):
    store, scheduler, _, notifier, cohort = camp(redis, settings)
    await store.enroll("me", cohort, {"phone": "13800000001"})
    await store.cancel("me", cohort.id)  # nobody waiting
    await store.enroll("a", cohort, {"phone": "13800000002"})
    await store.enroll("b", cohort, {"phone": "13800000003"})
    await store.cancel("b", cohort.id)  # a waitlisted place frees no seat
    assert await scheduler.pending() == []
    assert (await scheduler.run_due(NOW)).ran == 0 and notifier.sent == []


async def test_promoted_applicant_who_unfollows_or_cancels_first_hears_nothing(redis, settings):
    store, scheduler, _, notifier, cohort = camp(redis, settings)
    await store.enroll("me", cohort, {"phone": "13800000001"})
    promoted = (await store.enroll("leaver", cohort, {"phone": "13900000001"})).code
    await store.cancel("me", cohort.id)
    notice = promoted_job_id(cohort.id, promoted)
    assert (await scheduler.get(notice)).state == "pending"
    assert await store.leave_waitlists("leaver", [cohort.id]) == 0  # unfollow: the seat is kept
    assert (await scheduler.get(notice)).state == "cancelled"
    assert (await store.find("leaver", cohort.id))["status"] == "enrolled"

    nxt = (await store.enroll("next", cohort, {"phone": "13700000001"})).code
    await store.cancel("leaver", cohort.id)  # promotes "next", who cancels before the notice runs
    await store.cancel("next", cohort.id)
    assert await scheduler.pending() == []
    assert (await scheduler.get(promoted_job_id(cohort.id, nxt))).state == "cancelled"
    assert (await scheduler.run_due(NOW)).ran == 0 and notifier.sent == []


def test_notice_fits_a_wechat_message_for_every_cohort():
    for cohort in one_seat_catalogue().cohorts:
        text, template = promotion_notice(cohort, "WF123456")
        assert len(text.encode("utf-8")) <= 2048
        assert template.template_id == "camp_promoted" and template.data["code"] == "WF123456"
