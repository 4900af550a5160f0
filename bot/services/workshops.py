"""The workshop catalogue: career-guidance workshops and their bookable time slots.

A plain domain module (no Rasa, no HTTP). The shipped sample lives in `data/workshops.yml`:
each workshop has weekly patterns ("every Tuesday 14:00-16:00") that `expand_catalogue` turns
into concrete slots for the next `weeks` weeks from "now" (so the sample never runs out), plus
optional one-off slots. `WorkshopCatalogue.sync_from_file` loads it into Redis (at start-up and
daily, `bot/services/session_roll.py`); staff edit slots with `upsert_slot` (the booking service
wraps that to fill freed seats from a waitlist).

Redis layout (all under `settings.key("ws", ...)`):
    ws:workshop:<id>   HASH  every field of one workshop
    ws:workshops       SET   workshop ids
    ws:slot:<id>       HASH  id, workshop_id, start, end, start_ts, capacity, status (open|cancelled)
    ws:slots           ZSET  slot id -> start (epoch seconds)

Seat counts are not here: the booking service owns them (`bot.services.booking`) and reads
`capacity` and `start_ts` from the slot hash inside its Lua scripts.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import redis.asyncio as aioredis
import yaml

from bot.clock import SHANGHAI, Clock, system_clock
from bot.settings import PROJECT_ROOT, Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("ws",)

DEFAULT_CATALOGUE = PROJECT_ROOT / "data" / "workshops.yml"

TOPICS: Tuple[str, ...] = ("简历指导", "面试技巧", "职业规划", "一对一咨询", "创业指导")
MODES: Tuple[str, ...] = ("线下", "线上")

# Words users say for each topic (the NLU's workshop_topic entity normally maps these already).
TOPIC_ALIASES: Dict[str, Tuple[str, ...]] = {
    "简历指导": ("简历", "改简历", "履历", "cv", "求职信"),
    "面试技巧": ("面试", "模拟面试", "面谈", "群面", "无领导"),
    "职业规划": ("规划", "职业方向", "生涯", "择业", "职业发展"),
    # a talk alone with a counsellor, however said ("想找老师单独聊聊", "当面聊聊")
    "一对一咨询": ("一对一", "1对1", "单独", "个人咨询", "咨询老师", "职业咨询", "面对面", "当面"),
    "创业指导": ("创业", "开店", "自主创业", "创业担保贷款"),
}

_WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}
_TIME_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


# KEYS: slot hash, slots zset. ARGV: slot id, start_ts, then the hash's field/value pairs.
_ADD_IF_MISSING = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
"""


def _flatten(mapping: Mapping[str, str]) -> List[str]:
    return [part for pair in mapping.items() for part in pair]


class CatalogueError(ValueError):
    """Invalid catalogue data (a bad file, or a staff edit that makes no sense)."""


def normalise_topic(text: Optional[str]) -> Optional[str]:
    """Map a topic name, alias or free text to one of `TOPICS` (None when unclear)."""
    if not text:
        return None
    value = str(text).strip().lower()
    for topic in TOPICS:
        if topic in value or value == topic:
            return topic
    for topic, aliases in TOPIC_ALIASES.items():
        if any(alias in value for alias in aliases):
            return topic
    return None


@dataclass(frozen=True)
class Workshop:
    id: str
    topic: str
    title: str
    description: str
    counsellor: str
    service_point_id: str
    city: str
    mode: str  # 线下 | 线上
    venue: str = ""
    link: str = ""
    # set for an expert's one-to-one consultations (bot/services/experts/): booked from the expert
    # search, so the general topic listing leaves them out
    expert_id: str = ""

    def __post_init__(self) -> None:
        if self.topic not in TOPICS:
            raise CatalogueError(f"workshop {self.id}: topic {self.topic!r} not in {TOPICS}")
        if self.mode not in MODES:
            raise CatalogueError(f"workshop {self.id}: mode {self.mode!r} not in {MODES}")
        if self.mode == "线上" and not self.link:
            raise CatalogueError(f"workshop {self.id}: an online workshop needs a link")

    @property
    def where(self) -> str:
        """Where to go, as a user reads it."""
        if self.mode == "线上":
            return f"线上（{self.link}）"
        return self.venue or self.city

    def to_hash(self) -> Dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> "Workshop":
        return cls(**{k: data.get(k, "") for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Slot:
    id: str
    workshop_id: str
    start: datetime
    end: datetime
    capacity: int
    status: str = "open"  # open | cancelled

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise CatalogueError(f"slot {self.id}: times must be timezone-aware")
        if self.end <= self.start:
            raise CatalogueError(f"slot {self.id}: end must be after start")
        if self.capacity < 0:
            raise CatalogueError(f"slot {self.id}: capacity must be >= 0")
        if self.status not in ("open", "cancelled"):
            raise CatalogueError(f"slot {self.id}: unknown status {self.status!r}")

    def to_hash(self) -> Dict[str, str]:
        return {
            "id": self.id,
            "workshop_id": self.workshop_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "start_ts": repr(self.start.timestamp()),
            "capacity": str(self.capacity),
            "status": self.status,
        }

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> "Slot":
        return cls(
            id=data["id"],
            workshop_id=data["workshop_id"],
            start=datetime.fromisoformat(data["start"]),
            end=datetime.fromisoformat(data["end"]),
            capacity=int(data["capacity"]),
            status=data.get("status", "open"),
        )

    def label(self) -> str:
        """"12月3日（周三）14:00-16:00" in Shanghai time."""
        start = self.start.astimezone(SHANGHAI)
        end = self.end.astimezone(SHANGHAI)
        weekday = "一二三四五六日"[start.weekday()]
        return f"{start.month}月{start.day}日（周{weekday}）{start:%H:%M}-{end:%H:%M}"


def slot_id_for(workshop_id: str, start: datetime) -> str:
    return f"{workshop_id}-{start.astimezone(SHANGHAI):%Y%m%d-%H%M}"


def _parse_weekday(value: Any) -> int:
    if isinstance(value, int) and 1 <= value <= 7:
        return value
    text = str(value).strip()
    for prefix in ("周", "星期", "礼拜"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if text in _WEEKDAYS:
        return _WEEKDAYS[text]
    if text.isdigit() and 1 <= int(text) <= 7:
        return int(text)
    raise CatalogueError(f"bad weekday {value!r}")


def _parse_range(value: str) -> Tuple[time, time]:
    match = _TIME_RANGE.match(str(value))
    if not match:
        raise CatalogueError(f"bad time range {value!r} (want HH:MM-HH:MM)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return time(h1, m1), time(h2, m2)


def _aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def expand_catalogue(
    data: Mapping[str, Any], now: datetime
) -> Tuple[List[Workshop], List[Slot]]:
    """Workshops and concrete slots from catalogue data (the parsed YAML), relative to `now`.

    Weekly patterns are expanded for `weeks` weeks (default 4) starting today; slots that have
    already started are left out.
    """
    now = now.astimezone(SHANGHAI)
    weeks = int(data.get("weeks", 4))
    workshops: List[Workshop] = []
    slots: List[Slot] = []
    seen = set()
    for item in data.get("workshops") or []:
        fields = {k: str(item.get(k, "") or "") for k in Workshop.__dataclass_fields__}
        workshop = Workshop(**fields)
        if workshop.id in seen:
            raise CatalogueError(f"duplicate workshop id {workshop.id}")
        seen.add(workshop.id)
        workshops.append(workshop)
        default_capacity = int(item.get("capacity", 10))
        today = now.date()
        for pattern in item.get("weekly") or []:
            weekday = _parse_weekday(pattern["weekday"])
            begin, finish = _parse_range(pattern["time"])
            capacity = int(pattern.get("capacity", default_capacity))
            for offset in range(weeks * 7):
                day: date = today + timedelta(days=offset)
                if day.isoweekday() != weekday:
                    continue
                start = datetime.combine(day, begin, SHANGHAI)
                end = datetime.combine(day, finish, SHANGHAI)
                if start <= now:
                    continue
                slots.append(Slot(slot_id_for(workshop.id, start), workshop.id, start, end, capacity))
        for one_off in item.get("slots") or []:
            start, end = _aware(one_off["start"]), _aware(one_off["end"])
            if start <= now:
                continue
            capacity = int(one_off.get("capacity", default_capacity))
            slots.append(
                Slot(one_off.get("id") or slot_id_for(workshop.id, start), workshop.id, start, end, capacity)
            )
    slots.sort(key=lambda s: (s.start, s.id))
    return workshops, slots


def load_catalogue_file(
    path: Path = DEFAULT_CATALOGUE, now: Optional[datetime] = None
) -> Tuple[List[Workshop], List[Slot]]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return expand_catalogue(data, now or system_clock())


@dataclass(frozen=True)
class SyncResult:
    workshops: int
    slots_created: int
    slots_kept: int


class WorkshopCatalogue:
    """The catalogue in Redis: read by the booking service and the actions, edited by staff."""

    def __init__(self, redis: aioredis.Redis, settings: Settings, clock: Clock = system_clock):
        self._redis = redis
        self._settings = settings
        self._clock = clock

    def workshop_key(self, workshop_id: str) -> str:
        return self._settings.key("ws", "workshop", workshop_id)

    def slot_key(self, slot_id: str) -> str:
        return self._settings.key("ws", "slot", slot_id)

    @property
    def slots_key(self) -> str:
        return self._settings.key("ws", "slots")

    @property
    def workshops_key(self) -> str:
        return self._settings.key("ws", "workshops")

    # ---- writes --------------------------------------------------------------------------
    async def upsert_workshop(self, workshop: Workshop) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.workshop_key(workshop.id))
            pipe.hset(self.workshop_key(workshop.id), mapping=workshop.to_hash())
            pipe.sadd(self.workshops_key, workshop.id)
            await pipe.execute()

    async def upsert_slot(self, slot: Slot) -> None:
        """Add or change a slot (staff edit). The workshop must exist. Lowering the capacity
        below the seats already booked keeps those bookings and takes no new ones."""
        if not await self._redis.exists(self.workshop_key(slot.workshop_id)):
            raise CatalogueError(f"unknown workshop {slot.workshop_id!r}")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.slot_key(slot.id), mapping=slot.to_hash())
            pipe.zadd(self.slots_key, {slot.id: slot.start.timestamp()})
            await pipe.execute()

    async def add_slot_if_missing(self, slot: Slot) -> bool:
        """Create a generated slot unless its id exists (one script: two gateways, or a retried
        job, create it once, and an existing slot, edited by staff or booked, is never touched).
        The caller has written the workshop."""
        added = await self._redis.eval(
            _ADD_IF_MISSING, 2, self.slot_key(slot.id), self.slots_key,
            slot.id, repr(slot.start.timestamp()), *_flatten(slot.to_hash()),
        )
        return bool(added)

    async def sync_from_file(self, path: Path = DEFAULT_CATALOGUE) -> SyncResult:
        """Load the shipped catalogue: workshops are (re)written, slots only created when
        missing, so staff edits to existing slots are never overwritten by a restart or by
        the daily roll-forward (`bot/services/session_roll.py`)."""
        workshops, slots = load_catalogue_file(path, self._clock())
        for workshop in workshops:
            await self.upsert_workshop(workshop)
        created = 0
        for slot in slots:
            created += await self.add_slot_if_missing(slot)
        return SyncResult(len(workshops), created, len(slots) - created)

    # ---- reads ---------------------------------------------------------------------------
    async def get_workshop(self, workshop_id: str) -> Optional[Workshop]:
        data = await self._redis.hgetall(self.workshop_key(workshop_id))
        return Workshop.from_hash(data) if data else None

    async def workshops(self) -> List[Workshop]:
        ids = sorted(await self._redis.smembers(self.workshops_key))
        found = [await self.get_workshop(i) for i in ids]
        return [w for w in found if w]

    async def get_slot(self, slot_id: str) -> Optional[Slot]:
        data = await self._redis.hgetall(self.slot_key(slot_id))
        return Slot.from_hash(data) if data.get("workshop_id") else None

    async def get_slots(self, slot_ids: Sequence[str]) -> Dict[str, Slot]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for slot_id in slot_ids:
                pipe.hgetall(self.slot_key(slot_id))
            rows = await pipe.execute()
        return {sid: Slot.from_hash(row) for sid, row in zip(slot_ids, rows) if row.get("workshop_id")}

    async def slots_between(self, start: datetime, end: datetime) -> List[Tuple[Slot, Workshop]]:
        """Every slot starting in [start, end), past, open or cancelled, by start time: the
        staff's session list (a session that began an hour ago still needs its check-in)."""
        ids = await self._redis.zrangebyscore(self.slots_key, start.timestamp(), f"({end.timestamp()}")
        slots = await self.get_slots(ids)
        cache: Dict[str, Optional[Workshop]] = {}
        found: List[Tuple[Slot, Workshop]] = []
        for slot_id in ids:
            slot = slots.get(slot_id)
            if slot is None:
                continue
            if slot.workshop_id not in cache:
                cache[slot.workshop_id] = await self.get_workshop(slot.workshop_id)
            if cache[slot.workshop_id] is not None:
                found.append((slot, cache[slot.workshop_id]))  # type: ignore[arg-type]
        return found

    async def find_slots(
        self,
        topic: Optional[str] = None,
        start: Optional[datetime] = None,
        end: Optional[datetime] = None,
        city: Optional[str] = None,
        limit: int = 50,
        workshop_id: Optional[str] = None,
    ) -> List[Tuple[Slot, Workshop]]:
        """Open slots starting in [start, end] (never in the past), by start time.

        With `city`, offline workshops elsewhere are left out (online ones always qualify).
        With `workshop_id`, only that workshop's slots; without, experts' consultations are left out.
        """
        now = self._clock()
        low = max(start or now, now).timestamp()
        high = end.timestamp() if end else "+inf"
        ids = await self._redis.zrangebyscore(self.slots_key, f"({low}", high)
        slots = await self.get_slots(ids)
        cache: Dict[str, Optional[Workshop]] = {}
        found: List[Tuple[Slot, Workshop]] = []
        for slot_id in ids:
            slot = slots.get(slot_id)
            if slot is None or slot.status != "open":
                continue
            if workshop_id and slot.workshop_id != workshop_id:
                continue
            if slot.workshop_id not in cache:
                cache[slot.workshop_id] = await self.get_workshop(slot.workshop_id)
            workshop = cache[slot.workshop_id]
            if workshop is None or (topic and workshop.topic != topic):
                continue
            if workshop.expert_id and not workshop_id:
                continue
            if city and workshop.mode == "线下" and workshop.city != city:
                continue
            found.append((slot, workshop))
            if len(found) >= limit:
                break
        return found
