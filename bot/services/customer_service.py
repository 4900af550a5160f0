"""The one way a customer-service (客服) text leaves the bot: a quota unit of the 48-hour window is
spent first, then the API is called, and WeChat's window refusals are recorded on the window.

Callers (the push service, the late-answer push, the console's reply) differ only in how the API
call itself is made: `call` is an explicit parameter (the push service passes its token bucket and
retries; the others call once). Notice policies (opt-out, quiet hours, template fallback) stay in
`bot.services.push`; the WeChat client stays the protocol layer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional, Tuple

OUT_OF_WINDOW = 45015  # no user interaction within 48 h (or unfollowed)
OUT_OF_QUOTA = 45047  # customer-service message count exhausted
WINDOW_REFUSALS = (OUT_OF_WINDOW, OUT_OF_QUOTA)

# Makes one API call: (0, "") when sent, (errcode, errmsg) when WeChat refused, (None, "") when
# the caller's throttle gave up before calling.
ApiCall = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Tuple[Optional[int], str]]]


@dataclass(frozen=True)
class SendResult:
    sent: bool
    # why not: the window's reason ("window_closed", "quota_exhausted", "blocked", or an open
    # window's name when another sender spent the last unit), "rate_limited", or "wechat_<code>"
    reason: str = ""
    errcode: Optional[int] = None
    errmsg: str = ""


async def call_once(send: Callable[[], Awaitable[Any]]) -> Tuple[Optional[int], str]:
    """One API call; a WeChat error (anything carrying `errcode`) is returned, others propagate."""
    try:
        await send()
    except Exception as exc:
        if not hasattr(exc, "errcode"):
            raise
        return int(getattr(exc, "errcode")), str(getattr(exc, "errmsg", ""))
    return 0, ""


class CustomerServiceSender:
    """Sends customer-service texts on a WeChat client (`send_text`) within a window
    (`consume`, `may_send`, `record_api_refusal`)."""

    def __init__(self, client: Any, window: Any) -> None:
        self._client = client
        self._window = window

    async def send(self, openid: str, text: str, *, call: ApiCall = call_once) -> SendResult:
        if not await self._window.consume(openid):
            _allowed, reason = await self._window.may_send(openid)
            return SendResult(False, reason)
        code, msg = await call(lambda: self._client.send_text(openid, text))
        if code == 0:
            return SendResult(True)
        if code is None:
            return SendResult(False, "rate_limited")
        if code in WINDOW_REFUSALS:
            await self._window.record_api_refusal(openid, code)
        return SendResult(False, f"wechat_{code}", code, msg)
