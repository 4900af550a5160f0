"""The contract for telling a user something outside a reply (pushes, reminders, promotions).

Features depend on `Notifier`; `bot.services.push.PushService` is the implementation that
applies the WeChat customer-service window and quota, template fallback, quiet hours and
opt-out. Keeping the contract here lets booking, camp and courses be tested in isolation.
`notify()`'s signature lives here once: implementations write `deliver(notice)`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Dict, Optional


@dataclass(frozen=True)
class TemplateMessage:
    """A template/subscribe message for when the 48-hour window is closed."""

    template_id: str
    data: Dict[str, str] = field(default_factory=dict)
    url: Optional[str] = None


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one notification."""

    status: str  # "sent" | "skipped" | "failed" | "deferred"
    reason: str = ""
    channel: str = ""  # "customer_service" | "template" | ""

    @property
    def delivered(self) -> bool:
        return self.status == "sent"


@dataclass(frozen=True)
class Notice:
    """One thing to tell one user outside a reply (the arguments of one `notify()` call)."""

    openid: str
    text: str
    kind: str
    template: Optional[TemplateMessage] = None
    dedupe_key: Optional[str] = None


class Notifier(ABC):
    async def notify(
        self,
        openid: str,
        text: str,
        *,
        kind: str,
        template: Optional[TemplateMessage] = None,
        dedupe_key: Optional[str] = None,
    ) -> DeliveryResult:
        """Deliver `text` to the user; `kind` names the feature (reminder, camp_push …).

        `dedupe_key`, when given, makes the call idempotent: a second call with the same key
        returns the first result without sending again.
        """
        return await self.deliver(Notice(openid, text, kind, template, dedupe_key))

    @abstractmethod
    async def deliver(self, notice: Notice) -> DeliveryResult:
        """Deliver one notice, honouring its `dedupe_key` as `notify()` promises."""
