"""Everything a user holds on real Redis: workshop bookings, waitlist places and camp enrolments
listed together; a camp enrolment cancelled (waitlist promoted) unless its cohort has started."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from bot.clock import SHANGHAI, FrozenClock
from bot.services.booking.service import BookingService
from bot.services.camp import EnrollmentStore, load_catalogue
from bot.services.my_things import (
    BOOKING,
    BOOKING_WAIT,
    CAMP,
    Holding,
    camp_holdings,
    cancel_enrolment,
    find_holding,
    joined_cohort_ids,
    named_by_words,
    workshop_holdings,
)
from bot.services.workshops import WorkshopCatalogue
from bot.settings import DEFAULT_CAMP_COHORTS_FILE
from tests.bot.services.booking_helpers import T0, add_slot

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)


def catalogue_with(cohort_id: str, capacity: int):
    """The shipped sample as of NOW with one cohort's capacity changed (to fill it quickly)."""
    sample = load_catalogue(DEFAULT_CAMP_COHORTS_FILE, NOW.date())
    cohorts = [replace(c, capacity=capacity) if c.id == cohort_id else c for c in sample.cohorts]
    return replace(sample, cohorts=cohorts)


async def test_enrolments_and_waitlist_places_are_listed_and_named_by_code(redis, settings):
    store = EnrollmentStore(redis, settings, FrozenClock(NOW))
    catalogue = catalogue_with("wf-2027-01", 1)
    wf, jn = catalogue.get("wf-2027-01"), catalogue.get("jn-2026-12")
    await store.enroll("other", wf, {"phone": "13900000001"})
    waiting = await store.enroll("me", wf, {"phone": "13800000001"})
    enrolled = await store.enroll("me", jn, {"phone": "13800000001"})
    holdings = await camp_holdings(store, catalogue, "me", NOW.date())
    assert [h.scope for h in holdings] == ["jn-2026-12", "wf-2027-01"]  # soonest first
    assert all(h.kind == CAMP for h in holdings)
    assert "已报名" in holdings[0].line and enrolled.code in holdings[0].line
    assert "候补第1位" in holdings[1].line and waiting.code in holdings[1].line
    assert find_holding(holdings, f"取消{waiting.code.lower()}") is holdings[1]
    assert find_holding(holdings, f"X{waiting.code}9") is None  # not inside a longer word
    assert await joined_cohort_ids(store, "me", list(catalogue.cohorts)) == {"wf-2027-01", "jn-2026-12"}


async def test_cancel_promotes_the_waitlist_and_frees_the_cohort(redis, settings):
    store = EnrollmentStore(redis, settings, FrozenClock(NOW))
    catalogue = catalogue_with("wf-2027-01", 1)
    wf = catalogue.get("wf-2027-01")
    await store.enroll("me", wf, {"phone": "13800000001"})
    waiting = await store.enroll("other", wf, {"phone": "13900000001"})
    result = await cancel_enrolment(store, "me", wf, NOW.date())
    assert (result.status, result.promoted) == ("cancelled", waiting.code)
    assert (await store.find("other", wf.id))["status"] == "enrolled"
    assert await camp_holdings(store, catalogue, "me", NOW.date()) == []
    assert await joined_cohort_ids(store, "me", [wf]) == set()
    assert (await cancel_enrolment(store, "me", wf, NOW.date())).status == "not_found"


async def test_a_started_cohort_cannot_be_cancelled_by_the_user(redis, settings):
    store = EnrollmentStore(redis, settings, FrozenClock(NOW))
    catalogue = catalogue_with("wf-2027-01", 30)
    wf = catalogue.get("wf-2027-01")
    await store.enroll("me", wf, {"phone": "13800000001"})
    first_day = wf.start
    assert (await cancel_enrolment(store, "me", wf, first_day)).status == "started"
    assert (await store.find("me", wf.id))["status"] == "enrolled"
    # still listed while it runs (with the start said), gone once it has ended
    running = await camp_holdings(store, catalogue, "me", first_day)
    assert "开营" in running[0].line
    assert await camp_holdings(store, catalogue, "me", wf.end + timedelta(days=1)) == []


async def test_workshop_bookings_and_waitlist_places_are_listed(redis, settings):
    clock = FrozenClock(T0)
    service = BookingService(redis, settings, catalogue=WorkshopCatalogue(redis, settings, clock), clock=clock)
    booked = await add_slot(service.catalogue, "s-1", T0 + timedelta(days=2), 5)
    full = await add_slot(service.catalogue, "s-2", T0 + timedelta(days=3), 1)
    code = (await service.book("me", booked.id, "张三", "13800138000", "r1")).code
    await service.book("other", full.id, "李四", "13900139000", "r2")
    await service.join_waitlist("me", full.id, "张三", "13800138000")
    holdings = await workshop_holdings(service, "me")
    assert [(h.kind, h.scope) for h in holdings] == [(BOOKING, "s-1"), (BOOKING_WAIT, "s-2")]
    assert code in holdings[0].line and "候补第1位" in holdings[1].line
    assert find_holding(holdings, code.lower()) is holdings[0]


@pytest.mark.parametrize("typed", [
    "取消预约 {a} {b}", "{a}-{b}", "我的预约码是{a} {b}，临时有事去不了", "{lower}取消", "码：{a}　{b}",
    "取消ＴＳ９ＬＦＣ", "ｔｓ９－ｌｆｃ那个不去了",  # a Chinese keyboard in full-width mode
])
def test_a_code_is_found_as_people_type_it(typed):
    holding = Holding(BOOKING, "s-1", "TS9LFC", "line")
    text = typed.format(a="TS9", b="LFC", lower="ts9lfc")
    assert find_holding([holding], text) is holding


@pytest.mark.parametrize("typed", ["XTS9LFC", "TS9LFC7", "TS9 LF", "TS9    LFC"])
def test_a_code_inside_a_longer_word_or_cut_short_is_not_found(typed):
    assert find_holding([Holding(BOOKING, "s-1", "TS9LFC", "line")], typed) is None


def test_the_words_name_the_camp_or_a_workshop_topic():
    cohort = load_catalogue(DEFAULT_CAMP_COHORTS_FILE, NOW.date()).get("jn-2026-12")
    interview = Holding(BOOKING, "s-1", "TS9LFC", "line", topic="面试技巧")
    resume = Holding(BOOKING_WAIT, "s-2", "", "line", topic="简历指导")
    camp = Holding(CAMP, cohort.id, "JN12345678", "line", cohort)
    held = [interview, resume, camp]
    assert named_by_words(held, "取消实训营那个") == [camp]
    assert named_by_words(held, "济南那期训练营不去了") == [camp]
    assert named_by_words(held, "把面试那个讲座退了") == [interview]
    assert named_by_words(held, "改简历的候补不排了") == [resume]
    assert named_by_words(held, "取消预约") == []  # names nothing: the user picks from the list
    assert named_by_words([interview], "取消实训营") == []
