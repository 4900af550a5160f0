"""Workshop booking: book, list, cancel, waitlist, reminders and the staff side.

The one owner of the booking keys; a plain domain module (no Rasa, no HTTP). Every state
change runs one Lua script (`bot.services.booking.scripts`, which also documents the Redis
layout). Notices are *sent* later by the job scheduler's handlers (registered with
`register_jobs`), which call the `Notifier` with the job id as `dedupe_key`.

The per-user families (and `booking:req`) are registered as personal keys (deleted on
unsubscribe). The booking records themselves are the public service's attendance record and
are kept.
"""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence, Tuple

import redis.asyncio as aioredis

from bot.clock import Clock, system_clock
from bot.jobs.scheduler import Job, JobScheduler
from bot.redis_client import run_acknowledged
from bot.services.csv_safety import SafeCsvWriter
from bot.services.booking.formatting import CSV_HEADER, csv_row, promotion_notice, reminder_notice
from bot.services.booking.models import Booking, BookingResult, BookingView, CancelResult, SessionRow
from bot.services.booking.scripts import (
    BOOK_SCRIPT,
    CANCEL_SCRIPT,
    FILL_SCRIPT,
    FORGET_SCRIPT,
    JOIN_WAIT_SCRIPT,
    LEAVE_WAIT_SCRIPT,
    MARK_SCRIPT,
    PHONE_SCRIPT,
    PROMOTED_KIND,
    REMINDER_KIND,
)
from bot.services.notify import Notifier
from bot.services.profiles import register_personal_key
from bot.services.satisfaction import Subject, schedule_rating_request
from bot.services.monthly_stats import MonthlyStats, best_effort, place_label
from bot.services.workshops import Slot, Workshop, WorkshopCatalogue
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("booking", "booking_active", "booking_history", "booking_waiting")

for _family in ("booking_active", "booking_history", "booking_waiting", "booking:req"):
    register_personal_key(_family)


class BookingService:
    """Bookings for workshop slots. Construct one per process; it is cheap."""

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        *,
        catalogue: Optional[WorkshopCatalogue] = None,
        scheduler: Optional[JobScheduler] = None,
        notifier: Optional[Notifier] = None,
        clock: Clock = system_clock,
        max_active: int = 3,
        cancel_cutoff: timedelta = timedelta(hours=2),
        reminder_offsets: Sequence[Tuple[str, timedelta]] = (
            ("day", timedelta(days=1)),
            ("hour", timedelta(hours=1)),
        ),
        request_ttl: timedelta = timedelta(days=7),
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self.catalogue = catalogue or WorkshopCatalogue(redis, settings, clock)
        self.scheduler = scheduler or JobScheduler(redis, settings)
        self.notifier = notifier
        self.max_active = max_active
        self.cancel_cutoff = cancel_cutoff
        self._offsets = ",".join(f"{name}:{int(delta.total_seconds())}" for name, delta in reminder_offsets)
        self._request_ttl_s = int(request_ttl.total_seconds())
        self._book = redis.register_script(BOOK_SCRIPT)
        self._cancel = redis.register_script(CANCEL_SCRIPT)
        self._fill = redis.register_script(FILL_SCRIPT)
        self._join = redis.register_script(JOIN_WAIT_SCRIPT)
        self._leave = redis.register_script(LEAVE_WAIT_SCRIPT)
        self._mark = redis.register_script(MARK_SCRIPT)
        self._forget = redis.register_script(FORGET_SCRIPT)
        self._phone = redis.register_script(PHONE_SCRIPT)
        self.monthly = MonthlyStats(redis, settings, clock)

    # ---- keys ----------------------------------------------------------------------------
    def _k(self, *parts: str) -> str:
        return self._settings.key("booking", *parts)

    def record_key(self, code: str) -> str:
        return self._k("rec", code)

    def seats_key(self, slot_id: str) -> str:
        return self._k("seats", slot_id)

    def _common(self) -> List[str]:
        now = self._clock()
        return [
            self._k(""),
            self._settings.key("booking_active", ""),
            self._settings.key("booking_history", ""),
            self._settings.key("booking_waiting", ""),
            self.catalogue.slot_key(""),
            self.scheduler.due_key,
            self.scheduler.job_key(""),
            repr(now.timestamp()),
            now.isoformat(),
            str(self.max_active),
            self._offsets,
            str(self.scheduler.retention_s),
        ]

    async def _run(self, script, *extra: Any) -> Dict[str, Any]:
        # Every booking change the user or staff are told of; with REDIS_ACK_REPLICAS it is on a
        # replica before the answer. A failover replays it: `book` is idempotent by request id.
        raw = await run_acknowledged(self._redis, self._settings, script, [], [*self._common(), *extra])
        data = json.loads(raw)
        # cjson encodes an empty Lua table as {}: normalise list-valued fields.
        for name in ("promoted", "skipped"):
            if isinstance(data.get(name), dict):
                data[name] = []
        return data

    # ---- user side -----------------------------------------------------------------------
    async def book(
        self, openid: str, slot_id: str, name: str, phone: str, request_id: str = ""
    ) -> BookingResult:
        """Book a seat. Idempotent by `request_id` (same result, same code, for retries)."""
        data = await self._run(self._book, openid, slot_id, name, phone, request_id, self._request_ttl_s)
        if data["status"] == "confirmed" and not data.get("replay"):
            await self._count("booking_made", slot_id)
        return BookingResult(
            status=data["status"],
            code=data.get("code", ""),
            waiting=int(data.get("waiting") or 0),
            active=int(data.get("active") or 0),
        )

    async def join_waitlist(self, openid: str, slot_id: str, name: str, phone: str) -> BookingResult:
        data = await self._run(self._join, openid, slot_id, name, phone)
        return BookingResult(
            status=data["status"], code=data.get("code", ""), position=int(data.get("position") or 0)
        )

    async def leave_waitlist(self, openid: str, slot_id: str) -> bool:
        return bool(await self._leave(keys=[], args=[*self._common(), openid, slot_id]))

    async def forget_user(self, openid: str) -> Dict[str, Any]:
        """On unfollow, before the per-user keys go: leave every waitlist and cancel the notices
        of future bookings. The bookings stay (the organisers' record, README "Personal data")."""
        return await self._run(self._forget, openid)

    async def cancel(self, openid: str, code: str, *, by: str = "user") -> CancelResult:
        """Cancel the user's booking (refused within `cancel_cutoff` of the start); the freed
        seat goes to the first waiting user in the same script, and their notice is queued."""
        data = await self._run(
            self._cancel, openid, code.upper(), int(self.cancel_cutoff.total_seconds()), by
        )
        return await self._after_change(data)

    async def change_phone(self, openid: str, code: str, phone: str) -> bool:
        """The owner's own correction of the phone on a confirmed booking; False when the code is
        not theirs or the booking is no longer confirmed."""
        data = await self._run(self._phone, openid, code.upper(), phone)
        return data["status"] == "ok"

    async def _after_change(self, data: Dict[str, Any], slot_id: str = "") -> CancelResult:
        promoted = tuple((p[0], p[1]) for p in data.get("promoted") or [])
        slot_id = data.get("slot_id") or slot_id
        if data["status"] == "cancelled":
            await self._count("booking_cancelled", slot_id)
        if promoted:  # a waiting user got the seat: a booking made, in the same slot's city
            await self._count("booking_made", slot_id, len(promoted))
        # Send promotion notices now when this process can; otherwise the job runner will.
        if self.notifier is not None:
            for _, code in promoted:
                await self.scheduler.run_job(f"booking-promoted:{code}", self._clock())
        return CancelResult(status=data["status"], slot_id=data.get("slot_id", ""), promoted=promoted)

    async def _count(self, event: str, slot_id: str, amount: int = 1) -> None:
        """A monthly figure in the city of the slot's workshop; never fails the booking itself."""

        async def write() -> None:
            slot = await self.catalogue.get_slot(slot_id)
            workshop = await self.catalogue.get_workshop(slot.workshop_id) if slot else None
            await self.monthly.count(event, place_label(workshop.city if workshop else ""), amount)

        await best_effort(write(), event)

    async def get(self, code: str) -> Optional[Booking]:
        data = await self._redis.hgetall(self.record_key(code.upper()))
        return Booking.from_hash(data) if data else None

    async def _views(self, codes: Sequence[str]) -> List[BookingView]:
        bookings = [b for b in [await self.get(c) for c in codes] if b]
        slots = await self.catalogue.get_slots(sorted({b.slot_id for b in bookings}))
        views = []
        for booking in bookings:
            slot = slots.get(booking.slot_id)
            workshop = await self.catalogue.get_workshop(slot.workshop_id) if slot else None
            views.append(BookingView(booking, slot, workshop))
        return views

    async def my_bookings(self, openid: str) -> List[BookingView]:
        """The user's confirmed bookings that have not started yet, soonest first."""
        now = self._clock().timestamp()
        codes = await self._redis.zrangebyscore(
            self._settings.key("booking_active", openid), f"({now}", "+inf"
        )
        views = await self._views(codes)
        return [v for v in views if v.booking.status == "confirmed"]

    async def history(self, openid: str) -> List[BookingView]:
        codes = await self._redis.zrevrange(self._settings.key("booking_history", openid), 0, 49)
        return await self._views(codes)

    async def my_waitlists(self, openid: str) -> List[Tuple[Slot, int]]:
        """(slot, position) for each waitlist the user is on."""
        slot_ids = sorted(await self._redis.smembers(self._settings.key("booking_waiting", openid)))
        slots = await self.catalogue.get_slots(slot_ids)
        found = []
        for slot_id in slot_ids:
            rank = await self._redis.zrank(self._k("wait", slot_id), openid)
            if rank is not None and slot_id in slots:
                found.append((slots[slot_id], rank + 1))
        return found

    async def seats_taken(self, slot_id: str) -> int:
        return await self._redis.hlen(self.seats_key(slot_id))

    async def open_slots(
        self,
        topic: Optional[str] = None,
        start: Optional[datetime] = None,
        end: Optional[datetime] = None,
        city: Optional[str] = None,
        limit: int = 5,
        include_full: bool = False,
        workshop_id: Optional[str] = None,
    ) -> List[Tuple[Slot, Workshop, int]]:
        """(slot, workshop, seats left) for bookable slots, soonest first (`workshop_id`: one workshop's)."""
        candidates = await self.catalogue.find_slots(topic, start, end, city, limit=200, workshop_id=workshop_id)
        if not candidates:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for slot, _ in candidates:
                pipe.hlen(self.seats_key(slot.id))
            taken = await pipe.execute()
        found = []
        for (slot, workshop), used in zip(candidates, taken):
            left = max(slot.capacity - int(used), 0)
            if left > 0 or include_full:
                found.append((slot, workshop, left))
            if len(found) >= limit:
                break
        return found

    # ---- staff side ----------------------------------------------------------------------
    async def slot_bookings(self, slot_id: str) -> List[Booking]:
        """Every booking ever made for the slot (all statuses), in booking order."""
        codes = await self._redis.zrange(self._k("slotlog", slot_id), 0, -1)
        return [b for b in [await self.get(c) for c in codes] if b]

    async def sessions(self, start: datetime, end: datetime) -> List[SessionRow]:
        """The sessions (slots) starting in [start, end) with seats taken and waitlist length:
        the staff's check-in list (bot/gateway/console/sessions.py, bot/cli/sessions.py)."""
        found = await self.catalogue.slots_between(start, end)
        async with self._redis.pipeline(transaction=False) as pipe:
            for slot, _ in found:
                pipe.hlen(self.seats_key(slot.id))
                pipe.zcard(self._k("wait", slot.id))
            counts = await pipe.execute()
        return [
            SessionRow(slot, workshop, int(counts[2 * i]), int(counts[2 * i + 1]))
            for i, (slot, workshop) in enumerate(found)
        ]

    async def waitlist(self, slot_id: str) -> List[str]:
        return await self._redis.zrange(self._k("wait", slot_id), 0, -1)

    async def mark_attendance(self, code: str, attended: bool, staff: str = "") -> bool:
        """Mark a booking attended / no-show (a staff correction may flip it back)."""
        data = await self._run(self._mark, code.upper(), "attended" if attended else "no_show", staff)
        was_attended = data.get("previous") == "attended"
        if data["status"] == "ok" and attended != was_attended:  # a correction takes it back
            await self._count("booking_attended", data.get("slot_id") or "", 1 if attended else -1)
        if data["status"] == "ok" and attended:
            await self._ask_rating(code.upper())
        return data["status"] == "ok"

    async def _ask_rating(self, code: str) -> None:
        """Once per booking (the job id is the code's): a second mark or a correction asks nothing."""
        view = await self._view(code)
        if view is None or view.workshop is None:
            return
        subject = Subject("workshop", code, view.workshop.city, "", view.workshop.id)
        await schedule_rating_request(self.scheduler, view.booking.openid, subject, self._clock())

    async def staff_cancel(self, code: str, staff: str = "staff") -> CancelResult:
        """Cancel on the user's behalf (no cut-off); the waitlist is promoted as usual."""
        data = await self._run(self._cancel, "", code.upper(), 0, f"staff:{staff}")
        return await self._after_change(data)

    async def update_slot(self, slot: Slot) -> CancelResult:
        """Staff add/edit a slot; extra capacity is filled from the waitlist straight away."""
        await self.catalogue.upsert_slot(slot)
        data = await self._run(self._fill, slot.id)
        return await self._after_change(data, slot.id)

    async def export_csv(self, slot_ids: Sequence[str]) -> bytes:
        """Bookings of the given slots as CSV, UTF-8 with BOM (Excel opens it as Chinese)."""
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer)
        writer.writerow(CSV_HEADER)
        slots = await self.catalogue.get_slots(list(slot_ids))
        for slot_id in slot_ids:
            slot = slots.get(slot_id)
            workshop = await self.catalogue.get_workshop(slot.workshop_id) if slot else None
            for booking in await self.slot_bookings(slot_id):
                writer.writerow(csv_row(booking, slot_id, slot, workshop))
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    async def bookings_per_day(self, days: Sequence[str], scan_limit: int = 5000) -> Dict[str, Any]:
        """Bookings created on each of `days` (YYYY-MM-DD) and, for those, per city: the
        dashboard's figures. A bounded scan of the records, so very large deployments see a sample."""
        per_day = {d: 0 for d in days}
        per_city: Dict[str, int] = {}
        scanned = 0
        async for key in self._redis.scan_iter(self.record_key("*"), count=500):
            scanned += 1
            if scanned > scan_limit:
                break
            created, city = await self._redis.hmget(key, "created_at", "city")
            day = (created or "")[:10]
            if day in per_day:
                per_day[day] += 1
                per_city[city or "未知"] = per_city.get(city or "未知", 0) + 1
        return {"per_day": [per_day[d] for d in days], "per_city": per_city}

    # ---- notices (run by the job scheduler) --------------------------------------------------
    def register_jobs(self, scheduler: Optional[JobScheduler] = None) -> None:
        """Register the reminder and promotion handlers (needs a notifier)."""
        if self.notifier is None:
            raise RuntimeError("BookingService.register_jobs needs a notifier")
        target = scheduler or self.scheduler
        # Idempotent: the Notifier dedupes by job id, so a re-run after a crash cannot double-send.
        target.register(REMINDER_KIND, self._send_reminder, idempotent=True)
        target.register(PROMOTED_KIND, self._send_promotion, idempotent=True)

    async def _view(self, code: str) -> Optional[BookingView]:
        views = await self._views([code])
        return views[0] if views else None

    async def _send_reminder(self, job: Job) -> None:
        view = await self._view(job.payload["code"])
        if view is None or view.booking.status != "confirmed" or not view.slot or not view.workshop:
            return  # cancelled meanwhile (normally the job is cancelled with it)
        text, template = reminder_notice(view, job.payload.get("which"))
        await self.notifier.notify(  # type: ignore[union-attr]
            view.booking.openid, text, kind="reminder", template=template, dedupe_key=job.id
        )

    async def _send_promotion(self, job: Job) -> None:
        view = await self._view(job.payload["code"])
        if view is None or view.booking.status != "confirmed" or not view.slot or not view.workshop:
            return
        text, template = promotion_notice(view)
        await self.notifier.notify(  # type: ignore[union-attr]
            view.booking.openid, text, kind="booking_promoted", template=template, dedupe_key=job.id
        )
