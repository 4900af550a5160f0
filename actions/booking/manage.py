"""After booking: my bookings, cancelling one (by number or code), the follow-up answers to
what the last booking reply asked (join the waitlist? which to cancel?) and rebooking."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.booking.common import (
    booking_service,
    describe_slot,
    is_stop,
    parse_choice,
    profiles,
    request_id,
    reset_form,
    success_text,
)
from bot.services.booking.codes import find_codes


class ActionMyBookings(Action):
    def name(self) -> Text:
        return "action_my_bookings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        service = booking_service()
        views = await service.my_bookings(tracker.sender_id)
        waits = await service.my_waitlists(tracker.sender_id)
        if not views and not waits:
            dispatcher.utter_message(text="您目前没有预约。说“预约指导”即可预约简历、面试、职业规划等指导。")
            return [SlotSet("booking_pending", None)]
        lines = [f"您有{len(views)}个预约："] if views else []
        for i, view in enumerate(views, 1):
            title = view.workshop.title if view.workshop else ""
            where = view.workshop.where if view.workshop else ""
            lines.append(f"{i}. {view.slot.label() if view.slot else ''} {title}\n   地点：{where}\n   预约码：{view.booking.code}")
        for slot, position in waits:
            lines.append(f"候补中：{slot.label()}（第{position}位）")
        lines.append("取消请说“取消预约”。")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("booking_pending", None)]


async def _cancel_and_reply(dispatcher: CollectingDispatcher, tracker: Tracker, code: str) -> List[EventType]:
    service = booking_service()
    booking = await service.get(code)
    slot = await service.catalogue.get_slot(booking.slot_id) if booking else None
    workshop = await service.catalogue.get_workshop(slot.workshop_id) if slot else None
    result = await service.cancel(tracker.sender_id, code)
    if result.status == "cancelled":
        dispatcher.utter_message(
            text=f"已取消预约（预约码{code}{'，' + slot.label() if slot else ''}），名额已释放给其他求职者。"
            "需要改约其他时间吗？回复“是”重新预约，回复“否”结束。"
        )
        return [
            SlotSet("booking_pending", "rebook"),
            SlotSet("booking_cancel_options", None),
            SlotSet("booking_last_topic", workshop.topic if workshop else None),
        ]
    if result.status == "too_late":
        hours = int(service.cancel_cutoff.total_seconds() // 3600)
        dispatcher.utter_message(
            text=f"距开始已不足{hours}小时，无法在线取消。如不能参加，请直接联系服务点或说“转人工”。"
        )
    else:
        dispatcher.utter_message(text="没有找到这个预约，或它已经取消了。说“我的预约”可查看当前预约。")
    return [SlotSet("booking_pending", None), SlotSet("booking_cancel_options", None)]


class ActionCancelBooking(Action):
    def name(self) -> Text:
        return "action_cancel_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        views = await booking_service().my_bookings(tracker.sender_id)
        if not views:
            dispatcher.utter_message(text="您目前没有可以取消的预约。")
            return [SlotSet("booking_pending", None)]
        mine = {v.booking.code for v in views}
        for code in find_codes(tracker.latest_message.get("text") or ""):
            if code in mine:
                return await _cancel_and_reply(dispatcher, tracker, code)
        lines = ["请回复要取消的预约序号（或预约码）："]
        for i, view in enumerate(views, 1):
            title = view.workshop.title if view.workshop else ""
            lines.append(f"{i}. {view.slot.label() if view.slot else ''} {title}（{view.booking.code}）")
        lines.append("回复“算了”不取消。")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("booking_pending", "cancel_pick"), SlotSet("booking_cancel_options", [v.booking.code for v in views])]


class ActionBookingFollowup(Action):
    """Answers to what the last booking reply asked (join waitlist? which to cancel? rebook?)."""

    def name(self) -> Text:
        return "action_booking_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        pending = tracker.get_slot("booking_pending")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = (tracker.latest_message.get("text") or "").strip()
        clear = [SlotSet("booking_pending", None)]
        if is_stop(tracker) or intent == "deny":
            dispatcher.utter_message(text="好的。还有什么可以帮您的吗？")
            return clear + [SlotSet("booking_cancel_options", None), SlotSet("booking_waitlist_slot", None)]
        if pending == "waitlist":
            slot_id = tracker.get_slot("booking_waitlist_slot")
            profile = await profiles().get(tracker.sender_id)
            service = booking_service()
            result = await service.join_waitlist(
                tracker.sender_id, slot_id, profile.get("name", ""), profile.get("phone", "")
            )
            if result.status == "available":
                result = await service.book(
                    tracker.sender_id, slot_id, profile.get("name", ""), profile.get("phone", ""), request_id(tracker)
                )
            found = await describe_slot(service, slot_id)
            if result.booked and found:
                dispatcher.utter_message(text="正好有名额空出来了！" + success_text(result.code, found[0], found[1]))
            elif result.status == "waiting":
                dispatcher.utter_message(
                    text=f"已加入候补名单，目前排第{result.position}位。有人取消时会按顺序自动为您补位并通知您。"
                )
            elif result.status == "limit":
                dispatcher.utter_message(text="您的预约已达上限，请先取消一个再预约。")
            else:
                dispatcher.utter_message(text="这个场次已经开始或已取消，请说“预约指导”重新选择。")
            return clear + [SlotSet("booking_waitlist_slot", None)]
        if pending == "cancel_pick":
            options = list(tracker.get_slot("booking_cancel_options") or [])
            codes = [c for c in find_codes(text) if c in options]
            choice = parse_choice(tracker, len(options))
            if codes:
                return await _cancel_and_reply(dispatcher, tracker, codes[0])
            if choice:
                return await _cancel_and_reply(dispatcher, tracker, options[choice - 1])
            dispatcher.utter_message(text=f"请回复1-{len(options)}之间的序号，或回复“算了”不取消。")
            return []
        if pending == "rebook":  # a "yes" here is handled by action_booking_rebook
            return clear
        return clear


class ActionBookingRebook(Action):
    """After a cancellation, "是" starts the booking form again on the same topic."""

    def name(self) -> Text:
        return "action_booking_rebook"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return reset_form() + [
            SlotSet("booking_pending", None),
            SlotSet("booking_topic", tracker.get_slot("booking_last_topic")),
        ]
