"""Service points in Redis: atomic bulk upserts, geo search and place listings.

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

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Dict, List, NamedTuple, Optional, Sequence, Set, Tuple

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bot.clock import Clock, system_clock
from bot.services.geo import CITIES, DISTRICTS, haversine_m
from bot.services.points.hours import hours_open
from bot.services.points.model import TYPE_PRIORITY, PointType, ProgressCallback, ServicePoint
from bot.services.points.query import NEARBY_K, RADII_KM, PointHit, PointQuery, SearchPage
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("points",)

MAX_CANDIDATES = 300  # nearest points fetched per GEOSEARCH before filtering and paging


class _SortRow(NamedTuple):
    """The few fields a place listing sorts on; full hashes are read for the page shown."""

    id: str
    type: str
    district: str
    name: str
    hours: str
    latitude: float
    longitude: float


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0


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
    async def search(self, query: PointQuery, offset: int = 0, limit: int = NEARBY_K) -> SearchPage:
        """One page of matches.

        With coordinates: nearest first, widening 3 → 10 → 30 → 100 km until the page and
        one more (at least NEARBY_K + 1) match, so the first answer holds the k nearest
        and "更多" pages on past the first radius (a query with `radius_km` set, as paging
        stores it, widens from there). Without: the points of the district (public office
        first) or of the whole city (nearest its seat first); a place without points gives
        the nearest points around the place's seat (`fell_back_to_nearby`).
        """
        if query.has_location:
            return await self._search_near(query, offset, limit)
        if not query.city:
            raise ValueError("a query needs coordinates or a city")
        return await self._search_place(query, offset, limit)

    async def _search_near(self, query: PointQuery, offset: int, limit: int) -> SearchPage:
        # One beyond the page tells whether a next page exists within the radius answered.
        wanted = max(NEARBY_K, offset + limit) + 1
        radii = [r for r in RADII_KM if r >= (query.radius_km or 0)] or [RADII_KM[-1]]
        now = self._clock()
        matches: List[Tuple[str, float]] = []
        radius = radii[-1]
        for radius in radii:
            matches = await self._near_matches(query, radius, now)
            if len(matches) >= wanted:
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

    async def _near_matches(
        self, query: PointQuery, radius_km: float, now: datetime
    ) -> List[Tuple[str, float]]:
        """(id, km) of the points within the radius that pass the query's filters, nearest first."""
        matches = await self._geo_candidates(query, radius_km)
        matches = await self._filter_place(matches, query)
        if query.open_now_only and matches:
            points = await self.get_many([m[0] for m in matches])
            open_ids = {p.id for p in points if p.is_open(now)}
            matches = [m for m in matches if m[0] in open_ids]
        return matches

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
        now = self._clock()
        rows = await self._sort_fields(sorted(await self._place_ids(query)))
        if query.open_now_only:
            rows = [r for r in rows if hours_open(r.hours, now)]
        if not rows:
            return await self._search_around_seat(query, offset, limit)
        seat = None if query.district else CITIES.get(query.city or "")
        distance: Dict[str, float] = {}
        if seat is None:  # a district: its public office first
            rows.sort(key=lambda r: (TYPE_PRIORITY[PointType(r.type)], r.district, r.name, r.id))
        else:  # a whole city: the urban centre's points first, not the distant county towns
            distance = {r.id: haversine_m(seat.lat, seat.lon, r.latitude, r.longitude) for r in rows}
            rows.sort(key=lambda r: (distance[r.id], r.id))
        window = await self.get_many([r.id for r in rows[offset : offset + limit]])
        hits = [PointHit(p, distance.get(p.id), p.is_open(now)) for p in window]
        return SearchPage(query, hits, len(rows), offset)

    async def _place_ids(self, query: PointQuery) -> Set[str]:
        place_key = (
            self._k("district", query.city, query.district)
            if query.district
            else self._k("city", query.city)
        )
        ids = set(await self._redis.smembers(place_key))
        if ids and query.types:
            typed: Set[str] = set()
            for point_type in query.types:
                typed |= set(await self._redis.smembers(self._k("type", point_type.value)))
            ids &= typed
        return ids

    async def _search_around_seat(self, query: PointQuery, offset: int, limit: int) -> SearchPage:
        """A place without matching points: the nearest points around its seat instead."""
        division = (
            DISTRICTS.get((query.city, query.district)) if query.district else CITIES.get(query.city)
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

    async def _sort_fields(self, ids: Sequence[str]) -> List[_SortRow]:
        """The fields a place listing filters and sorts on, for each existing point."""
        if not ids:
            return []
        fields = ("type", "district", "name", "hours", "latitude", "longitude")
        async with self._redis.pipeline(transaction=False) as pipe:
            for point_id in ids:
                pipe.hmget(self.item_key(point_id), *fields)
            rows = await pipe.execute()
        return [
            _SortRow(point_id, row[0], row[1] or "", row[2] or "", row[3] or "", float(row[4]), float(row[5]))
            for point_id, row in zip(ids, rows)
            if row[0] is not None
        ]
