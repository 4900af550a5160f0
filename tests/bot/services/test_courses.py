"""Courses: listing by day and topic, subscriptions, and notices through the real PushService."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import List, Tuple

import pytest

from bot.clock import SHANGHAI, FrozenClock
from bot.services.courses import CourseService, day_range, find_topic, load_catalogue
from bot.services.profiles import ProfileStore
from bot.services.push import PushConfig, PushService
from bot.gateway.wechat.window import CustomerServiceWindow

WEDNESDAY_10 = datetime(2026, 6, 3, 10, 0, tzinfo=SHANGHAI)  # a Wednesday morning


class RecordingWeChat:
    """Stands in for the WeChat API client: records what PushService sends."""

    def __init__(self) -> None:
        self.texts: List[Tuple[str, str]] = []
        self.templates: List[Tuple[str, str]] = []

    async def send_text(self, openid: str, text: str) -> dict:
        self.texts.append((openid, text))
        return {"errcode": 0}

    async def send_template(self, openid, template_id, data, url=None) -> dict:
        self.templates.append((openid, template_id))
        return {"errcode": 0}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(WEDNESDAY_10)


@pytest.fixture
async def push(redis, settings, clock):
    wechat = RecordingWeChat()
    window = CustomerServiceWindow(redis, settings, clock)
    service = PushService(redis, settings, wechat, window, clock, config=PushConfig())
    return service, wechat, window


def test_day_ranges(clock):
    now = clock()
    assert day_range("今天有什么直播", now).start.date() == now.date()
    assert day_range("明天的课", now).start.date() == now.date() + timedelta(days=1)
    week = day_range("这周的课", now)
    assert week.start.date() == now.date() and week.end.date() == datetime(2026, 6, 8).date()
    nxt = day_range("下周有什么课", now)
    assert nxt.start.date() == datetime(2026, 6, 8).date() and (nxt.end - nxt.start).days == 7
    assert day_range("周五的直播", now).start.date() == datetime(2026, 6, 5).date()
    assert day_range("下周三", now).start.date() == datetime(2026, 6, 10).date()
    assert day_range("面试的课", now) is None


def test_topics():
    assert find_topic("订阅面试的课") == "面试"
    assert find_topic("简历怎么写的课") == "简历"
    assert find_topic("有没有讲生涯规划的") == "职业规划"
    assert find_topic("今天有什么直播") is None


def test_catalogue_always_has_live_courses_today_and_this_week(clock):
    for moment in (WEDNESDAY_10, datetime(2026, 6, 7, 23, 30, tzinfo=SHANGHAI)):
        courses = load_catalogue(moment)
        today = [c for c in courses if c.kind == "live" and c.start.date() == moment.date()]
        assert len(today) >= 2
        assert {c.topic for c in courses} == {"简历", "面试", "职业规划", "创业", "技能"}


async def test_listing_by_day_and_topic(redis, settings, clock):
    service = CourseService(redis, settings, clock=clock)
    today = await service.list_courses(day=day_range("今天", clock()))
    assert today and all(c.start.date() == clock().date() and c.kind == "live" for c in today)
    assert [c.start for c in today] == sorted(c.start for c in today)
    tomorrow = await service.list_courses(day=day_range("明天", clock()))
    assert tomorrow and all(c.start.date() == clock().date() + timedelta(days=1) for c in tomorrow)
    interviews = await service.list_courses(topic="面试")
    assert interviews and all(c.topic == "面试" for c in interviews)
    # ended live courses are not offered without a day filter; recordings are
    assert all(c.kind == "recorded" or c.end > clock() for c in interviews)
    assert any(c.kind == "recorded" for c in interviews)
    clock.advance(hours=2, minutes=45)  # 12:45: the 12:30 noon class (30 min) is live now
    line = [c for c in await service.list_courses(day=day_range("今天", clock())) if c.start.hour == 12][0]
    assert "正在直播" in line.line(clock())


async def test_subscribe_and_new_course_notice(redis, settings, clock, push):
    pusher, wechat, window = push
    service = CourseService(redis, settings, clock=clock, notifier=pusher)
    for openid in ("oA", "oB", "oC"):
        await window.record_user_message(openid)  # each talked to us recently: window open
    assert await service.subscribe("oA", "面试") is True
    assert await service.subscribe("oA", "面试") is False
    await service.subscribe("oB", "面试")
    await service.subscribe("oC", "简历")
    await pusher.preferences.opt_out("oB")
    assert await service.subscriptions("oA") == ["面试"]

    course = {
        "id": "staff-interview-1",
        "title": "结构化面试答题思路",
        "expert": "周老师",
        "topic": "面试",
        "start": (clock() + timedelta(days=2)).replace(hour=19, minute=0),
        "link": "https://zhinan.example/courses/staff-interview-1",
    }
    outcome = await service.schedule_course(course)
    assert outcome.results["oA"].delivered
    assert outcome.results["oB"].status == "skipped" and outcome.results["oB"].reason == "opted_out"
    assert "oC" not in outcome.results  # other topic
    assert [o for o, _ in wechat.texts] == ["oA"]
    assert "结构化面试答题思路" in wechat.texts[0][1] and "我的订阅" in wechat.texts[0][1]
    # scheduling the same course again sends nothing new (dedupe per subscriber and course)
    await service.schedule_course(course)
    assert len(wechat.texts) == 1
    # the course is now in the listing
    listed = await service.list_courses(day=day_range("周五", clock()), topic="面试")
    assert "staff-interview-1" in [c.id for c in listed]


async def test_quiet_hours_defer_and_unsubscribe_stops_notices(redis, settings, clock, push):
    pusher, wechat, window = push
    service = CourseService(redis, settings, clock=clock, notifier=pusher)
    await window.record_user_message("oA")
    await service.subscribe("oA", "创业")
    clock.set(datetime(2026, 6, 3, 23, 0, tzinfo=SHANGHAI))
    base = {"title": "创业沙龙", "expert": "赵老师", "topic": "创业",
            "link": "https://zhinan.example/c/x"}
    late = await service.schedule_course({**base, "id": "late", "start": clock() + timedelta(days=1)})
    assert late.results["oA"].status == "deferred" and wechat.texts == []
    clock.set(datetime(2026, 6, 4, 9, 0, tzinfo=SHANGHAI))
    again = await service.schedule_course({**base, "id": "late", "start": clock() + timedelta(days=1)})
    assert again.results["oA"].delivered and len(wechat.texts) == 1

    assert await service.unsubscribe("oA", "创业") == ["创业"]
    later = await service.schedule_course({**base, "id": "later", "start": clock() + timedelta(days=2)})
    assert later.results == {} and len(wechat.texts) == 1


async def test_deleted_personal_data_means_no_notice(redis, settings, clock, push):
    pusher, wechat, window = push
    service = CourseService(redis, settings, clock=clock, notifier=pusher)
    await window.record_user_message("oGone")
    await service.subscribe("oGone", "技能")
    await ProfileStore(redis, settings).delete_personal_data("oGone")
    outcome = await service.schedule_course(
        {"id": "s1", "title": "焊工入门", "expert": "钱老师", "topic": "技能",
         "start": clock() + timedelta(days=1), "link": "https://zhinan.example/c/s1"}
    )
    assert outcome.results == {} and wechat.texts == []
    assert await redis.smembers(settings.key("courses", "subscribers", "技能")) == set()


async def test_schedule_rejects_bad_courses(redis, settings, clock):
    service = CourseService(redis, settings, clock=clock)
    base = {"title": "t", "expert": "e", "link": "https://x", "start": clock() + timedelta(days=1)}
    with pytest.raises(ValueError):
        await service.schedule_course({**base, "topic": "烹饪"})
    with pytest.raises(ValueError):
        await service.schedule_course({**base, "topic": "面试", "start": clock() - timedelta(days=1)})
