"""The handoff vocabulary (priorities, reasons, outcomes) and what queue operations return."""
from __future__ import annotations

from dataclasses import dataclass

from bot.services.handoff.config import HandoffConfig
from bot.services.phone import mask_phone

# Priority bands: higher is served first.
PRIORITY_NORMAL = 0
PRIORITY_REPEATED_FAILURE = 1
PRIORITY_COMPLAINT = 2
PRIORITY_LABELS = {PRIORITY_NORMAL: "普通", PRIORITY_REPEATED_FAILURE: "较高", PRIORITY_COMPLAINT: "高"}

REASON_LABELS = {
    "request_human": "用户要求转人工",
    "repeated_fallback": "机器人连续两次未理解",
    "complaint": "投诉",
    "callback": "预约回电",
    "action": "机器人判断需人工",
}

OUTCOMES = {
    "resolved": "已解决",
    "referred": "已转介线下",
    "callback_done": "已回电",
    "no_response": "用户未回复",
    "handed_back": "交回机器人",
    "user_cancelled": "用户取消",
    "other": "其他",
}
# outcomes after which the user is asked to rate the service (bot/services/satisfaction.py)
RATED_OUTCOMES = frozenset({"resolved", "referred", "callback_done", "handed_back", "other"})


class HandoffError(Exception):
    """A queue operation that cannot be done; `code` is stable, `message` is Chinese."""

    def __init__(self, code: str, message: str, holder: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.holder = holder


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str  # "ok" | "off_hours" | "no_staff"
    online: int


@dataclass(frozen=True)
class RequestOutcome:
    item_id: str
    created: bool  # False when the user was already queued / held
    position: int  # 1-based, 0 when held by a counsellor
    wait_minutes: int
    availability: Availability
    status: str
    city: str = ""  # the user's city the item was routed to ("" = the provincial pool)
    pool: str = "province"
    fallback_minutes: float = 0.0

    def user_text(self, config: HandoffConfig) -> str:
        if self.status == "claimed":
            return "职业指导师正在为您服务，请直接发送您的问题。"
        if self.status == "callback":
            return "已为您登记回电，职业指导师会在工作时间联系您。"
        head = f"已为您转接人工服务，由{who_answers(self.city, self.pool)}为您解答" if self.created else "您已在人工服务队列中"
        text = (
            f"{head}，目前排在第 {self.position} 位，预计等待约 {self.wait_minutes} 分钟。"
            f"职业指导师接入后会直接在这里回复您；等待期间您发的消息都会转给职业指导师。{self._fallback_note()}"
            "不想等了可以回复“取消”。"
        )
        if not self.availability.available:
            text = unavailable_text(self.availability, config) + "\n" + (
                "您的问题也已登记，职业指导师上线后会尽快处理。"
            )
        return text

    def _fallback_note(self) -> str:
        if not self.created or not self.city or self.pool != "city":
            return ""
        return f"如{self.city}的职业指导师 {self.fallback_minutes:g} 分钟内未能接入，将由省级职业指导师为您服务。"


def who_answers(city: str, pool: str = "city") -> str:
    """Who will answer, as the user reads it: the city's counsellors or the province's."""
    return f"{city}的职业指导师" if city and pool == "city" else "省级职业指导师"


def _why_unavailable(avail: Availability, config: HandoffConfig) -> str:
    if avail.reason == "off_hours":
        return f"现在不在人工服务时间（{config.describe_hours()}）"
    return "现在暂时没有职业指导师在线"


_BOOKING_OPTION = "回复“预约指导课”，预约线下一对一职业指导"
_OPTIONS = f"1. 直接回复您的手机号码，我们会在工作时间给您回电；\n2. {_BOOKING_OPTION}。"


def unavailable_text(avail: Availability, config: HandoffConfig) -> str:
    return f"{_why_unavailable(avail, config)}。您可以：\n{_OPTIONS}"


def left_message_text(
    avail: Availability, config: HandoffConfig, next_opening: str, city: str = "", phone: str = ""
) -> str:
    """What a user hears who asked for a person while nobody is available: the request is kept
    for staff, who will answer (`city`'s counsellors, else the province's) and when to expect
    contact (`next_opening`, e.g. "下周一 8:30"; "" = unknown). `config`: the city's desk's.
    `phone`: a number the request itself gave ("电话是138…，让人工打给我"), noted for the callback."""
    who = who_answers(city)
    how = f"给您回电（{mask_phone(phone)}）" if phone else "联系您（公众号消息或服务通知）"
    if avail.reason == "off_hours" and next_opening:
        when = f"{who}会在{next_opening}后查看并{how}"
    else:
        when = f"{who}上线后会尽快查看并{how}"
    if config.callback_promise:
        when += f"，{config.callback_promise}"
    if phone:
        return (f"{_why_unavailable(avail, config)}。您的问题、刚才的对话和回电号码已为您留言，{when}。\n"
                f"您还可以{_BOOKING_OPTION}。")
    return f"{_why_unavailable(avail, config)}。您的问题和刚才的对话已为您留言，{when}。\n您还可以：\n{_OPTIONS}"
