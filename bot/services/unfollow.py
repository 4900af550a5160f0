"""What unfollowing the account (WeChat's `unsubscribe` event) takes back from the services.

The per-OpenID keys registered with `profiles.register_personal_key` are deleted by the
gateway; this runs first, because some of those keys say where else the user is listed:
- workshop slot waitlists (with name and phone) and camp cohort waitlists: a later promotion
  would otherwise book someone who has left and schedule notices for them;
- reminders and promotion notices of the user's future bookings, a camp promotion notice not
  yet sent (`EnrollmentStore.leave_waitlists`), and deferred notices.
Confirmed bookings and camp enrolments themselves are kept (README "Personal data").
"""
from __future__ import annotations

import logging
from typing import Dict, Protocol

from bot.services.booking.service import BookingService
from bot.services.camp import CampCatalogue, EnrollmentStore
from bot.services.push import PushService

logger = logging.getLogger(__name__)


class UnfollowServices(Protocol):
    booking: BookingService
    enrolments: EnrollmentStore
    push: PushService


async def leave_services(services: UnfollowServices, cohorts: CampCatalogue, openid: str) -> Dict[str, int]:
    """Remove the user from every waitlist and cancel their future notices; returns counts."""
    booking = await services.booking.forget_user(openid)
    camp = await services.enrolments.leave_waitlists(openid, [c.id for c in cohorts.cohorts])
    deferred = await services.push.cancel_deferred(openid)
    counts = {
        "slot_waitlists": int(booking.get("waitlists") or 0),
        "booking_notices": int(booking.get("silenced") or 0),
        "camp_waitlists": camp,
        "deferred_notices": deferred,
    }
    logger.info("unfollow: left services %s", counts)
    return counts
