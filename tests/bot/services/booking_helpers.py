"""Shared helpers for the booking tests: a recording Notifier and a small catalogue."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Dict, List

from bot.clock import SHANGHAI, FrozenClock
from bot.services.notify import DeliveryResult, Notice, Notifier
from bot.services.workshops import Slot, Workshop, WorkshopCatalogue

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)  # a Tuesday morning


@dataclass
class RecordingNotifier(Notifier):
    """Records every delivery; honours dedupe_key like the real PushService."""

    sent: List[dict] = field(default_factory=list)
    _seen: Dict[str, DeliveryResult] = field(default_factory=dict)

    async def deliver(self, notice: Notice) -> DeliveryResult:
        key = notice.dedupe_key
        if key and key in self._seen:
            return self._seen[key]
        self.sent.append({"openid": notice.openid, "text": notice.text, "kind": notice.kind, "dedupe_key": key})
        result = DeliveryResult("sent", channel="customer_service")
        if key:
            self._seen[key] = result
        return result

    def to(self, openid: str) -> List[dict]:
        return [m for m in self.sent if m["openid"] == openid]


WORKSHOP = Workshop(
    id="t-resume",
    topic="简历指导",
    title="简历诊断工作坊",
    description="测试",
    counsellor="李老师",
    service_point_id="jn-test",
    city="济南",
    mode="线下",
    venue="济南市历下区测试路1号",
)


async def add_slot(
    catalogue: WorkshopCatalogue,
    slot_id: str,
    start: datetime,
    capacity: int,
    workshop: Workshop = WORKSHOP,
) -> Slot:
    if not await catalogue.get_workshop(workshop.id):
        await catalogue.upsert_workshop(workshop)
    slot = Slot(slot_id, workshop.id, start, start + timedelta(hours=2), capacity)
    await catalogue.upsert_slot(slot)
    return slot


def frozen() -> FrozenClock:
    return FrozenClock(T0)
