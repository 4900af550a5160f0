"""The notice to a waitlisted camp applicant who was given a freed seat.

`EnrollmentStore.cancel` queues a `camp_promoted` job in the same Lua script as the promotion;
the gateway's job runner (handler registered by `bot.gateway.runtime.build_services`) sends it through
the `Notifier` with the job id as `dedupe_key`, so a re-run never sends twice.
"""
from __future__ import annotations

import logging
from typing import Callable, Tuple

from bot.jobs.scheduler import Job, JobScheduler
from bot.services.camp import CampCatalogue, Cohort, EnrollmentStore, fmt_date
from bot.services.camp_scripts import PROMOTED_KIND
from bot.services.notify import Notifier, TemplateMessage

logger = logging.getLogger(__name__)

PROMOTED_TEMPLATE_ID = "camp_promoted"  # mapped to a real template id by PushService config


def promotion_notice(cohort: Cohort, code: str) -> Tuple[str, TemplateMessage]:
    """The text (customer-service message) and the template fallback for a closed window."""
    when = f"{fmt_date(cohort.start)}–{fmt_date(cohort.end)}"
    place = "线上" if cohort.online else cohort.venue
    text = (
        f"【候补成功】有人取消了报名，您已自动补上“{cohort.title}”：\n"
        f"时间：{when}，{cohort.schedule}\n地点：{place}\n"
        f"报名编号：{code}\n咨询电话：{cohort.contact}\n"
        "如不能参加，请回复“取消报名”把名额留给其他人。"
    )
    template = TemplateMessage(
        PROMOTED_TEMPLATE_ID, {"title": cohort.title, "time": when, "place": place, "code": code}
    )
    return text, template


class CampPromotionNotices:
    """Sends the `camp_promoted` jobs; `catalogue()` gives the cohorts as of now."""

    def __init__(
        self, store: EnrollmentStore, notifier: Notifier, catalogue: Callable[[], CampCatalogue]
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._catalogue = catalogue

    def register(self, scheduler: JobScheduler) -> None:
        # Idempotent: the Notifier dedupes by job id, so a re-run after a crash cannot double-send.
        scheduler.register(PROMOTED_KIND, self.send, idempotent=True)

    async def send(self, job: Job) -> None:
        cohort_id, code = job.payload["cohort"], job.payload["code"]
        record = await self._store.record(cohort_id, code)
        if record is None or record.get("status") != "enrolled":
            return  # cancelled meanwhile (normally the job is cancelled with it)
        cohort = self._catalogue().get(cohort_id)
        if cohort is None:
            logger.warning("camp promotion notice %s: cohort %s is no longer listed", job.id, cohort_id)
            return
        text, template = promotion_notice(cohort, code)
        await self._notifier.notify(
            record["openid"], text, kind=PROMOTED_KIND, template=template, dedupe_key=job.id
        )
