"""Career-guidance service points: the data model, the Redis index and search, and replies.

A plain domain module (no Rasa, no HTTP). Coordinates are GCJ-02 — the datum of WeChat
location messages (and of Tencent/Amap maps) — so a user's WeChat location can be compared
with a point's coordinates directly. Staff must enter GCJ-02 coordinates too (picked from
Tencent or Amap maps, not from Baidu BD-09 or raw GPS WGS-84, which are off by up to ~500 m).

Redis layout (all under `settings.key("points", ...)`):
    points:item:<id>                  hash: every field of one point (active or not)
    points:ids                        set: every point id (for export)
    points:geo                        geo set: active points
    points:geo:<type>                 geo set: active points of one type
    points:city:<city>                set: active point ids in a city
    points:district:<city>:<district> set: active point ids in a county-level unit
    points:type:<type>                set: active point ids of one type
    points:rev                        counter bumped by every write (optimistic locking)
"""
from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import (
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bot.clock import Clock, system_clock
from bot.services.geo import CITIES, DISTRICTS
from bot.settings import Settings

# --------------------------------------------------------------------------------------
# Types and services
# --------------------------------------------------------------------------------------


class PointType(str, enum.Enum):
    """Kinds of service point in Shandong's career-guidance network (value = stable code)."""

    UNIVERSITY_STATION = "university_station"
    COMMUNITY_STATION = "community_station"
    GIG_MARKET = "gig_market"
    HR_MARKET = "hr_market"
    HR_PARK = "hr_park"
    DIGITAL_ZONE = "digital_zone"
    PUBLIC_SERVICE = "public_service"
    STUDIO_CITY = "studio_city"
    STUDIO_COUNTY = "studio_county"
    PARTNER_STATION = "partner_station"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def parse(cls, value: str) -> "PointType":
        """A code ('gig_market') or a Chinese label ('零工市场') -> PointType; ValueError else."""
        value = (value or "").strip()
        for member in cls:
            if value in (member.value, member.label):
                return member
        for member, aliases in _LABEL_VARIANTS.items():
            if value in aliases:
                return member
        raise ValueError(value)


_LABELS: Dict[PointType, str] = {
    PointType.UNIVERSITY_STATION: "高校就业指导工作站",
    PointType.COMMUNITY_STATION: "社区就业驿站",
    PointType.GIG_MARKET: "零工市场",
    PointType.HR_MARKET: "人力资源市场",
    PointType.HR_PARK: "人力资源服务产业园",
    PointType.DIGITAL_ZONE: "数智就业服务区",
    PointType.PUBLIC_SERVICE: "公共就业和人才服务机构",
    PointType.STUDIO_CITY: "职业指导工作室（市级）",
    PointType.STUDIO_COUNTY: "职业指导工作室（县级）",
    PointType.PARTNER_STATION: "企业/社会组织共建站点",
}

# Other spellings staff use in their sheets for the type column.
_LABEL_VARIANTS: Dict[PointType, Tuple[str, ...]] = {
    PointType.STUDIO_CITY: ("市级职业指导工作室", "职业指导工作室(市级)"),
    PointType.STUDIO_COUNTY: ("县级职业指导工作室", "职业指导工作室(县级)", "区县级职业指导工作室"),
    PointType.PARTNER_STATION: ("共建站点", "企业共建站点", "社会组织共建站点", "企业、社会组织共建站点"),
    PointType.DIGITAL_ZONE: ("“数智就业”服务区", "\"数智就业\"服务区"),
    PointType.COMMUNITY_STATION: ("社区微业", "“社区微业”就业驿站"),
}

# What a user may say for a type ("附近的零工市场", "人才市场在哪"); longest match wins.
# Generic words (社区, 学校, 大学) are left out: "我在学校附近" does not ask for a type.
_USER_TYPE_WORDS: Tuple[Tuple[str, FrozenSet[PointType]], ...] = tuple(
    sorted(
        (
            (word, frozenset(types))
            for word, types in {
                "高校就业指导工作站": {PointType.UNIVERSITY_STATION},
                "高校": {PointType.UNIVERSITY_STATION},
                "社区就业驿站": {PointType.COMMUNITY_STATION},
                "就业驿站": {PointType.COMMUNITY_STATION},
                "驿站": {PointType.COMMUNITY_STATION},
                "社区微业": {PointType.COMMUNITY_STATION},
                "零工市场": {PointType.GIG_MARKET},
                "零工": {PointType.GIG_MARKET},
                "打零工": {PointType.GIG_MARKET},
                "日结": {PointType.GIG_MARKET},
                "劳务市场": {PointType.GIG_MARKET},
                "人力资源市场": {PointType.HR_MARKET},
                "人才市场": {PointType.HR_MARKET},
                "人力市场": {PointType.HR_MARKET},
                "招聘市场": {PointType.HR_MARKET},
                "人力资源服务产业园": {PointType.HR_PARK},
                "产业园": {PointType.HR_PARK},
                "数智就业服务区": {PointType.DIGITAL_ZONE},
                "数智就业": {PointType.DIGITAL_ZONE},
                "数智": {PointType.DIGITAL_ZONE},
                "公共就业和人才服务机构": {PointType.PUBLIC_SERVICE},
                "公共就业": {PointType.PUBLIC_SERVICE},
                "就业服务中心": {PointType.PUBLIC_SERVICE},
                "人才服务中心": {PointType.PUBLIC_SERVICE},
                "人社局": {PointType.PUBLIC_SERVICE},
                "职业指导工作室": {PointType.STUDIO_CITY, PointType.STUDIO_COUNTY},
                "工作室": {PointType.STUDIO_CITY, PointType.STUDIO_COUNTY},
                "市级职业指导工作室": {PointType.STUDIO_CITY},
                "县级职业指导工作室": {PointType.STUDIO_COUNTY},
                "共建站点": {PointType.PARTNER_STATION},
                "共建": {PointType.PARTNER_STATION},
            }.items()
        ),
        key=lambda item: -len(item[0]),
    )
)


def parse_point_types(text: Optional[str]) -> FrozenSet[PointType]:
    """The point types a user's words ask for; empty when none is named (any type)."""
    if not text:
        return frozenset()
    text = str(text).strip()
    try:
        return frozenset({PointType.parse(text)})
    except ValueError:
        pass
    for word, types in _USER_TYPE_WORDS:
        if word in text:
            return types
    return frozenset()


# Order in which a place listing shows types: the public office of the area first.
TYPE_PRIORITY: Dict[PointType, int] = {
    t: i
    for i, t in enumerate(
        (
            PointType.PUBLIC_SERVICE,
            PointType.HR_MARKET,
            PointType.GIG_MARKET,
            PointType.COMMUNITY_STATION,
            PointType.STUDIO_CITY,
            PointType.STUDIO_COUNTY,
            PointType.DIGITAL_ZONE,
            PointType.UNIVERSITY_STATION,
            PointType.HR_PARK,
            PointType.PARTNER_STATION,
        )
    )
}

KNOWN_SERVICES = ("职业指导", "职业测评", "招聘信息", "技能培训", "创业指导", "政策咨询", "就业登记", "零工对接")

_LIST_SPLIT = re.compile(r"[、,，;；/|\s]+")


def split_list(value: str) -> Tuple[str, ...]:
    return tuple(part for part in _LIST_SPLIT.split(value or "") if part)


# --------------------------------------------------------------------------------------
# Opening hours
# --------------------------------------------------------------------------------------

_WEEKDAY_CHARS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_DAY = r"(?:周|星期|礼拜)([一二三四五六日天七])"
_DAY_RANGE = re.compile(_DAY + r"\s*(?:至|到|-|~|—|–|－)\s*" + _DAY)
_DAY_SINGLE = re.compile(_DAY)
_TIME_RANGE = re.compile(
    r"(\d{1,2})[:：](\d{2})\s*(?:-|~|至|到|—|–|－)\s*(\d{1,2})[:：](\d{2})"
)
_CLOSED_WORDS = ("休息", "闭馆", "不开放", "关闭", "休馆")
_ALL_DAY_WORDS = ("24小时", "全天")
_EVERY_DAY_WORDS = ("每天", "每日", "全年", "天天")
_WEEKDAY_WORDS = ("工作日",)
_NOTE_WORDS = ("节假日", "节日")  # holiday exceptions cannot be known here: kept as text only

Schedule = Dict[int, Tuple[Tuple[int, int], ...]]  # weekday -> ((start_min, end_min), ...)


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening hours parsed from staff text such as "周一至周五 09:00-17:00".

    Clauses are separated by ';'/'；'/newline: "周一至周五 08:30-12:00,13:30-17:00；周六 09:00-12:00；
    周日休息". Also understood: 每天/工作日/24小时/全天. Holiday notes ("法定节假日除外") are kept
    in the text but not modelled, so on a public holiday "open now" may be wrong.
    """

    text: str
    schedule: Schedule

    @classmethod
    def parse(cls, text: str) -> "OpeningHours":
        """Parse or raise ValueError with a reason in Chinese."""
        raw = (text or "").strip()
        if not raw:
            raise ValueError("营业时间为空")
        schedule: Dict[int, List[Tuple[int, int]]] = {}
        for clause in re.split(r"[;；\n]+", raw):
            clause = clause.strip()
            if not clause:
                continue
            days = _clause_days(clause)
            ranges = _clause_ranges(clause)
            closed = any(word in clause for word in _CLOSED_WORDS)
            if ranges is None and not closed:
                if days is None and any(word in clause for word in _NOTE_WORDS):
                    continue  # a pure holiday note like "法定节假日除外"
                raise ValueError(f"无法识别营业时间“{clause}”，示例：周一至周五 09:00-17:00")
            for day in days if days is not None else range(7):
                if closed and not ranges:
                    schedule[day] = []
                else:
                    schedule[day] = sorted(ranges or [])
        if not schedule:
            raise ValueError(f"无法识别营业时间“{raw}”")
        return cls(raw, {d: tuple(r) for d, r in schedule.items()})

    def is_open(self, moment: datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        return any(start <= minute < end for start, end in self.schedule.get(moment.weekday(), ()))


def _clause_days(clause: str) -> Optional[List[int]]:
    if any(word in clause for word in _EVERY_DAY_WORDS):
        return list(range(7))
    days: List[int] = []
    if any(word in clause for word in _WEEKDAY_WORDS):
        days.extend(range(5))
    rest = clause
    for match in _DAY_RANGE.finditer(clause):
        start, end = _WEEKDAY_CHARS[match.group(1)], _WEEKDAY_CHARS[match.group(2)]
        if end < start:
            raise ValueError(f"星期范围“{match.group(0)}”顺序不对")
        days.extend(range(start, end + 1))
        rest = rest.replace(match.group(0), " ")
    for match in _DAY_SINGLE.finditer(rest):
        days.append(_WEEKDAY_CHARS[match.group(1)])
    return sorted(set(days)) if days else None


def _clause_ranges(clause: str) -> Optional[List[Tuple[int, int]]]:
    if any(word in clause for word in _ALL_DAY_WORDS):
        return [(0, 24 * 60)]
    ranges = []
    for match in _TIME_RANGE.finditer(clause):
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"时间“{match.group(0)}”不合法")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ValueError(f"时间段“{match.group(0)}”结束早于开始")
        ranges.append((start, end))
    return ranges or None


# --------------------------------------------------------------------------------------
# The point
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServicePoint:
    """One service point. `latitude`/`longitude` are GCJ-02 (WeChat's datum), in degrees."""

    id: str
    name: str
    type: PointType
    city: str  # one of the 16 prefecture-level cities, full name ("济南市")
    district: str  # today's county-level unit, full name ("历下区")
    address: str
    latitude: float
    longitude: float
    hours: str = ""  # opening hours text, parseable by OpeningHours; "" = unknown
    phone: str = ""
    services: Tuple[str, ...] = ()
    audience: str = ""
    active: bool = True
    sample: bool = False  # shipped sample data, not a real office
    note: str = ""

    @property
    def opening_hours(self) -> Optional[OpeningHours]:
        if not self.hours:
            return None
        try:
            return OpeningHours.parse(self.hours)
        except ValueError:
            return None

    def is_open(self, moment: datetime) -> Optional[bool]:
        """True/False when the hours are known, None when they are not."""
        hours = self.opening_hours
        return None if hours is None else hours.is_open(moment)

    def to_hash(self) -> Dict[str, str]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type.value,
            "city": self.city,
            "district": self.district,
            "address": self.address,
            "latitude": repr(self.latitude),
            "longitude": repr(self.longitude),
            "hours": self.hours,
            "phone": self.phone,
            "services": "、".join(self.services),
            "audience": self.audience,
            "active": "1" if self.active else "0",
            "sample": "1" if self.sample else "0",
            "note": self.note,
        }

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> "ServicePoint":
        return cls(
            id=data["id"],
            name=data["name"],
            type=PointType(data["type"]),
            city=data["city"],
            district=data.get("district", ""),
            address=data.get("address", ""),
            latitude=float(data["latitude"]),
            longitude=float(data["longitude"]),
            hours=data.get("hours", ""),
            phone=data.get("phone", ""),
            services=split_list(data.get("services", "")),
            audience=data.get("audience", ""),
            active=data.get("active", "1") == "1",
            sample=data.get("sample", "0") == "1",
            note=data.get("note", ""),
        )


# --------------------------------------------------------------------------------------
# Queries and results
# --------------------------------------------------------------------------------------

RADII_KM: Tuple[float, ...] = (3, 10, 30, 100)
MAX_CANDIDATES = 300  # nearest points fetched per GEOSEARCH before filtering and paging


@dataclass(frozen=True)
class PointQuery:
    """What to look for. Coordinates (GCJ-02) give a distance-ordered search around them;
    without them, city/district list the points of that place. Both may be combined."""

    latitude: Optional[float] = None
    longitude: Optional[float] = None
    city: Optional[str] = None
    district: Optional[str] = None
    types: FrozenSet[PointType] = frozenset()
    open_now_only: bool = False
    # Set by paging: search exactly this radius instead of widening from the smallest.
    radius_km: Optional[float] = None
    # Label of the coordinates, e.g. "您" or "历下区城区", used in replies.
    anchor_label: str = "您"

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def to_json(self) -> str:
        return json.dumps(
            {
                "lat": self.latitude,
                "lon": self.longitude,
                "city": self.city,
                "district": self.district,
                "types": sorted(t.value for t in self.types),
                "open": self.open_now_only,
                "r": self.radius_km,
                "anchor": self.anchor_label,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> "PointQuery":
        data = json.loads(text)
        return cls(
            latitude=data.get("lat"),
            longitude=data.get("lon"),
            city=data.get("city"),
            district=data.get("district"),
            types=frozenset(PointType(t) for t in data.get("types", [])),
            open_now_only=bool(data.get("open")),
            radius_km=data.get("r"),
            anchor_label=data.get("anchor") or "您",
        )


@dataclass(frozen=True)
class PointHit:
    point: ServicePoint
    distance_m: Optional[float]  # from the query's coordinates; None for place listings
    open_now: Optional[bool]


@dataclass(frozen=True)
class SearchPage:
    query: PointQuery  # the query as answered (radius fixed when coordinates were used)
    hits: List[PointHit]
    total: int  # matches in all pages
    offset: int
    # True when the place had no match and the coordinates of its seat were searched instead.
    fell_back_to_nearby: bool = False

    @property
    def radius_km(self) -> Optional[float]:
        return self.query.radius_km


ProgressCallback = Callable[[int, int, str], None]


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0


# --------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------


class ServicePointStore:
    """Service points in Redis: atomic bulk upserts, geo search, place listings."""

    def __init__(self, redis: aioredis.Redis, settings: Settings, clock: Clock = system_clock):
        self._redis = redis
        self._settings = settings
        self._clock = clock

    # keys -----------------------------------------------------------------------------
    def _k(self, *parts: str) -> str:
        return self._settings.key("points", *parts)

    def item_key(self, point_id: str) -> str:
        return self._k("item", point_id)

    def _geo_key(self, point_type: Optional[PointType] = None) -> str:
        return self._k("geo", point_type.value) if point_type else self._k("geo")

    def _index_keys(self, point_type: str, city: str, district: str) -> Tuple[str, str, str]:
        return (
            self._k("type", point_type),
            self._k("city", city),
            self._k("district", city, district),
        )

    # writes ---------------------------------------------------------------------------
    async def upsert_many(
        self,
        points: Sequence[ServicePoint],
        progress: Optional[ProgressCallback] = None,
        progress_every: int = 1000,
    ) -> UpsertResult:
        """Insert or replace points by id, all or nothing (one MULTI/EXEC).

        Old index entries of replaced points are removed in the same transaction, and
        inactive points are kept (for export) but left out of every search index.
        """
        rev_key = self._k("rev")
        for _attempt in range(5):
            async with self._redis.pipeline(transaction=True) as tx:
                await tx.watch(rev_key)
                old = await self._read_index_fields([p.id for p in points])
                tx.multi()
                result = UpsertResult()
                for n, point in enumerate(points, 1):
                    previous = old.get(point.id)
                    if previous is None:
                        result.created += 1
                    else:
                        result.updated += 1
                        p_type, p_city, p_district = previous
                        for key in self._index_keys(p_type, p_city, p_district):
                            tx.srem(key, point.id)
                        tx.zrem(self._geo_key(), point.id)
                        tx.zrem(self._k("geo", p_type), point.id)
                    self._queue_write(tx, point)
                    if progress and n % progress_every == 0:
                        progress(n, len(points), "写入")
                tx.incr(rev_key)
                try:
                    await tx.execute()
                except WatchError:
                    continue  # another import ran in between: re-read and retry
                if progress:
                    progress(len(points), len(points), "写入")
                return result
        raise RuntimeError("服务点数据正被其他导入同时修改，请稍后重试")

    def _queue_write(self, tx, point: ServicePoint) -> None:
        item = self.item_key(point.id)
        tx.delete(item)
        tx.hset(item, mapping=point.to_hash())
        tx.sadd(self._k("ids"), point.id)
        if point.active:
            member = (point.longitude, point.latitude, point.id)
            tx.geoadd(self._geo_key(), member)
            tx.geoadd(self._geo_key(point.type), member)
            for key in self._index_keys(point.type.value, point.city, point.district):
                tx.sadd(key, point.id)

    async def _read_index_fields(self, ids: Sequence[str]) -> Dict[str, Tuple[str, str, str]]:
        found: Dict[str, Tuple[str, str, str]] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            async with self._redis.pipeline(transaction=False) as pipe:
                for point_id in chunk:
                    pipe.hmget(self.item_key(point_id), "type", "city", "district")
                rows = await pipe.execute()
            for point_id, row in zip(chunk, rows):
                if row[0] is not None:
                    found[point_id] = (row[0], row[1] or "", row[2] or "")
        return found

    async def delete(self, point_id: str) -> bool:
        old = await self._read_index_fields([point_id])
        if point_id not in old:
            return False
        p_type, p_city, p_district = old[point_id]
        async with self._redis.pipeline(transaction=True) as tx:
            for key in self._index_keys(p_type, p_city, p_district):
                tx.srem(key, point_id)
            tx.zrem(self._geo_key(), point_id)
            tx.zrem(self._k("geo", p_type), point_id)
            tx.srem(self._k("ids"), point_id)
            tx.delete(self.item_key(point_id))
            tx.incr(self._k("rev"))
            await tx.execute()
        return True

    # reads ----------------------------------------------------------------------------
    async def count(self) -> int:
        return await self._redis.scard(self._k("ids"))

    async def get(self, point_id: str) -> Optional[ServicePoint]:
        data = await self._redis.hgetall(self.item_key(point_id))
        return ServicePoint.from_hash(data) if data else None

    async def get_many(self, ids: Sequence[str]) -> List[ServicePoint]:
        """Points in the order of `ids` (missing ones skipped)."""
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for point_id in ids:
                pipe.hgetall(self.item_key(point_id))
            rows = await pipe.execute()
        return [ServicePoint.from_hash(row) for row in rows if row]

    async def all_points(self) -> List[ServicePoint]:
        ids = sorted(await self._redis.smembers(self._k("ids")))
        points: List[ServicePoint] = []
        for start in range(0, len(ids), 1000):
            points.extend(await self.get_many(ids[start : start + 1000]))
        return points

    async def stats(self) -> Dict[str, Dict[str, int]]:
        """Active points per city and per type label."""
        by_city = {city: await self._redis.scard(self._k("city", city)) for city in CITIES}
        by_type = {t.label: await self._redis.scard(self._k("type", t.value)) for t in PointType}
        return {"city": by_city, "type": by_type}

    # search ---------------------------------------------------------------------------
    async def search(self, query: PointQuery, offset: int = 0, limit: int = 3) -> SearchPage:
        """One page of matches.

        With coordinates: nearest first within a radius, widening 3 → 10 → 30 → 100 km until
        something matches (a query with `radius_km` set, as paging stores it, keeps that
        radius). Without: the points of the city/district; if it has none, the nearest points
        around the place's seat (`fell_back_to_nearby`).
        """
        if query.has_location:
            return await self._search_near(query, offset, limit)
        if not query.city:
            raise ValueError("a query needs coordinates or a city")
        return await self._search_place(query, offset, limit)

    async def _search_near(self, query: PointQuery, offset: int, limit: int) -> SearchPage:
        radii = (query.radius_km,) if query.radius_km else RADII_KM
        now = self._clock()
        matches: List[Tuple[str, float]] = []
        radius = radii[-1]
        for radius in radii:
            matches = await self._geo_candidates(query, radius)
            matches = await self._filter_place(matches, query)
            if query.open_now_only and matches:
                points = await self.get_many([m[0] for m in matches])
                open_ids = {p.id for p in points if p.is_open(now)}
                matches = [m for m in matches if m[0] in open_ids]
            if matches:
                break
        answered = replace(query, radius_km=radius)
        window = matches[offset : offset + limit]
        points = {p.id: p for p in await self.get_many([m[0] for m in window])}
        hits = [
            PointHit(points[pid], dist_km * 1000.0, points[pid].is_open(now))
            for pid, dist_km in window
            if pid in points
        ]
        return SearchPage(answered, hits, len(matches), offset)

    async def _geo_candidates(self, query: PointQuery, radius_km: float) -> List[Tuple[str, float]]:
        keys = [self._geo_key(t) for t in sorted(query.types)] or [self._geo_key()]
        found: Dict[str, float] = {}
        for key in keys:
            rows = await self._redis.geosearch(
                key,
                longitude=query.longitude,
                latitude=query.latitude,
                radius=radius_km,
                unit="km",
                sort="ASC",
                count=MAX_CANDIDATES,
                withdist=True,
            )
            for member, dist in rows:
                found[member] = float(dist)
        # Ties broken by id so that pages are stable between requests.
        return sorted(found.items(), key=lambda m: (m[1], m[0]))[:MAX_CANDIDATES]

    async def _filter_place(
        self, matches: List[Tuple[str, float]], query: PointQuery
    ) -> List[Tuple[str, float]]:
        if not matches or not query.city:
            return matches
        key = (
            self._k("district", query.city, query.district)
            if query.district
            else self._k("city", query.city)
        )
        flags = await self._redis.smismember(key, [m[0] for m in matches])
        return [m for m, ok in zip(matches, flags) if ok]

    async def _search_place(self, query: PointQuery, offset: int, limit: int) -> SearchPage:
        place_key = (
            self._k("district", query.city, query.district)
            if query.district
            else self._k("city", query.city)
        )
        ids = set(await self._redis.smembers(place_key))
        if ids and query.types:
            typed: set = set()
            for point_type in query.types:
                typed |= set(await self._redis.smembers(self._k("type", point_type.value)))
            ids &= typed
        now = self._clock()
        # Sort on a few fields only; full hashes are read for the page shown.
        rows = await self._sort_fields(sorted(ids))
        if query.open_now_only:
            rows = [r for r in rows if _hours_open(r[4], now)]
        if not rows:
            division = (
                DISTRICTS.get((query.city, query.district))
                if query.district
                else CITIES.get(query.city)
            )
            if division is None:
                return SearchPage(query, [], 0, offset)
            nearby = replace(
                query,
                latitude=division.lat,
                longitude=division.lon,
                city=None,
                district=None,
                anchor_label=f"{query.district or query.city}中心",
            )
            page = await self._search_near(nearby, offset, limit)
            return replace(page, fell_back_to_nearby=True)
        rows.sort(key=lambda r: (TYPE_PRIORITY[PointType(r[1])], r[2], r[3], r[0]))
        window = await self.get_many([r[0] for r in rows[offset : offset + limit]])
        hits = [PointHit(p, None, p.is_open(now)) for p in window]
        return SearchPage(query, hits, len(rows), offset)

    async def _sort_fields(self, ids: Sequence[str]) -> List[Tuple[str, str, str, str, str]]:
        """(id, type, district, name, hours) of each existing point."""
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for point_id in ids:
                pipe.hmget(self.item_key(point_id), "type", "district", "name", "hours")
            rows = await pipe.execute()
        return [
            (point_id, row[0], row[1] or "", row[2] or "", row[3] or "")
            for point_id, row in zip(ids, rows)
            if row[0] is not None
        ]


def _hours_open(hours: str, moment: datetime) -> bool:
    if not hours:
        return False
    try:
        return OpeningHours.parse(hours).is_open(moment)
    except ValueError:
        return False


async def load_sample_if_empty(store: ServicePointStore) -> int:
    """Import the shipped sample points when the index holds none; returns how many."""
    from bot.services.point_import import SAMPLE_FILE, read_points_file

    if await store.count():
        return 0
    report = read_points_file(SAMPLE_FILE)
    if report.errors:
        raise ValueError("样例服务点数据有误：" + "; ".join(str(e) for e in report.errors[:5]))
    await store.upsert_many(report.points)
    return len(report.points)


# --------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------

WECHAT_REPLY_LIMIT = 2048  # bytes, UTF-8, passive reply
PAGE_SIZE = 3
MORE_HINT = "回复“更多”查看下一页。"
SAMPLE_NOTE = "注：标“示例”的为演示数据，请以当地人社部门公布为准。"


def format_distance(distance_m: float) -> str:
    if distance_m < 1000:
        return f"{int(round(distance_m / 10.0)) * 10}米"
    if distance_m < 10000:
        return f"{distance_m / 1000:.1f}公里"
    return f"{distance_m / 1000:.0f}公里"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_hit(number: int, hit: PointHit, anchor_label: str = "您") -> str:
    point = hit.point
    name = _clip(point.name, 40) + ("（示例）" if point.sample else "")
    type_line = f"类型：{point.type.label}"
    if hit.distance_m is not None:
        type_line += f"｜距{anchor_label}{format_distance(hit.distance_m)}"
    lines = [f"{number}. {name}", type_line, f"地址：{_clip(point.city + point.district + point.address, 60)}"]
    if point.hours:
        status = ""
        if hit.open_now is True:
            status = "（现在开放）"
        elif hit.open_now is False:
            status = "（现在未开放）"
        lines.append(f"时间：{_clip(point.hours, 50)}{status}")
    if point.phone:
        lines.append(f"电话：{_clip(point.phone, 30)}")
    return "\n".join(lines)


def describe_scope(query: PointQuery) -> str:
    place = (query.city or "") + (query.district or "")
    kind = "、".join(sorted({t.label.split("（")[0] for t in query.types})) or "职业指导服务点"
    return f"{place}的{kind}" if place else kind


def render_page(
    page: SearchPage, max_bytes: int = WECHAT_REPLY_LIMIT, original: Optional[PointQuery] = None
) -> Tuple[str, int]:
    """The reply text for a page and how many hits it shows (all that fit in `max_bytes`).

    `original` is the user's query when the page fell back to nearby points, to say so.
    """
    query = page.query
    if not page.hits:
        if page.offset > 0:
            return "没有更多服务点了。", 0
        if query.has_location and not page.fell_back_to_nearby:
            kind = describe_scope(replace(query, city=None, district=None))
            place = f"（{(query.city or '') + (query.district or '')}）" if query.city else ""
            return (
                f"抱歉，{query.anchor_label}附近{int(query.radius_km or RADII_KM[-1])}公里内"
                f"没有找到{kind}{place}。可以换个地方或类型试试，也可以拨打12333咨询。"
            ), 0
        return f"抱歉，暂时没有找到{describe_scope(original or query)}。可以拨打12333咨询。", 0

    if page.fell_back_to_nearby:
        wanted = describe_scope(original) if original else "服务点"
        header = f"暂未收录{wanted}，离{query.anchor_label}最近的有："
    elif query.has_location:
        header = (
            f"离{query.anchor_label}最近的{describe_scope(replace(query, city=None, district=None))}"
            f"（{int(query.radius_km or 0)}公里内共{page.total}个）："
        )
    else:
        header = f"{describe_scope(query)}共{page.total}个："
    if page.offset:
        header = header[:-1] + "（接上页）："
    blocks: List[str] = []
    shown = 0
    for i, hit in enumerate(page.hits):
        block = format_hit(page.offset + i + 1, hit, query.anchor_label)
        remaining = page.total - (page.offset + shown + 1)
        footer = _footer(page.hits[: shown + 1], remaining > 0)
        candidate = "\n\n".join([header, *blocks, block]) + footer
        if len(candidate.encode("utf-8")) > max_bytes and shown > 0:
            break
        blocks.append(block)
        shown += 1
    remaining = page.total - (page.offset + shown)
    text = "\n\n".join([header, *blocks]) + _footer(page.hits[:shown], remaining > 0)
    if len(text.encode("utf-8")) > max_bytes:  # one enormous entry: cut it hard
        text = text.encode("utf-8")[: max_bytes - 3].decode("utf-8", "ignore") + "…"
    return text, shown


def _footer(hits: Iterable[PointHit], more: bool) -> str:
    parts = []
    if any(h.point.sample for h in hits):
        parts.append(SAMPLE_NOTE)
    if more:
        parts.append(MORE_HINT)
    return ("\n\n" + "\n".join(parts)) if parts else ""
