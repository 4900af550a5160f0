"""Satisfaction ratings on real Redis: asked once per closed handoff or attended booking, through
the real PushService and the fake WeChat API (quiet hours, the 48-hour window), answers read from
phone-typed words, low ratings flagged with their city, every rating in the month's figures."""
from __future__ import annotations

from datetime import timedelta
from typing import List

import pytest

from bot.clock import FrozenClock
from bot.jobs.scheduler import JobScheduler
from bot.services.booking.service import BookingService
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.model import HandoffError
from bot.services.handoff.routing import UserPlace
from bot.services.handoff.service import HandoffService
from bot.services.monthly_stats import MonthlyStats, month_of
from bot.services.profiles import ProfileStore
from bot.services.push import PushConfig, PushService
from bot.services.rating_words import COMMENT_MAX_CHARS, parse_rating
from bot.services.satisfaction import (
    PENDING_FAMILY,
    REQUEST_TEXT,
    RatingInterceptor,
    SatisfactionService,
    Subject,
)
from bot.services.staff_scope import parse_scope
from bot.gateway.conversation import UserTurn
from tests.bot.services.booking_helpers import RecordingNotifier, add_slot
from tests.helpers.moments import upcoming

ALWAYS = HandoffConfig()


class Stack:
    """The services as the gateway wires them (bot/gateway/runtime.py), on a frozen clock."""

    def __init__(self, env) -> None:
        self.env, self.clock = env, env.clock
        self.scheduler = JobScheduler(env.redis, env.settings)
        self.push = PushService(
            env.redis, env.settings, env.client, env.window, env.clock,
            config=PushConfig(rate_per_s=1000.0, burst=1000), scheduler=self.scheduler,
        )
        self.push.register_jobs(self.scheduler)
        self.stats = MonthlyStats(env.redis, env.settings, env.clock)
        self.ratings = SatisfactionService(
            env.redis, env.settings, env.clock, notifier=self.push, stats=self.stats,
            retry_at=self.push.next_send_time,
        )
        self.ratings.register_jobs(self.scheduler)
        self.handoff = HandoffService(env.redis, env.settings, env.clock, ALWAYS, self.scheduler)

    async def closed_handoff(self, openid: str, city: str = "青岛市") -> str:
        await self.env.window.record_user_message(openid)
        item = await self.handoff.request(openid, first_message="转人工", place=UserPlace(city, "", "profile"))
        await self.handoff.claim(item.item_id, "li")
        await self.handoff.close(item.item_id, "li", "resolved")
        return item.item_id

    async def run_jobs(self) -> None:
        await self.scheduler.run_due(self.clock())

    async def texts_to(self, openid: str) -> List[str]:
        return [m["raw"] for m in await self.env.sent_to(openid)]

    async def say(self, openid: str, text: str):
        replies = await RatingInterceptor(self.ratings).intercept(UserTurn(openid, text))
        return None if replies is None else replies[0]


@pytest.fixture
def stack(wechat_env) -> Stack:
    wechat_env.clock.set(upcoming(3, 10))  # a Wednesday morning: outside quiet hours
    return Stack(wechat_env)


def asked(texts: List[str]) -> int:
    return sum(REQUEST_TEXT[:8] in text for text in texts)


async def test_one_request_per_closed_handoff_even_if_close_is_retried(stack):
    item_id = await stack.closed_handoff("u-once")
    with pytest.raises(HandoffError):  # a retried close: the item is closed already
        await stack.handoff.close(item_id, "li", "resolved")
    await stack.run_jobs()
    stack.clock.advance(seconds=60)
    await stack.run_jobs()
    assert asked(await stack.texts_to("u-once")) == 1
    assert (await stack.ratings.request_state("handoff", item_id))["status"] == "sent"
    report = await stack.stats.month(month_of(stack.clock()))
    assert report.by_city["青岛市"].count("rating_requested") == 1


async def test_a_handoff_the_user_cancelled_asks_nothing(stack):
    await stack.env.window.record_user_message("u-cancel")
    item = await stack.handoff.request("u-cancel", first_message="转人工")
    await stack.handoff.close(item.item_id, "", "user_cancelled")
    await stack.run_jobs()
    assert asked(await stack.texts_to("u-cancel")) == 0


async def test_quiet_hours_defer_the_request_until_morning(stack):
    stack.clock.set(upcoming(3, 22, 30))
    item_id = await stack.closed_handoff("u-night")
    await stack.run_jobs()
    assert await stack.texts_to("u-night") == []
    assert (await stack.ratings.request_state("handoff", item_id))["status"] == "deferred"
    assert await stack.ratings.pending("u-night") is None  # "5" at night is not taken as a rating
    stack.clock.set(upcoming(4, 8, 1, after=stack.clock().date() - timedelta(days=1)))
    for _ in range(3):  # the push retry and our own retry both run: still asked once
        await stack.run_jobs()
        stack.clock.advance(seconds=30)
    assert asked(await stack.texts_to("u-night")) == 1
    assert (await stack.ratings.request_state("handoff", item_id))["status"] == "sent"
    assert (await stack.ratings.pending("u-night")).ref == item_id


async def test_window_closed_skips_and_records_it(stack):
    item_id = await stack.closed_handoff("u-late")
    stack.clock.advance(hours=49)  # the job runner was down: the 48-hour window has closed
    await stack.run_jobs()
    assert await stack.texts_to("u-late") == []
    state = await stack.ratings.request_state("handoff", item_id)
    assert (state["status"], state["reason"]) == ("skipped", "window_closed")
    assert await stack.ratings.pending("u-late") is None
    report = await stack.stats.month(month_of(stack.clock()))
    assert report.by_city["青岛市"].count("rating_skipped") == 1


async def test_low_rating_with_comment_is_flagged_with_its_city_and_counted(stack):
    item_id = await stack.closed_handoff("u-low", city="青岛市")
    await stack.run_jobs()
    reply = await stack.say("u-low", "2 等太久了，回电请打13812345678")
    assert "2分" in reply and "抱歉" in reply
    assert await stack.ratings.pending("u-low") is None
    qingdao, jinan = parse_scope("青岛市"), parse_scope("济南市")
    [row] = await stack.ratings.flagged(lambda r: qingdao.covers(r["city"], r["district"]))
    assert (row["kind"], row["ref"], row["city"], row["target"], row["score"]) == ("handoff", item_id, "青岛市", "li", "2")
    assert "等太久了" in row["comment"] and "13812345678" not in row["comment"]
    assert "u-low" not in str(row)  # no OpenID in the rating record
    assert await stack.ratings.flagged(lambda r: jinan.covers(r["city"], r["district"])) == []
    figures = (await stack.stats.month(month_of(stack.clock()))).by_city["青岛市"]
    assert (figures.mean("rating"), figures.samples["rating"], figures.count("rating_low")) == (2.0, 1, 1)
    assert await stack.ratings.mark_reviewed(row["id"], "qd-boss")
    assert not await stack.ratings.mark_reviewed(row["id"], "other")
    assert (await stack.ratings.get(row["id"]))["reviewed_by"] == "qd-boss"


async def test_after_a_bare_low_score_the_next_message_is_the_comment(stack):
    await stack.closed_handoff("u-next")
    await stack.run_jobs()
    assert "有什么建议可以直接回复" in await stack.say("u-next", "不满意")
    assert await stack.say("u-next", "附近有招聘会吗？") is None  # a question still reaches the bot
    assert "已记下" in await stack.say("u-next", "老师回复太慢了" + "慢" * 500)
    [row] = await stack.ratings.flagged(lambda r: True)
    assert row["comment"].startswith("老师回复太慢了") and len(row["comment"]) == COMMENT_MAX_CHARS
    assert await stack.say("u-next", "还有一件事") is None  # the comment window closed


async def test_a_good_rating_is_not_flagged_and_a_second_answer_is_normal_chat(stack):
    await stack.closed_handoff("u-good", city="济南市")
    await stack.run_jobs()
    assert "5分" in await stack.say("u-good", "五星好评")
    assert await stack.say("u-good", "5") is None  # no request pending: "5" goes to the bot
    assert await stack.ratings.flagged(lambda r: True) == []
    figures = (await stack.stats.month(month_of(stack.clock()))).by_city["济南市"]
    assert figures.mean("rating") == 5.0 and figures.count("rating_low") == 0


async def test_normal_questions_pass_while_a_request_is_pending(stack):
    await stack.closed_handoff("u-ask")
    await stack.run_jobs()
    for text in ("附近的就业服务站", "5月份有招聘会吗", "3号能预约吗", "/find_service_point"):
        assert await stack.say("u-ask", text) is None
    assert await stack.ratings.pending("u-ask") is not None
    assert "4分" in await stack.say("u-ask", "4 老师很耐心")


async def test_no_request_pending_means_no_rating(stack):
    assert await stack.say("u-none", "5") is None
    assert await stack.say("u-none", "非常满意") is None


async def test_pending_request_is_personal_data(stack):
    await stack.closed_handoff("u-gone")
    await stack.run_jobs()
    profiles = ProfileStore(stack.env.redis, stack.env.settings)
    assert stack.env.settings.key(PENDING_FAMILY, "u-gone") in profiles.personal_data_keys("u-gone")
    await profiles.delete_personal_data("u-gone")
    assert await stack.ratings.pending("u-gone") is None


async def test_an_attended_booking_is_asked_once(stack):
    booking = BookingService(
        stack.env.redis, stack.env.settings, scheduler=stack.scheduler, notifier=RecordingNotifier(), clock=stack.clock,
    )
    await add_slot(booking.catalogue, "s-rate", stack.clock() + timedelta(days=1), 5)
    made = await booking.book("u-ws", "s-rate", "张三", "13800138000", "r-rate")
    await stack.env.window.record_user_message("u-ws")
    assert await booking.mark_attendance(made.code, attended=True, staff="li")
    assert await booking.mark_attendance(made.code, attended=False, staff="li")  # a correction …
    assert await booking.mark_attendance(made.code, attended=True, staff="li")  # … and back
    await stack.run_jobs()
    assert asked(await stack.texts_to("u-ws")) == 1
    subject = await stack.ratings.pending("u-ws")
    assert subject == Subject("workshop", made.code, "济南", "", "t-resume")


@pytest.mark.parametrize(
    "text, score, comment",
    [
        ("5", 5, ""), ("５", 5, ""), ("5分", 5, ""), ("五星", 5, ""), ("五颗星", 5, ""), ("给个五星好评", 5, ""),
        ("打4分吧", 4, ""), ("4 老师很耐心", 4, "老师很耐心"), ("3分，还行", 3, "还行"), ("两星", 2, ""),
        ("非常满意", 5, ""), ("很满意！谢谢老师", 5, "谢谢老师"), ("满意", 4, ""), ("一般般吧", 3, ""),
        ("不满意", 2, ""), ("非常不满意，态度差", 1, "态度差"), ("差评", 1, ""), ("1", 1, ""),
    ],
)
def test_ratings_are_read_from_phone_typing(text, score, comment):
    parsed = parse_rating(text)
    assert parsed is not None and (parsed.score, parsed.comment) == (score, comment)
    assert parsed.bare == (text in ("5", "５", "1"))


@pytest.mark.parametrize(
    "text",
    ["", "0", "6", "10", "55", "5月份有招聘会吗", "3号能预约吗", "5 个岗位在哪", "5分钟后再说", "满意度怎么查",
     "附近的就业服务站", "转人工", "一分钟都没等到", "谢谢"],
)
def test_junk_is_not_a_rating(text):
    assert parse_rating(text) is None


async def test_a_clock_in_another_month_counts_there(stack, redis, settings):
    """The figures land in the month of the rating, read back through `month()`."""
    later = FrozenClock(stack.clock() + timedelta(days=40))
    stats = MonthlyStats(redis, settings, later)
    service = SatisfactionService(redis, settings, later, stats=stats)
    assert await service.record(Subject("workshop", "ABC123", "烟台市"), parse_rating("4")) is not None
    assert await service.record(Subject("workshop", "ABC123", "烟台市"), parse_rating("1")) is None  # once
    figures = (await stats.month(month_of(later()))).by_city["烟台市"]
    assert (figures.mean("rating"), figures.samples["rating"]) == (4.0, 1)


async def test_after_other_chat_a_bare_number_is_left_to_the_bot(stack):
    """A bare "2" after the user moved on may pick from the bot's numbered list; "2分" still rates."""
    await stack.closed_handoff("u-list")
    await stack.run_jobs()
    assert await stack.say("u-list", "我想预约简历工作坊") is None
    assert await stack.say("u-list", "2") is None
    assert await stack.ratings.pending("u-list") is not None
    assert "2分" in await stack.say("u-list", "2分")


class RatedElsewhereFirst:
    """The service's Redis, where another message of the same user takes the rating (the request
    is deleted) right before this message writes its "moved on" mark."""

    def __init__(self, redis, pending_key: str) -> None:
        self._redis, self._pending_key = redis, pending_key

    def __getattr__(self, name: str):
        return getattr(self._redis, name)

    async def set(self, name: str, *args, **kwargs):
        if name == self._pending_key:
            await self._redis.delete(name)
        return await self._redis.set(name, *args, **kwargs)


async def test_moving_on_keeps_the_request_expiry_and_never_brings_a_taken_request_back(stack):
    redis, settings = stack.env.redis, stack.env.settings
    await stack.closed_handoff("u-mark")
    await stack.run_jobs()
    key = settings.key(PENDING_FAMILY, "u-mark")
    if int((await redis.info("server"))["redis_version"].split(".")[0]) >= 7:  # PEXPIRETIME is 7.0's
        expires = await redis.execute_command("PEXPIRETIME", key)
        assert await stack.say("u-mark", "附近有招聘会吗") is None
        assert await redis.execute_command("PEXPIRETIME", key) == expires  # the same instant, to the ms
    await stack.closed_handoff("u-race")
    await stack.run_jobs()
    racing_key = settings.key(PENDING_FAMILY, "u-race")
    stack.ratings._redis = RatedElsewhereFirst(redis, racing_key)
    assert await stack.say("u-race", "我想问问工作坊") is None
    assert not await redis.exists(racing_key)  # not revived without an expiry or with a new one
