"""青年求职能力实训营: cohorts (from data/camp_cohorts.yml), camp information and enrolment.

Enrolment is one Lua script per applicant so that the three invariants hold under any
concurrency: one enrolment per OpenID per cohort, one per phone number per cohort, and never
more enrolled applicants than seats (the rest go to a FIFO waitlist, promoted on cancellation;
the scripts are in `bot.services.camp_scripts`, the promotion notice in `bot.services.camp_notices`).
"""
from __future__ import annotations

import io
import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import redis.asyncio as aioredis
import yaml

from bot.clock import Clock, system_clock
from bot.jobs.scheduler import JobScheduler
from bot.redis_client import run_acknowledged
from bot.services.camp_scripts import CANCEL_SCRIPT, ENROLL_SCRIPT
from bot.services.csv_safety import SafeCsvWriter
from bot.services.eligibility import EligibilityRules, load_rules
from bot.services.monthly_stats import MonthlyStats, best_effort, place_label
from bot.services.phone import normalise_phone
from bot.services.profiles import register_personal_key
from bot.services.reply_size import fit_lines
from bot.settings import Settings

MORE_COHORTS = "\n……更多期次可以问“潍坊有实训营吗”（换成您的城市）"
ASK_HINT = "回复“报名”即可报名；想知道自己能不能报，直接问我，例如“我大专毕业，能报吗”。"

# The cohort a user was last told about in a push: "报名" right after it pre-fills the form.
LAST_PUSH_FAMILY = "camp_last_push"
LAST_PUSH_TTL_S = 14 * 24 * 3600
register_personal_key(LAST_PUSH_FAMILY)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = (LAST_PUSH_FAMILY,)

_WEEKDAYS = "一二三四五六日"
COHORT_DATE_FIELDS = ("start", "end", "enroll_deadline")


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class Cohort:
    id: str
    city: str
    title: str
    venue: str
    online: bool
    start: date
    end: date
    schedule: str
    content: str
    capacity: int
    fee: str
    certificate: str
    contact: str
    enroll_deadline: date

    @property
    def label(self) -> str:
        return f"{self.title}（{fmt_date(self.start)}–{fmt_date(self.end)}，{'线上' if self.online else self.city}）"

    def is_open(self, today: date) -> bool:
        return today <= self.enroll_deadline

    def serves_city(self, city: Optional[str]) -> bool:
        return self.online or not city or _same_city(self.city, city)


def fmt_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _same_city(a: str, b: str) -> bool:
    strip = lambda s: s.strip().removesuffix("市")  # noqa: E731
    return strip(a) == strip(b)


@dataclass(frozen=True)
class CampCatalogue:
    name: str
    summary: str
    cohorts: Sequence[Cohort]

    def get(self, cohort_id: str) -> Optional[Cohort]:
        return next((c for c in self.cohorts if c.id == cohort_id), None)

    def open_cohorts(self, today: date, city: Optional[str] = None) -> List[Cohort]:
        """Cohorts still taking enrolments, local ones for `city` first, then online ones."""
        found = [c for c in self.cohorts if c.is_open(today) and c.serves_city(city)]
        return sorted(found, key=lambda c: (c.online, c.start, c.id))

    def cities(self) -> List[str]:
        return sorted({c.city for c in self.cohorts if not c.online})


def parse_catalogue(raw: Mapping[str, Any]) -> CampCatalogue:
    camp = raw.get("camp") or {}
    cohorts = []
    for item in raw.get("cohorts") or []:
        cohorts.append(
            Cohort(
                id=str(item["id"]),
                city=str(item["city"]),
                title=str(item.get("title", item["id"])),
                venue=str(item["venue"]),
                online=bool(item.get("online", False)),
                start=_date(item["start"]),
                end=_date(item["end"]),
                schedule=str(item["schedule"]),
                content=str(item["content"]),
                capacity=int(item["capacity"]),
                fee=str(item.get("fee", "免费")),
                certificate=str(item.get("certificate", "")),
                contact=str(item.get("contact", "")),
                enroll_deadline=_date(item["enroll_deadline"]),
            )
        )
    ids = [c.id for c in cohorts]
    if len(ids) != len(set(ids)):
        raise ValueError("camp cohorts: duplicate cohort id")
    return CampCatalogue(str(camp.get("name", "青年求职能力实训营")), str(camp.get("summary", "")), cohorts)


@lru_cache(maxsize=4)
def _read_catalogue_file(path: Path) -> Mapping[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def sample_shift_weeks(raw: Mapping[str, Any], today: date) -> int:
    """Whole weeks to move a sample catalogue so that its earliest enrolment deadline is not before
    ``today``; 0 for real data (no ``sample: true``) or dates still ahead.

    Sample cohorts are written with plausible dates once; whole weeks keep every weekday (the
    schedules say 周一至周五) and keep the dates stable for a week at a time.
    """
    deadlines = [_date(c["enroll_deadline"]) for c in raw.get("cohorts") or []]
    if not raw.get("sample") or not deadlines:
        return 0
    behind = (today - min(deadlines)).days
    return max(0, -(-behind // 7))


def shift_cohort_dates(raw: Mapping[str, Any], weeks: int) -> Dict[str, Any]:
    """A copy of the raw catalogue with every cohort date moved by ``weeks`` weeks."""
    moved = dict(raw)
    moved["cohorts"] = [
        {**c, **{k: _date(c[k]) + timedelta(weeks=weeks) for k in COHORT_DATE_FIELDS}}
        for c in raw.get("cohorts") or []
    ]
    return moved


@lru_cache(maxsize=16)
def _catalogue_for(path: Path, weeks: int) -> CampCatalogue:
    return parse_catalogue(shift_cohort_dates(_read_catalogue_file(path), weeks))


def load_catalogue(path: Path, today: date) -> CampCatalogue:
    """The cohorts in ``path`` (``settings.camp_cohorts_file`` in the product) as of ``today``: a
    file marked ``sample: true`` has its dates moved forward so that it never runs out of open
    cohorts (see data/camp_cohorts.yml); real cohorts keep their dates."""
    weeks = sample_shift_weeks(_read_catalogue_file(path), today)
    return _catalogue_for(path, weeks)


# -- information --------------------------------------------------------------------------------


def cohort_details(cohort: Cohort) -> str:
    place = "线上" if cohort.online else cohort.venue
    return (
        f"【{cohort.title}】{fmt_date(cohort.start)}–{fmt_date(cohort.end)}，{cohort.schedule}\n"
        f"地点：{place}\n内容：{cohort.content}\n"
        f"名额{cohort.capacity}人，{cohort.fee}；{cohort.certificate}；"
        f"报名截止{fmt_date(cohort.enroll_deadline)}；咨询{cohort.contact}"
    )


def camp_info_text(
    catalogue: CampCatalogue,
    today: date,
    city: Optional[str] = None,
    rules: Optional[EligibilityRules] = None,
) -> str:
    """What/when/where/cost/who/certificate, for the user's city when known; ≤ 2,048 bytes."""
    rules = rules or load_rules()
    cohorts = catalogue.open_cohorts(today, city)
    head = f"{catalogue.name}：{catalogue.summary}\n全部免费，结业颁发证书。\n{audience_text(cohorts, rules, today)}"
    local = [c for c in cohorts if not c.online]
    if city and not local:
        note = f"\n{city}近期暂无线下期次，可参加线上期次："
    elif city:
        note = f"\n{city}及线上近期期次："
    else:
        note = "\n近期期次（告诉我您所在城市可只看本地）："
    if not cohorts:
        body = "\n目前没有正在报名的期次，开班后我们会通知您。"
        return fit_lines(head + body, MORE_COHORTS)
    if city:
        body = note + "\n" + "\n".join(cohort_details(c) for c in cohorts)
    else:
        body = note + "\n" + "\n".join(
            f"· {c.label}，截止{fmt_date(c.enroll_deadline)}" for c in cohorts
        )
    return fit_lines(head + body + "\n" + ASK_HINT, MORE_COHORTS)


def audience_text(cohorts: Sequence[Cohort], rules: EligibilityRules, today: date) -> str:
    """Who may join each of `cohorts`, generated from the eligibility rules so that the text can
    never state other limits than the ones applied (cohorts with the same audience share a line)."""
    audiences = rules.audiences([c.id for c in cohorts], today)
    if not audiences:
        return f"招收对象：{rules.target_labels()}。"
    if len(audiences) == 1:
        return f"招收对象：{audiences[0][0]}。"
    titles = {c.id: c.title for c in cohorts}
    lines = [f"· {'、'.join(titles[i] for i in ids)}：{who}" for who, ids in audiences]
    return "招收对象（各期不同）：\n" + "\n".join(lines)


# -- enrolment ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrollResult:
    status: str  # enrolled | waitlisted | duplicate_openid | duplicate_phone | closed | unknown_cohort
    code: str = ""
    position: int = 0  # seat number when enrolled, waitlist position when waitlisted

    @property
    def ok(self) -> bool:
        return self.status in ("enrolled", "waitlisted")


class EnrollmentStore:
    """Enrolments per cohort in Redis (atomic capacity, waitlist, duplicate refusal)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        clock: Clock = system_clock,
        scheduler: Optional[JobScheduler] = None,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self.scheduler = scheduler or JobScheduler(redis, settings)
        self._enroll = redis.register_script(ENROLL_SCRIPT)
        self._cancel = redis.register_script(CANCEL_SCRIPT)
        self.monthly = MonthlyStats(redis, settings, clock)

    def _keys(self, cohort_id: str) -> List[str]:
        k = self._settings.key
        return [
            k("camp", "by_openid", cohort_id),
            k("camp", "by_phone", cohort_id),
            k("camp", "records", cohort_id),
            k("camp", "status", cohort_id),
            k("camp", "seats", cohort_id),
            k("camp", "waitlist", cohort_id),
        ]

    async def enroll(self, openid: str, cohort: Cohort, applicant: Mapping[str, Any]) -> EnrollResult:
        """Enrol `openid` with `applicant` (needs "phone"; other fields are kept for export)."""
        phone = normalise_phone(str(applicant.get("phone", "")))
        if not phone:
            raise ValueError("a valid mobile number is required")
        now = self._clock()
        if now.date() > cohort.enroll_deadline:
            return EnrollResult("closed")
        record = {k: str(v) for k, v in applicant.items() if v is not None}
        record.update(openid=openid, phone=phone, cohort=cohort.id, enrolled_at=now.isoformat())
        for _ in range(5):
            code = f"{cohort.id.split('-')[0].upper()}{secrets.randbelow(10**6):06d}"
            record["code"] = code
            # A failover replays it (run_acknowledged): the replay finds the first run's enrolment
            # and answers duplicate_openid with the same code.
            status, found, pos = await run_acknowledged(
                self._redis, self._settings, self._enroll, self._keys(cohort.id),
                [openid, phone, code, json.dumps(record, ensure_ascii=False), cohort.capacity],
            )
            if status != "code_taken":
                if status in ("enrolled", "waitlisted"):  # counted in the cohort's city ("全省" online)
                    await best_effort(self.monthly.count(f"camp_{status}", place_label(cohort.city)), status)
                return EnrollResult(status, found, int(pos))
        raise RuntimeError("could not allocate an enrolment code")

    async def _run_cancel(self, openid: str, cohort_id: str, only_waitlisted: bool) -> List[str]:
        now = self._clock()
        jobs = [self.scheduler.due_key, self.scheduler.job_key(""), repr(now.timestamp()), now.isoformat()]
        args = [openid, "1" if only_waitlisted else "0", cohort_id, *jobs, self.scheduler.retention_s]
        return await run_acknowledged(self._redis, self._settings, self._cancel, self._keys(cohort_id), args)

    async def cancel(self, openid: str, cohort_id: str) -> Optional[str]:
        """Cancel; returns the code of the waitlisted applicant promoted to the seat, if any
        (their `camp_promoted` notice is queued by the same script)."""
        code, promoted = await self._run_cancel(openid, cohort_id, False)
        if not code:
            raise KeyError("no enrolment for this user in this cohort")
        return promoted or None

    async def leave_waitlists(self, openid: str, cohort_ids: Sequence[str]) -> int:
        """Unfollow: take the user off the waitlist of each cohort (no later promotion books
        someone who left) and cancel a promotion notice not yet sent; enrolments are kept.
        Returns how many waitlist entries went."""
        left = 0
        for cohort_id in cohort_ids:
            code, _ = await self._run_cancel(openid, cohort_id, True)
            left += bool(code)
        return left

    async def find(self, openid: str, cohort_id: str) -> Optional[Dict[str, str]]:
        code = await self._redis.hget(self._keys(cohort_id)[0], openid)
        if not code:
            return None
        return await self.record(cohort_id, code)

    async def record(self, cohort_id: str, code: str) -> Optional[Dict[str, str]]:
        keys = self._keys(cohort_id)
        raw, status = await self._redis.hget(keys[2], code), await self._redis.hget(keys[3], code)
        if raw is None:
            return None
        rec = json.loads(raw)
        rec["status"] = status or ""
        if status == "waitlisted":  # LPOS: the place on the FIFO waitlist, as "我的报名" shows it
            rec["waitlist_position"] = str(1 + (await self._redis.lpos(keys[5], code) or 0))
        return rec

    async def enrolled_openids(self, cohort_id: str) -> set:
        return set(await self._redis.hkeys(self._keys(cohort_id)[0]))

    async def counts(self, cohort_id: str) -> Dict[str, int]:
        keys = self._keys(cohort_id)
        return {
            "enrolled": int(await self._redis.get(keys[4]) or 0),
            "waitlisted": int(await self._redis.llen(keys[5])),
        }

    async def records(self, cohort_id: str) -> List[Dict[str, str]]:
        keys = self._keys(cohort_id)
        raw, status = await self._redis.hgetall(keys[2]), await self._redis.hgetall(keys[3])
        waitlist = await self._redis.lrange(keys[5], 0, -1)
        out = []
        for code, text in raw.items():
            rec = json.loads(text)
            rec["status"] = status.get(code, "")
            rec["waitlist_position"] = str(waitlist.index(code) + 1) if code in waitlist else ""
            out.append(rec)
        return sorted(out, key=lambda r: r.get("enrolled_at", ""))

    async def export_csv(self, cohort_id: str) -> bytes:
        """Enrolments of a cohort as CSV in UTF-8 with BOM (Excel opens it without mojibake)."""
        columns = [
            ("code", "报名编号"), ("status", "状态"), ("waitlist_position", "候补顺位"),
            ("name", "姓名"), ("phone", "手机号"), ("identity", "身份"),
            ("graduation_year", "毕业年份"), ("age", "年龄"), ("school", "学校"),
            ("major", "专业"), ("city", "城市"), ("enrolled_at", "报名时间"),
        ]
        labels = {"enrolled": "已录取", "waitlisted": "候补", "cancelled": "已取消"}
        buf = io.StringIO()
        writer = SafeCsvWriter(buf, lineterminator="\r\n")
        writer.writerow([title for _, title in columns])
        for rec in await self.records(cohort_id):
            rec["status"] = labels.get(rec.get("status", ""), rec.get("status", ""))
            writer.writerow([rec.get(name, "") for name, _ in columns])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")


# -- the cohort a push told the user about -------------------------------------------------------


async def remember_pushed_cohort(redis: aioredis.Redis, settings: Settings, openid: str, cohort_id: str) -> None:
    await redis.set(settings.key(LAST_PUSH_FAMILY, openid), cohort_id, ex=LAST_PUSH_TTL_S)


async def last_pushed_cohort(redis: aioredis.Redis, settings: Settings, openid: str) -> Optional[str]:
    return await redis.get(settings.key(LAST_PUSH_FAMILY, openid))


def enrolment_reply(result: EnrollResult, cohort: Cohort, masked_phone: str) -> str:
    """What the applicant is told of their enrolment (the code first: they keep it to cancel)."""
    if result.status == "enrolled":
        return (
            f"报名成功！报名编号：{result.code}\n{cohort.label}\n"
            f"地点：{'线上（开营前短信通知会议号）' if cohort.online else cohort.venue}\n"
            f"时间：{cohort.schedule}\n咨询：{cohort.contact}\n请保存报名编号，开营前我们会提醒您。"
        )
    if result.status == "waitlisted":
        return (f"本期名额已满，您已进入候补，候补第{result.position}位，编号：{result.code}。"
                "有人取消时将按顺序递补并通知您。")
    if result.status == "duplicate_openid":
        return f"您已报名{cohort.label}（编号{result.code}），无需重复报名。"
    if result.status == "duplicate_phone":
        return f"手机号{masked_phone}已报名{cohort.label}，同一手机号每期只能报名一次。"
    return f"{cohort.label}报名已截止。"
