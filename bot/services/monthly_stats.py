"""Monthly service figures per city, counted as events happen (no scans of records afterwards).

Any service that does something worth reporting upward (a user served, a handoff closed, a
booking attended, a rating given) calls one method here with the user's city; the console's
monthly page and its XLSX export read `month()`. Aggregates only: users are counted in a
HyperLogLog (an estimate that cannot give an OpenID back) and nothing else personal is stored.

Redis layout (all under `settings.key("monthly", ...)`), months and days are Beijing's:
    monthly:months               SET   months that have figures ("2026-12")
    monthly:<month>:cities       SET   cities with figures that month ("青岛市", or UNKNOWN_CITY)
    monthly:<month>:<city>       HASH  event -> count; "sum:<metric>" / "n:<metric>" for averages
    monthly:<month>:<city>:needs HASH  need (intent, or "knowledge:<item id>") -> count
    monthly:<month>:<city>:users HLL   users served

Events (who counts them): conversations (conversation_marks.py), messages and unanswered (the
tracker store, `queue_message`), booking_made / _cancelled / _attended (booking/service.py),
camp_enrolled / _waitlisted (camp.py), handoff_created / _claimed / _closed and the means
handoff_wait_s / handoff_handling_s (handoff/figures.py), rating_requested / rating_low and the
mean rating (the satisfaction ratings).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Dict, Iterable, List, Optional, Sequence

from bot.clock import Clock, in_beijing, system_clock
from bot.services import geo
from bot.settings import Settings

logger = logging.getLogger(__name__)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("monthly",)

UNKNOWN_CITY = "未知"
# Province-wide offerings (an online workshop or cohort, "全省" in the catalogues) count here.
PROVINCE_WIDE = "全省"
# Aggregates are what supervisors report upward for the year; kept a little over thirteen months.
MONTHLY_TTL_S = 400 * 86400


# Intents that are part of talking, not a need: left out of "top needs" (still counted as messages).
NOT_NEEDS = frozenset({
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "inform", "more", "stop",
    "subscribe", "nlu_fallback",
})
FALLBACK_INTENT = "nlu_fallback"
KNOWLEDGE_NEED = "knowledge:"  # + the knowledge item's id; the report names the item's topic


def month_of(moment: datetime) -> str:
    return in_beijing(moment).strftime("%Y-%m")


def place_label(raw: Optional[str]) -> str:
    """A catalogue's or profile's city ("青岛", "青岛市", "全省") as the figures name it."""
    value = (raw or "").strip()
    if value == PROVINCE_WIDE:
        return PROVINCE_WIDE
    return geo.normalize_city(value) or UNKNOWN_CITY


def queue_message(
    pipe: Any, settings: Settings, at: datetime, city: Optional[str], intent: str, knowledge_item: str = "",
) -> None:
    """Count one user message on the tracker store's own pipeline (no extra round trip): the
    message, whether the NLU understood it ("unanswered" = nlu_fallback), its need (the intent)
    and the knowledge item it was answered with ("knowledge:<id>", its topic in the report)."""
    month, place = month_of(at), place_label(city)  # one spelling per city, whoever writes
    key = _KeyBuilder(settings)
    _queue_registration(pipe, key, month, place)
    pipe.hincrby(key(month, place), "messages", 1)
    if intent == FALLBACK_INTENT:
        pipe.hincrby(key(month, place), "unanswered", 1)
    pipe.expire(key(month, place), MONTHLY_TTL_S)
    needs = [n for n in (intent if intent not in NOT_NEEDS else "", knowledge_item and KNOWLEDGE_NEED + knowledge_item) if n]
    for need in needs:
        pipe.hincrby(key(month, place, "needs"), need, 1)
    if needs:
        pipe.expire(key(month, place, "needs"), MONTHLY_TTL_S)


class _KeyBuilder:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def __call__(self, *parts: str) -> str:
        return self._settings.key("monthly", *parts)

    def months(self) -> str:
        return self._settings.key("monthly", "months")


def _queue_registration(pipe: Any, key: _KeyBuilder, month: str, city: str) -> None:
    for name, member in ((key.months(), month), (key(month, "cities"), city)):
        pipe.sadd(name, member)
        pipe.expire(name, MONTHLY_TTL_S)


async def best_effort(write: Awaitable[Any], what: str) -> None:
    """Run a counter write that must never fail the user's action (it is only logged)."""
    try:
        await write
    except Exception:
        logger.exception("monthly figure %s not recorded", what)


@dataclass
class Figures:
    """One month's figures for one city, or summed over several."""

    counts: Dict[str, int] = field(default_factory=dict)
    sums: Dict[str, float] = field(default_factory=dict)
    samples: Dict[str, int] = field(default_factory=dict)
    needs: Dict[str, int] = field(default_factory=dict)
    users: int = 0

    def count(self, event: str) -> int:
        return self.counts.get(event, 0)

    def mean(self, metric: str) -> Optional[float]:
        n = self.samples.get(metric, 0)
        return self.sums.get(metric, 0.0) / n if n else None

    def add(self, other: "Figures") -> None:
        """Sum another city's figures into this one (users are merged separately, by HLL union)."""
        for target, source in ((self.counts, other.counts), (self.samples, other.samples), (self.needs, other.needs)):
            for name, value in source.items():
                target[name] = target.get(name, 0) + value
        for name, value in other.sums.items():
            self.sums[name] = self.sums.get(name, 0.0) + value


@dataclass
class MonthReport:
    month: str
    by_city: Dict[str, Figures]
    total: Figures


class MonthlyStats:
    """The one owner of the `monthly` keys."""

    def __init__(self, redis: Any, settings: Settings, clock: Clock = system_clock) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock

    def _key(self, *parts: str) -> str:
        return _KeyBuilder(self._settings)(*parts)

    def _month(self, at: Optional[datetime]) -> str:
        return month_of(at or self._clock())

    def _pipeline(self, month: str, city: str) -> Any:
        """A pipeline that already registers the month and city and renews their expiry."""
        pipe = self._redis.pipeline(transaction=False)
        _queue_registration(pipe, _KeyBuilder(self._settings), month, city)
        return pipe

    def _finish(self, pipe: Any, *keys: str) -> Any:
        for key in keys:
            pipe.expire(key, MONTHLY_TTL_S)
        return pipe.execute()

    async def count(self, event: str, city: Optional[str], amount: int = 1, *, at: Optional[datetime] = None) -> None:
        """Add `amount` to an event's count for the city's month ("handoff_closed", "booking_attended" …)."""
        month, place = self._month(at), place_label(city)  # one spelling per city, whoever writes
        pipe = self._pipeline(month, place)
        pipe.hincrby(self._key(month, place), event, amount)
        await self._finish(pipe, self._key(month, place))

    async def observe(self, metric: str, city: Optional[str], value: float, *, at: Optional[datetime] = None) -> None:
        """Record one sample of a metric whose monthly mean is reported (a wait in seconds, a rating)."""
        month, place = self._month(at), place_label(city)  # one spelling per city, whoever writes
        pipe = self._pipeline(month, place)
        pipe.hincrbyfloat(self._key(month, place), f"sum:{metric}", float(value))
        pipe.hincrby(self._key(month, place), f"n:{metric}", 1)
        await self._finish(pipe, self._key(month, place))

    async def need(self, topic: str, city: Optional[str], *, at: Optional[datetime] = None) -> None:
        """Count one question about a need (an intent name or a knowledge topic)."""
        month, place = self._month(at), place_label(city)  # one spelling per city, whoever writes
        pipe = self._pipeline(month, place)
        pipe.hincrby(self._key(month, place, "needs"), topic, 1)
        await self._finish(pipe, self._key(month, place, "needs"))

    async def user_served(self, openid: str, city: Optional[str], *, at: Optional[datetime] = None) -> None:
        """Count a user once per month and city, however often they write."""
        month, place = self._month(at), place_label(city)  # one spelling per city, whoever writes
        pipe = self._pipeline(month, place)
        pipe.pfadd(self._key(month, place, "users"), openid)
        await self._finish(pipe, self._key(month, place, "users"))

    async def conversation(self, openid: str, city: Optional[str], *, new_month_only: bool = False) -> None:
        """A conversation started (one pipeline): counted, and its user counted as served;
        `new_month_only`: a conversation that ran into a new month counts its user there only."""
        month, place = self._month(None), place_label(city)  # one spelling per city, whoever writes
        pipe = self._pipeline(month, place)
        if not new_month_only:
            pipe.hincrby(self._key(month, place), "conversations", 1)
        pipe.pfadd(self._key(month, place, "users"), openid)
        await self._finish(pipe, self._key(month, place), self._key(month, place, "users"))

    async def months(self) -> List[str]:
        return sorted(await self._redis.smembers(self._key("months")), reverse=True)

    async def cities(self, month: str) -> List[str]:
        return sorted(await self._redis.smembers(self._key(month, "cities")))

    async def month(self, month: str, cities: Optional[Iterable[str]] = None) -> MonthReport:
        """The month's figures per city and in total; `cities` limits both to a staff scope."""
        present = await self.cities(month)
        wanted = present if cities is None else [city for city in present if city in set(cities)]
        by_city = {city: await self._city_figures(month, city) for city in wanted}
        total = Figures()
        for figures in by_city.values():
            total.add(figures)
        total.users = await self._union_users(month, wanted)
        return MonthReport(month=month, by_city=by_city, total=total)

    async def _city_figures(self, month: str, city: str) -> Figures:
        figures = Figures()
        for name, value in (await self._redis.hgetall(self._key(month, city))).items():
            if name.startswith("sum:"):
                figures.sums[name[4:]] = float(value)
            elif name.startswith("n:"):
                figures.samples[name[2:]] = int(value)
            else:
                figures.counts[name] = int(value)
        figures.needs = {k: int(v) for k, v in (await self._redis.hgetall(self._key(month, city, "needs"))).items()}
        figures.users = int(await self._redis.pfcount(self._key(month, city, "users")))
        return figures

    async def _union_users(self, month: str, cities: Sequence[str]) -> int:
        if not cities:
            return 0
        return int(await self._redis.pfcount(*(self._key(month, city, "users") for city in cities)))
