"""What staff and users read about a booking: status labels, export rows, reminders, promotions."""
from __future__ import annotations

from typing import List, Optional, Tuple

from bot.services.booking.models import Booking, BookingView
from bot.services.notify import TemplateMessage
from bot.services.workshops import Slot, Workshop

REMINDER_TEMPLATE_ID = "booking_reminder"  # mapped to a real template id by PushService config
PROMOTED_TEMPLATE_ID = "booking_promoted"

STATUS_LABELS = {
    "confirmed": "已预约",
    "cancelled": "已取消",
    "attended": "已到场",
    "no_show": "未到场",
}

CSV_HEADER = [
    "预约码", "场次编号", "工作坊", "主题", "时间", "地点",
    "姓名", "手机号", "状态", "来源", "预约时间", "取消时间",
]


def csv_row(
    booking: Booking, slot_id: str, slot: Optional[Slot], workshop: Optional[Workshop]
) -> List[str]:
    """One booking as an export row (SafeCsvWriter makes each cell safe to open in a spreadsheet)."""
    return [
        "" if v is None else str(v)
        for v in (
            booking.code,
            slot_id,
            workshop.title if workshop else "",
            workshop.topic if workshop else "",
            slot.label() if slot else "",
            workshop.where if workshop else "",
            booking.name,
            booking.phone,
            STATUS_LABELS.get(booking.status, booking.status),
            "候补转正" if booking.source == "waitlist" else "直接预约",
            booking.created_at,
            booking.cancelled_at,
        )
    ]


def reminder_notice(view: BookingView, which: Optional[str]) -> Tuple[str, TemplateMessage]:
    """The reminder text and template of a confirmed booking (`which`: "day" or "hour" before)."""
    slot, workshop, code = view.slot, view.workshop, view.booking.code
    assert slot is not None and workshop is not None  # the caller skips bookings without them
    when = "明天" if which == "day" else "1小时后"
    text = (
        f"【预约提醒】您预约的“{workshop.title}”将于{when}开始：\n"
        f"时间：{slot.label()}\n地点：{workshop.where}\n"
        f"预约码：{code}\n如不能参加，请回复“取消预约”把名额留给其他人。"
    )
    template = TemplateMessage(
        REMINDER_TEMPLATE_ID,
        {"title": workshop.title, "time": slot.label(), "place": workshop.where, "code": code},
    )
    return text, template


def promotion_notice(view: BookingView) -> Tuple[str, TemplateMessage]:
    """The notice to a waiting user who was given a freed seat."""
    slot, workshop, code = view.slot, view.workshop, view.booking.code
    assert slot is not None and workshop is not None  # the caller skips bookings without them
    text = (
        f"【候补成功】有人取消了预约，您已自动补上“{workshop.title}”：\n"
        f"时间：{slot.label()}\n地点：{workshop.where}\n"
        f"预约码：{code}\n如不能参加，请回复“取消预约”。"
    )
    template = TemplateMessage(
        PROMOTED_TEMPLATE_ID, {"title": workshop.title, "time": slot.label(), "code": code}
    )
    return text, template
