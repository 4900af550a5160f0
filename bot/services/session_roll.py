"""The daily roll-forward that keeps the coming weeks of workshops and expert consultations bookable.

Slots are generated from weekly patterns (`data/workshops.yml`, each expert's `patterns`) for the
coming weeks counted from the moment they are generated. Generating them only at start-up would
leave a gateway that runs for months with nothing to book after four weeks, so a job of kind
`session_roll` does it again every day at `RUN_AT` Beijing time (a quiet hour) and schedules the
next day's run.

Safe to run any number of times, from any number of gateways: slot ids are deterministic
(`slot_id_for`: workshop and Beijing start) and a slot is only created when its id is missing
(`WorkshopCatalogue.add_slot_if_missing`), so staff edits (capacity, cancellation) and booked
slots are never touched; past slots stay as the attendance record. The job id names the day it
runs for (`session_roll:<YYYYMMDD>`), so a start-up, a retried job and a second gateway schedule
the next run once. No Redis keys of its own: it calls the catalogue, the expert store and the
scheduler.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.clock import SHANGHAI, Clock, system_clock
from bot.services.experts.store import ExpertStore
from bot.services.workshops import DEFAULT_CATALOGUE, WorkshopCatalogue

logger = logging.getLogger(__name__)

JOB_KIND = "session_roll"
RUN_AT = time(3, 0)  # Beijing time: nobody books at 03:00, and the day's new slots exist by morning


@dataclass(frozen=True)
class RollResult:
    workshop_slots: int  # created by this run
    expert_slots: int


def job_id_for(run_at: datetime) -> str:
    return f"{JOB_KIND}:{run_at.astimezone(SHANGHAI):%Y%m%d}"


def next_run(now: datetime) -> datetime:
    """The first `RUN_AT` (Beijing) strictly after `now`: a run at 03:00 schedules tomorrow's."""
    local = now.astimezone(SHANGHAI)
    candidate = datetime.combine(local.date(), RUN_AT, SHANGHAI)
    return candidate if candidate > local else candidate + timedelta(days=1)


class SessionRoller:
    """Extends the workshop catalogue and the experts' consultations; the `session_roll` job."""

    def __init__(
        self,
        catalogue: WorkshopCatalogue,
        experts: ExpertStore,
        clock: Clock = system_clock,
        path: Path = DEFAULT_CATALOGUE,
    ) -> None:
        self._catalogue = catalogue
        self._experts = experts
        self._clock = clock
        self._path = path

    async def roll(self) -> RollResult:
        """Create the missing slots of the coming weeks (the file's patterns, every expert's)."""
        workshops = await self._catalogue.sync_from_file(self._path)
        experts = await self._experts.sync_sessions(self._catalogue)
        return RollResult(workshops.slots_created, experts)

    async def schedule_next(self, scheduler: Any) -> bool:
        """Schedule the next daily run; False when it is already scheduled (or has run)."""
        due = next_run(self._clock())
        return await scheduler.schedule(job_id_for(due), JOB_KIND, {}, due)

    def register(self, scheduler: Any) -> None:
        async def handle(job: Any) -> None:
            # tomorrow's run first: a roll that fails for good must not end the daily chain
            await self.schedule_next(scheduler)
            result = await self.roll()
            logger.info(
                "session roll %s: %d workshop slots and %d expert consultation slots created",
                job.id, result.workshop_slots, result.expert_slots,
            )

        # idempotent: a rerun creates no slot twice and schedules the same next job id
        scheduler.register(JOB_KIND, handle, idempotent=True)
