"""The service objects of one gateway process, built once and shared by every feature.

One WeChat client, one 48-hour window, one PushService (the Notifier), one job scheduler, one
HandoffService (the conversation gate and the console share it);
features get these instead of building their own. `start_background` runs the scheduler loop
(reminders, workshop and camp waitlist promotions, campaigns, deferred pushes, the daily session
roll) inside the gateway.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

import aiohttp
import redis.asyncio as aioredis

# Imported for its side effect too: it registers the assessment's personal-data family, so an
# unsubscribe handled by this process deletes the user's assessment progress.
import bot.services.assessment  # noqa: F401
from bot.clock import Clock, system_clock
from bot.jobs.scheduler import JobScheduler
from bot.services.booking.service import BookingService
from bot.services.camp import EnrollmentStore, load_catalogue
from bot.services.camp_notices import CampPromotionNotices
from bot.services.campaigns.jobs import register_campaign_jobs
from bot.services.campaigns.worker import CampaignWorker
from bot.services.courses import CourseService
from bot.services.experts.files import load_sample_if_empty as load_sample_experts_if_empty
from bot.services.experts.store import ExpertStore
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.service import HandoffService
from bot.services.job_fairs.files import load_sample_if_empty as load_sample_fairs_if_empty
from bot.services.job_fairs.store import JobFairStore
from bot.services.monthly_stats import MonthlyStats
from bot.services.points.files import load_sample_if_empty
from bot.services.points.store import ServicePointStore
from bot.services.profiles import ProfileStore
from bot.services.push import PushService
from bot.services.satisfaction import SatisfactionService
from bot.services.session_roll import SessionRoller
from bot.services.workshops import WorkshopCatalogue
from bot.settings import Settings
from bot.gateway.wechat.api_client import WeChatClient
from bot.gateway.wechat.window import CustomerServiceWindow

logger = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    redis: aioredis.Redis
    clock: Clock
    wechat: WeChatClient
    window: CustomerServiceWindow
    push: PushService
    scheduler: JobScheduler
    profiles: ProfileStore
    points: ServicePointStore
    job_fairs: JobFairStore
    catalogue: WorkshopCatalogue
    booking: BookingService
    courses: CourseService
    campaigns: CampaignWorker
    enrolments: EnrollmentStore
    handoff: HandoffService
    satisfaction: SatisfactionService
    experts: ExpertStore
    session_roll: SessionRoller


def build_services(
    settings: Settings,
    redis: aioredis.Redis,
    session: aiohttp.ClientSession,
    clock: Clock = system_clock,
    handoff_config: Optional[HandoffConfig] = None,
) -> Services:
    wechat = WeChatClient(settings, redis, session)
    window = CustomerServiceWindow(redis, settings, clock)
    scheduler = JobScheduler(redis, settings)
    push = PushService(redis, settings, wechat, window, clock, scheduler=scheduler)
    catalogue = WorkshopCatalogue(redis, settings, clock)
    booking = BookingService(
        redis, settings, catalogue=catalogue, scheduler=scheduler, notifier=push, clock=clock,
        cancel_cutoff=timedelta(hours=settings.booking_cancel_cutoff_hours),  # as the actions' service
    )
    enrolments = EnrollmentStore(redis, settings, clock, scheduler=scheduler)
    experts = ExpertStore(redis, settings, clock)
    services = Services(
        settings=settings,
        redis=redis,
        clock=clock,
        wechat=wechat,
        window=window,
        push=push,
        scheduler=scheduler,
        profiles=ProfileStore(redis, settings),
        points=ServicePointStore(redis, settings, clock),
        job_fairs=JobFairStore(redis, settings, clock),
        catalogue=catalogue,
        booking=booking,
        courses=CourseService(redis, settings, clock=clock, notifier=push),
        campaigns=CampaignWorker(redis, settings, push, clock, enrolments=enrolments),
        enrolments=enrolments,
        handoff=HandoffService(
            redis, settings, clock, handoff_config or HandoffConfig.from_settings(settings), scheduler
        ),
        satisfaction=SatisfactionService(
            redis, settings, clock, notifier=push, stats=MonthlyStats(redis, settings, clock),
            retry_at=push.next_send_time,
        ),
        experts=experts,
        session_roll=SessionRoller(catalogue, experts, clock),
    )
    services.handoff.register_jobs(scheduler)
    booking.register_jobs(scheduler)
    push.register_jobs(scheduler)
    services.satisfaction.register_jobs(scheduler)
    register_campaign_jobs(scheduler, services.campaigns)
    services.session_roll.register(scheduler)
    CampPromotionNotices(
        enrolments, push, lambda: load_catalogue(settings.camp_cohorts_file, clock().date())
    ).register(scheduler)
    return services


async def load_reference_data(services: Services) -> None:
    """Put the shipped catalogues into Redis where they are missing (staff edits survive)."""
    points = await load_sample_if_empty(services.points)
    fairs = await load_sample_fairs_if_empty(services.job_fairs)
    experts = await load_sample_experts_if_empty(services.experts)
    # the coming weeks' workshop and expert slots now, then every day at 03:00 (session_roll job)
    rolled = await services.session_roll.roll()
    await services.session_roll.schedule_next(services.scheduler)
    logger.info(
        "reference data: %d sample service points, %d sample job fairs and %d sample experts imported;"
        " %d workshop slots and %d expert consultation slots created",
        points,
        fairs,
        experts,
        rolled.workshop_slots,
        rolled.expert_slots,
    )


async def run_background(services: Services, stop: asyncio.Event, interval_s: float = 5.0) -> None:
    """The job runner of this process (several gateway processes may run one each)."""
    await services.scheduler.run_forever(services.clock, interval=interval_s, stop=stop)
