"""空中课堂: the course catalogue, topic subscriptions ("云上点餐") and notices for new courses.

The shipped catalogue (`data/courses.yml`) gives times relative to today, so the sample always
has something on today and this week. Staff add courses with `CourseService.schedule_course()`;
those live in Redis and every subscriber of the course's topic is told once through the
`Notifier` (the PushService applies window/quota, quiet hours and opt-out; the dedupe key
`course:<course id>:<openid>` makes a repeated schedule call harmless).

Keys: `course_sub:<openid>` (set of topics, personal data) and `courses:subscribers:<topic>`
(reverse index). The reverse index is cleaned lazily: a subscriber whose own set no longer
holds the topic (for example after an unsubscribe deleted the personal data) is dropped the
next time that topic is pushed, and never notified.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import redis.asyncio as aioredis
import yaml

from bot.clock import SHANGHAI, Clock, system_clock
from bot.services.notify import DeliveryResult, Notifier, TemplateMessage
from bot.services.profiles import register_personal_key
from bot.settings import PROJECT_ROOT, Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("course_sub", "courses")

CATALOGUE_PATH = PROJECT_ROOT / "data" / "courses.yml"
TOPICS = ("简历", "面试", "职业规划", "创业", "技能")
KINDS = ("live", "recorded")
NOTICE_KIND = "course_push"
# Template for when the 48-hour customer-service window is closed (id configured in the MP
# console; the PushService decides whether to use it).
COURSE_TEMPLATE_ID = "course_notice"

# Words that name a topic, longest first where they overlap.
TOPIC_ALIASES: Dict[str, Tuple[str, ...]] = {
    "职业规划": ("职业规划", "生涯规划", "职业生涯", "规划", "职业方向", "转型", "转行"),
    "简历": ("简历", "履历", "求职信", "cv"),
    "面试": ("面试", "群面", "无领导", "自我介绍", "笔试"),
    "创业": ("创业", "开店", "做生意", "当老板", "个体户"),
    "技能": ("技能", "职业技能", "技术", "培训", "证书", "电工", "直播带货", "手艺"),
}

register_personal_key("course_sub")

WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    expert: str
    topic: str
    kind: str  # live | recorded
    start: datetime  # live: when it starts; recorded: when it was published
    duration_min: int
    link: str
    audience: str

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.duration_min)

    def to_json(self) -> str:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> "Course":
        data = json.loads(raw)
        data["start"] = datetime.fromisoformat(data["start"])
        return cls(**data)

    def when(self) -> str:
        s = self.start
        return f"{s.month}月{s.day}日（周{WEEKDAYS[s.weekday()]}）{s:%H:%M}"

    def line(self, now: datetime) -> str:
        if self.kind == "recorded":
            status = "录播，随时可看"
        elif now >= self.end:
            status = f"{self.when()}，已结束，可看回放"
        elif now >= self.start:
            status = f"正在直播（{self.start:%H:%M}开始）"
        else:
            status = f"{self.when()}直播"
        return f"【{self.topic}】{self.title}｜{self.expert}｜{status}｜{self.link}"


def _validate(course: Course) -> Course:
    if course.topic not in TOPICS:
        raise ValueError(f"topic must be one of {TOPICS}, not {course.topic!r}")
    if course.kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {course.kind!r}")
    if not course.title or not course.link:
        raise ValueError("a course needs a title and a link")
    if course.start.tzinfo is None:
        raise ValueError("course start must be timezone-aware")
    return course


def load_catalogue(now: datetime, path: Path = CATALOGUE_PATH) -> List[Course]:
    """The shipped sample catalogue with its relative times resolved against `now`."""
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    today = now.astimezone(SHANGHAI).date()
    courses = []
    for item in raw["courses"]:
        hour, minute = (int(p) for p in str(item["at"]).split(":"))
        day = today + timedelta(days=int(item["day"]))
        start = datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)
        courses.append(
            _validate(
                Course(
                    id=str(item["id"]),
                    title=str(item["title"]),
                    expert=str(item["expert"]),
                    topic=str(item["topic"]),
                    kind=str(item["kind"]),
                    start=start,
                    duration_min=int(item["duration_min"]),
                    link=str(item["link"]),
                    audience=str(item["audience"]),
                )
            )
        )
    return courses


def find_topic(text: str) -> Optional[str]:
    """The course topic a message names, if any (earliest mention wins)."""
    t = (text or "").lower()
    best: Optional[Tuple[int, str]] = None
    for topic, aliases in TOPIC_ALIASES.items():
        for alias in aliases:
            pos = t.find(alias)
            if pos >= 0 and (best is None or pos < best[0]):
                best = (pos, topic)
    return best[1] if best else None


# --- day ranges ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayRange:
    label: str  # 今天 / 明天 / 本周 …
    start: datetime
    end: datetime  # exclusive


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=SHANGHAI)


def day_range(text: str, now: datetime) -> Optional[DayRange]:
    """A day filter from words like 今天/明天/后天/本周/这周/下周/周末/周三/最近; None if absent."""
    t = text or ""
    today = now.astimezone(SHANGHAI).date()
    monday = today - timedelta(days=today.weekday())
    if re.search(r"今天|今日|今晚|今儿|晚上|中午", t) and not re.search(r"明|后天", t):
        return DayRange("今天", _midnight(today), _midnight(today + timedelta(days=1)))
    if re.search(r"明天|明日|明晚", t):
        d = today + timedelta(days=1)
        return DayRange("明天", _midnight(d), _midnight(d + timedelta(days=1)))
    if "后天" in t:
        d = today + timedelta(days=2)
        return DayRange("后天", _midnight(d), _midnight(d + timedelta(days=1)))
    if re.search(r"下(个)?(周|星期|礼拜)(?![一二三四五六日天1-7])", t):
        start = monday + timedelta(days=7)
        return DayRange("下周", _midnight(start), _midnight(start + timedelta(days=7)))
    if re.search(r"周末|星期六日|礼拜六日", t):
        sat = monday + timedelta(days=5)
        return DayRange("本周末", _midnight(max(sat, today)), _midnight(monday + timedelta(days=7)))
    m = re.search(r"(下)?(?:个)?(?:周|星期|礼拜)([一二三四五六日天1-7])", t)
    if m:
        idx = "一二三四五六日".find(m.group(2)) if m.group(2) not in "天7" else 6
        if m.group(2).isdigit() and m.group(2) != "7":
            idx = int(m.group(2)) - 1
        d = monday + timedelta(days=idx + (7 if m.group(1) else 0))
        label = f"{'下' if m.group(1) else ''}周{WEEKDAYS[idx]}"
        return DayRange(label, _midnight(d), _midnight(d + timedelta(days=1)))
    if re.search(r"本周|这周|这星期|这个星期|本星期|这礼拜|这个礼拜|这一周|一周内", t):
        return DayRange("本周", _midnight(today), _midnight(monday + timedelta(days=7)))
    if re.search(r"最近|近期|接下来|近几天|这几天", t):
        return DayRange("近7天", _midnight(today), _midnight(today + timedelta(days=7)))
    return None


# --- the service -----------------------------------------------------------------------------


@dataclass
class ScheduleOutcome:
    course: Course
    results: Dict[str, DeliveryResult] = field(default_factory=dict)

    @property
    def notified(self) -> int:
        return sum(1 for r in self.results.values() if r.delivered)


class CourseService:
    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        notifier: Optional[Notifier] = None,
        catalogue_path: Path = CATALOGUE_PATH,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self._notifier = notifier
        self._catalogue_path = catalogue_path

    # keys
    def _sub_key(self, openid: str) -> str:
        return self._settings.key("course_sub", openid)

    def _topic_key(self, topic: str) -> str:
        return self._settings.key("courses", "subscribers", topic)

    def _scheduled_key(self) -> str:
        return self._settings.key("courses", "scheduled")

    # catalogue
    async def all_courses(self) -> List[Course]:
        courses = load_catalogue(self._clock(), self._catalogue_path)
        scheduled = await self._redis.hvals(self._scheduled_key())
        courses += [Course.from_json(raw) for raw in scheduled]
        return sorted(courses, key=lambda c: (c.start, c.id))

    async def list_courses(
        self,
        *,
        day: Optional[DayRange] = None,
        topic: Optional[str] = None,
        kind: Optional[str] = None,
        limit: int = 8,
    ) -> List[Course]:
        """Courses matching the filters.

        With a day range: live courses starting in it (a recorded course has no slot in the
        calendar). Without one: live courses not yet over, soonest first, then recorded ones,
        newest first.
        """
        now = self._clock()
        courses = await self.all_courses()
        if topic:
            courses = [c for c in courses if c.topic == topic]
        if kind:
            courses = [c for c in courses if c.kind == kind]
        if day is not None:
            picked = [c for c in courses if c.kind == "live" and day.start <= c.start < day.end]
        else:
            live = [c for c in courses if c.kind == "live" and c.end > now]
            recorded = sorted(
                (c for c in courses if c.kind == "recorded"), key=lambda c: c.start, reverse=True
            )
            picked = live + recorded
        return picked[:limit]

    # subscriptions
    async def subscribe(self, openid: str, topic: str) -> bool:
        """Subscribe to a topic; False when already subscribed."""
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._sub_key(openid), topic)
            pipe.sadd(self._topic_key(topic), openid)
            added, _ = await pipe.execute()
        return bool(added)

    async def unsubscribe(self, openid: str, topic: Optional[str] = None) -> List[str]:
        """Cancel one topic, or all of them when `topic` is None; returns the topics removed."""
        current = await self.subscriptions(openid)
        removed = [t for t in current if topic is None or t == topic]
        if removed:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.srem(self._sub_key(openid), *removed)
                for t in removed:
                    pipe.srem(self._topic_key(t), openid)
                await pipe.execute()
        return removed

    async def subscriptions(self, openid: str) -> List[str]:
        topics = await self._redis.smembers(self._sub_key(openid))
        return [t for t in TOPICS if t in topics]

    async def subscribers(self, topic: str) -> List[str]:
        """Current subscribers of a topic (dropping stale reverse-index entries)."""
        candidates = sorted(await self._redis.smembers(self._topic_key(topic)))
        current = []
        for openid in candidates:
            if await self._redis.sismember(self._sub_key(openid), topic):
                current.append(openid)
            else:
                await self._redis.srem(self._topic_key(topic), openid)
        return current

    # staff scheduling
    async def schedule_course(self, course: Course | Mapping[str, Any]) -> ScheduleOutcome:
        """Add a course (by staff) and tell every subscriber of its topic, once each."""
        if not isinstance(course, Course):
            data = dict(course)
            data.setdefault("id", "c-" + uuid.uuid4().hex[:10])
            data.setdefault("kind", "live")
            data.setdefault("duration_min", 60)
            data.setdefault("audience", "所有求职者")
            start = data["start"]
            if isinstance(start, str):
                start = datetime.fromisoformat(start)
            if start.tzinfo is None:
                start = start.replace(tzinfo=SHANGHAI)
            data["start"] = start
            course = Course(**data)
        _validate(course)
        now = self._clock()
        if course.kind == "live" and course.end <= now:
            raise ValueError("a live course must not be over already")
        await self._redis.hset(self._scheduled_key(), course.id, course.to_json())
        outcome = ScheduleOutcome(course)
        if self._notifier is None:
            return outcome
        text = self.notice_text(course)
        template = TemplateMessage(
            template_id=COURSE_TEMPLATE_ID,
            data={"thing1": course.title[:20], "time2": course.when(), "thing3": course.expert[:20]},
            url=course.link,
        )
        for openid in await self.subscribers(course.topic):
            outcome.results[openid] = await self._notifier.notify(
                openid,
                text,
                kind=NOTICE_KIND,
                template=template,
                dedupe_key=f"course:{course.id}:{openid}",
            )
        return outcome

    @staticmethod
    def notice_text(course: Course) -> str:
        when = "已上线，随时可看" if course.kind == "recorded" else f"{course.when()}直播"
        return (
            f"【空中课堂】您订阅的“{course.topic}”有新课：《{course.title}》，"
            f"主讲：{course.expert}，{when}。观看链接：{course.link}\n"
            "回复“我的订阅”查看或取消订阅。"
        )
