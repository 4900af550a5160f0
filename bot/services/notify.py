"""The contract for telling a user something outside a reply (pushes, reminders, promotions).

Features depend on this protocol; `bot.services.push.PushService` is the implementation that
applies the WeChat customer-service window and quota, template fallback, quiet hours and
opt-out. Keeping the protocol here lets booking, camp and courses be tested in isolation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Protocol


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


class Notifier(Protocol):
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
        ...
