"""Campaigns on the job scheduler: define and queue one (one path for CLI and console), run it."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Optional

from bot.services.camp import CampCatalogue
from bot.services.campaigns.store import Campaign, CampaignStore, Segment
from bot.services.campaigns.worker import CampaignWorker

JOB_KIND = "camp_campaign"


def register_campaign_jobs(scheduler: Any, worker: CampaignWorker, *, slice_s: float = 45.0) -> None:
    """Run campaigns from the job scheduler (`bot.jobs.scheduler.JobScheduler`).

    A job runs the worker for at most `slice_s` (under the scheduler's handler timeout), then
    schedules its own continuation: now when paused, at `resume_at` when deferred.
    """

    async def handle(job: Any) -> None:
        campaign_id = job.payload["campaign_id"]
        result = await worker.run(campaign_id, max_seconds=slice_s)
        if result.status in ("done", "cancelled"):
            return
        due = result.resume_at or worker.store.now()  # the worker's clock, not the machine's
        await scheduler.schedule(
            f"campaign:{campaign_id}:{due.timestamp():.0f}:{secrets.token_hex(2)}",
            JOB_KIND,
            {"campaign_id": campaign_id},
            due,
        )

    # idempotent: re-running a campaign job never double-sends (per-user claims)
    scheduler.register(JOB_KIND, handle, idempotent=True)


async def define_campaign(
    store: CampaignStore,
    scheduler: Any,
    catalogue: CampCatalogue,
    *,
    cohort_id: str,
    segment: Segment,
    message: str,
    template_id: str = "",
    created_by: str = "",
    when: Optional[datetime] = None,
) -> Campaign:
    """Define a campaign and queue it (the one path for the CLI and the console).

    Raises ValueError with a message staff can act on (unknown or closed cohort, empty or oversized
    message).
    """
    cohort = catalogue.get(cohort_id)
    if cohort is None:
        valid = ", ".join(cohort.id for cohort in catalogue.cohorts)
        raise ValueError(f"没有期次 unknown cohort {cohort_id!r}；可选 valid: {valid}")
    if not cohort.is_open(store.now().date()):
        # a push says "reply 报名 to enrol": everyone who answered would be turned away
        raise ValueError(
            f"该期次报名已于 {cohort.enroll_deadline:%Y-%m-%d} 截止，不能再推送 (enrolment closed): {cohort_id}"
        )
    campaign = await store.create(
        cohort_id, segment, message.strip(), template_id=template_id.strip(), created_by=created_by,
        catalogue=catalogue,
    )
    await start_campaign(scheduler, campaign.id, when or store.now())
    return campaign


async def start_campaign(scheduler: Any, campaign_id: str, when: datetime) -> bool:
    """Queue a campaign on the scheduler at `when` (idempotent per campaign)."""
    return await scheduler.schedule(f"campaign:{campaign_id}:start", JOB_KIND, {"campaign_id": campaign_id}, when)
