"""Issue 6 through the whole stack: book a workshop in the chat, list, cancel, leave the form.

Every booking the conversation claims is checked in Redis through `user.services.booking`.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import List

import pytest

from bot.clock import SHANGHAI

pytestmark = pytest.mark.stack

_CODE = re.compile(r"预约码[：:]\s*([A-Z0-9]{4,12})")
_OFFER = re.compile(r"^(\d+)\. (.+?)｜(.+?)｜(.+?)｜(.+)$", re.M)


class Timed:
    """Wraps a user to record each turn's latency."""

    def __init__(self, user) -> None:
        self.user = user
        self.latencies: List[float] = []

    async def say(self, text: str) -> str:
        start = time.perf_counter()
        reply = await self.user.say(text)
        self.latencies.append(time.perf_counter() - start)
        assert reply, f"no passive reply to {text!r}"
        return reply


def _cancellable(offers: List[tuple], cutoff: timedelta) -> tuple:
    """The first offered session that starts later than the online-cancel cut-off (at some hours
    the nearest one starts within it, and cancelling it is refused, as it should be)."""
    now = datetime.now(SHANGHAI)
    for offer in offers:
        month, day, hour, minute = map(int, re.match(r"(\d+)月(\d+)日（.+?）(\d+):(\d+)", offer[1]).groups())
        start = datetime(now.year + (month < now.month), month, day, hour, minute, tzinfo=SHANGHAI)
        if start - now > cutoff + timedelta(minutes=10):
            return offer
    raise AssertionError(f"no offered session starts later than {cutoff}: {offers}")


async def book_through_the_chat(user, name: str = "王晓明", phone: str = "13800138000",
                                cancellable: bool = False) -> tuple:
    """The whole booking dialogue; returns (code, label of the session booked, timed wrapper).
    `cancellable`: a session the user may still cancel online, else the one offered as 1."""
    t = Timed(user)
    reply = await t.say("我想约个老师改简历")
    if "请选择想预约的指导类型" in reply:  # the topic was not understood from the request
        assert "1. 简历指导" in reply, reply
        reply = await t.say("1")
    assert "什么时间" in reply, "\n".join(user.transcript)

    reply = await t.say("最近")
    offers = _OFFER.findall(reply)
    assert offers and offers[0][0] == "1", reply
    assert all("简历" in title for _, _, title, _, _ in offers), reply
    number, first_label = (_cancellable(offers, user.services.booking.cancel_cutoff) if cancellable else offers[0])[:2]

    reply = await t.say(number)
    assert "姓名" in reply, reply
    reply = await t.say(name)
    assert "手机号" in reply, reply

    reply = await t.say("1380013800")  # ten digits
    assert "手机号格式不对" in reply and "11位" in reply, reply
    reply = await t.say(phone)  # every detail typed in the form: booked on this answer (actions/booking/quick.py)
    match = _CODE.search(reply)
    assert "预约成功" in reply and match and first_label in reply, reply
    reply = await t.say("确认")  # a yes after it: done already, nothing booked twice
    assert "无需再确认" in reply and match.group(1) in reply, reply
    return match.group(1), first_label, t


async def test_full_booking_from_the_request_to_a_booking_code(chat):
    user = chat()
    code, label, t = await book_through_the_chat(user)

    booking = await user.services.booking.get(code)
    assert booking is not None and booking.openid == user.openid
    assert booking.status == "confirmed"
    assert (booking.name, booking.phone) == ("王晓明", "13800138000")
    slot = await user.services.catalogue.get_slot(booking.slot_id)
    workshop = await user.services.catalogue.get_workshop(slot.workshop_id)
    assert workshop.topic == "简历指导" and slot.label() == label
    mine = await user.services.booking.my_bookings(user.openid)
    assert [v.booking.code for v in mine] == [code]
    assert await user.services.booking.seats_taken(booking.slot_id) >= 1
    print(f"\nbooking turn latencies (s): {[round(x, 3) for x in t.latencies]}")


async def test_my_bookings_lists_it_and_cancel_cancels_it(chat):
    user = chat()
    code, label, _ = await book_through_the_chat(user, "李雪", "15912345678", cancellable=True)
    booking = await user.services.booking.get(code)
    taken = await user.services.booking.seats_taken(booking.slot_id)

    t = Timed(user)
    reply = await t.say("我的预约")
    assert "您有1个预约" in reply and code in reply and label in reply, reply

    reply = await t.say("取消预约")
    assert code in reply and "确定取消" in reply, reply  # the only booking: said back, cancelled on a yes
    reply = await t.say("1")
    assert "已取消预约" in reply and code in reply, reply

    cancelled = await user.services.booking.get(code)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at
    assert await user.services.booking.my_bookings(user.openid) == []
    assert await user.services.booking.seats_taken(booking.slot_id) == taken - 1

    reply = await t.say("不用了")  # no rebooking
    assert "预约成功" not in reply and "什么时间" not in reply, reply
    reply = await t.say("我的预约")
    assert "没有预约" in reply, reply
    print(f"\nmy-bookings/cancel latencies (s): {[round(x, 3) for x in t.latencies]}")


@pytest.mark.parametrize("leave", ["算了", "不约了"])
async def test_leaving_the_form_books_nothing(chat, leave):
    user = chat()
    reply = await user.say("我想约个老师改简历")
    if "请选择想预约的指导类型" in reply:
        reply = await user.say("1")
    assert "什么时间" in reply, reply
    reply = await user.say("最近")
    assert _OFFER.search(reply), reply

    reply = await user.say(leave)
    # a time was chosen: the bot asks before discarding it (actions/form_repair.py)
    assert "确定放弃吗" in reply and "最近" not in reply.split("确定放弃吗")[1], reply
    reply = await user.say("放弃")
    assert "已退出预约" in reply and "没有为您预约" in reply, reply
    assert await user.services.booking.my_bookings(user.openid) == []
    # Out of the form: the next message is understood on its own, not as a slot choice.
    reply = await user.say("你好")
    assert "职引" in reply, reply


async def test_bad_phone_is_asked_again_with_a_reason(chat):
    user = chat()
    await user.say("我想约个老师改简历")
    if "请选择想预约的指导类型" in user.transcript[-1]:
        await user.say("1")
    await user.say("最近")
    await user.say("1")
    assert "手机号" in await user.say("赵一")
    for bad in ("12345", "2380013800a", "138001380001"):
        reply = await user.say(bad)
        assert "手机号格式不对" in reply and "11位" in reply, (bad, reply)
    reply = await user.say("我的手机是138-0013-8000")
    # the number typed in the form: booked on this answer, with that number
    match = _CODE.search(reply)
    assert "预约成功" in reply and match, reply
    assert (await user.services.booking.get(match.group(1))).phone == "13800138000"
