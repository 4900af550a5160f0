"""After booking: my bookings and enrolments, cancelling one (by number or code), the follow-up
answers to what the last booking reply asked (join the waitlist? which to cancel?) and rebooking.

"我的预约/我的报名" and "取消预约/取消报名" cover everything the user holds (`bot.services.my_things`):
workshop bookings, workshop waitlist places and camp enrolments."""
from __future__ import annotations

import re
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import actions.camp as camp
from actions import runtime
from actions.booking.common import (
    booking_service,
    choice_in_text,
    describe_slot,
    is_stop,
    parse_choice,
    profiles,
    request_id,
    reset_form,
    success_text,
)
from actions.done_already import correct_phone_just_given
from actions.flow_start import last_bot_action, signs_up_after_camp_answer, start_named_flow
from bot.services.camp import EnrollmentStore
from bot.services.my_things import (
    BOOKING,
    BOOKING_WAIT,
    CAMP,
    Holding,
    camp_holdings,
    cancel_enrolment,
    find_holding,
    named_by_words,
    plain,
    workshop_holdings,
)
from bot.services.request_words import CANCEL_WORDS_RE, CODE_LIKE_RE

NOTHING = "您目前没有预约或实训营报名。说“预约指导”可预约简历、面试、职业规划等指导，说“报名实训营”可报名青年求职能力实训营。"


def _enrolments() -> EnrollmentStore:
    return EnrollmentStore(runtime.redis(), runtime.settings(), camp.clock)


async def my_holdings(openid: str) -> List[Holding]:
    """Workshop bookings and waitlist places, then camp enrolments: the numbering users see."""
    workshops = await workshop_holdings(booking_service(), openid)
    return workshops + await camp_holdings(_enrolments(), camp.current_catalogue(), openid, camp.today())


def _listen_unless_routed(tracker: Tracker) -> List[EventType]:
    """Started for a message NLU did not place ("我报了哪些", actions/flow_start.py) no rule follows
    this action: listen, instead of letting the policy guess a fallback."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return [] if intent == "my_bookings" or tracker.active_loop_name else [FollowupAction("action_listen")]


class ActionMyBookings(Action):
    def name(self) -> Text:
        return "action_my_bookings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        named = await answer_named_holding(dispatcher, tracker)  # "我的预约码是…，去不了": that one
        if named is not None:
            return named
        signed_up = None if tracker.active_loop_name else signs_up_after_camp_answer(tracker)
        if signed_up is not None:  # "给我报上" after the camp answer, read as "我的报名": the enrolment
            return signed_up
        holdings = await my_holdings(tracker.sender_id)
        if not holdings:
            dispatcher.utter_message(text=NOTHING)
            return [SlotSet("booking_pending", None)] + _listen_unless_routed(tracker)
        lines = [f"您有{len(holdings)}个预约/报名："]
        lines += [f"{i}. {h.line}" for i, h in enumerate(holdings, 1)]
        lines.append(cutoff_note(holdings))
        lines.append("要取消请回复“取消1”（按序号），或“取消”加预约码/报名编号。")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("booking_pending", None)] + _listen_unless_routed(tracker)


def cutoff_note(holdings: List[Holding]) -> str:
    """Until when each kind the list shows can be cancelled here (after that: the phone)."""
    notes = []
    if any(h.kind == BOOKING for h in holdings):
        hours = int(booking_service().cancel_cutoff.total_seconds() // 3600)
        notes.append(f"指导预约最晚在开始前{hours}小时在线取消")
    if any(h.kind == CAMP for h in holdings):
        notes.append("实训营开营前可在线取消，开营后请致电该期联系电话")
    return "；".join(notes) + "。" if notes else ""


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
    return _done()


def _done() -> List[EventType]:
    return [SlotSet("booking_pending", None), SlotSet("booking_cancel_options", None)]


async def _leave_waitlist(dispatcher: CollectingDispatcher, tracker: Tracker, slot_id: str) -> List[EventType]:
    if await booking_service().leave_waitlist(tracker.sender_id, slot_id):
        dispatcher.utter_message(text="已为您退出该场次的候补。说“预约指导”可预约其他场次。")
    else:
        dispatcher.utter_message(text="您已不在这个候补名单中。说“我的预约”可查看当前预约。")
    return _done()


async def _cancel_enrolment(dispatcher: CollectingDispatcher, tracker: Tracker, cohort_id: str, code: str) -> List[EventType]:
    cohort = camp.current_catalogue().get(cohort_id)
    if cohort is None:
        dispatcher.utter_message(text="没有找到这个报名。说“我的报名”可查看当前报名。")
        return _done()
    result = await cancel_enrolment(_enrolments(), tracker.sender_id, cohort, camp.today())
    if result.status == "started":
        dispatcher.utter_message(
            text=f"{cohort.label}已开营，无法在线取消。如不能继续参加，请致电{cohort.contact}说明情况。"
        )
    elif result.status == "cancelled":
        freed = "名额已按顺序递补给候补学员。" if result.promoted else ""
        dispatcher.utter_message(
            text=f"已取消实训营报名（编号{code}，{cohort.label}）。{freed}想报名其他期次请说“报名实训营”。"
        )
    else:
        dispatcher.utter_message(text="没有找到这个报名，或它已经取消了。说“我的报名”可查看当前报名。")
    return _done()


# "换一期", "换成线上的", "改报济南那期": the enrolment held is given up for another cohort of the camp
CHANGE_COHORT_RE = re.compile(r"换[一个]?期|换[成到]|改[成报到]|换个别的|换别的")


async def change_cohort(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """The user's only enrolment (or the one named) cancelled, then the enrolment again: the profile
    fills what it knows, a cohort named in the message is taken (actions/camp_ahead.py). None: no such change."""
    text = tracker.latest_message.get("text") or ""
    if not CHANGE_COHORT_RE.search(text):
        return None
    enrolments = [h for h in await my_holdings(tracker.sender_id) if h.kind == CAMP]
    held = [h for h in enrolments if h.named_in(text)] or enrolments
    if len(held) != 1 or held[0].cohort is None:
        return None
    result = await cancel_enrolment(_enrolments(), tracker.sender_id, held[0].cohort, camp.today())
    if result.status != "cancelled":
        return None
    dispatcher.utter_message(text=f"好的，已取消{held[0].cohort.label}的报名（编号{held[0].code}），下面为您改报其他期次。")
    return [SlotSet("booking_pending", None), SlotSet("camp_cohort", None), FollowupAction(camp.ENROL_START)]


async def cancel_holding(dispatcher: CollectingDispatcher, tracker: Tracker, ref: str) -> List[EventType]:
    """Cancel what `ref` (a `Holding.ref`) names, with the reply its kind needs."""
    kind, scope, code = ref.split(":", 2)
    if kind == BOOKING:
        return await _cancel_and_reply(dispatcher, tracker, code)
    if kind == BOOKING_WAIT:
        return await _leave_waitlist(dispatcher, tracker, scope)
    return await _cancel_enrolment(dispatcher, tracker, scope, code)


def _about_camp(text: str) -> Optional[bool]:
    """True for "取消实训营报名", False for "取消预约指导", None when the words do not say."""
    if "实训营" in text:
        return True
    return False if "指导" in text else None




# "取消第2个", "把面试那个退了": a plain request to cancel, not a question about cancelling.
CANCEL_VERB_RE = re.compile(r"取消|退掉|退了|不去了|不要了|删掉|删了")
# a question about cancelling, or about course subscriptions and pushes ("取消订阅简历的课")
NOT_A_PLAIN_CANCEL_RE = re.compile(r"[?？]|吗|么|怎么|咋|如何|能不能|可以不|订阅|推送")


async def answer_named_holding(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """A message NLU did not route to cancelling or listing but that names one of the user's
    holdings: by its code (cancelled when the message says so, else shown with how to cancel), or
    by its number in the list or its kind with a plain cancel ("取消第2个", "把实训营那个退了");
    None: nothing of the user's named."""
    text = tracker.latest_message.get("text") or ""
    corrected = await correct_phone_just_given(dispatcher, tracker)  # "手机号输错了 是…" right after booking
    changed = corrected or await change_cohort(dispatcher, tracker)  # "换一期"
    if changed is not None:
        return changed
    if tracker.get_slot("booking_pending") == "cancel_pick" and CONFIRM_CANCEL_RE.match(text.strip()):
        offered = _single_offer(tracker, await my_holdings(tracker.sender_id))  # "确定" to "确定取消吗"
        if offered is not None:
            return await cancel_holding(dispatcher, tracker, offered.ref)
    from_list = await picked_from_list(dispatcher, tracker)
    if from_list is not None:
        return from_list
    if CANCEL_VERB_RE.search(text) and not NOT_A_PLAIN_CANCEL_RE.search(text):
        picked = await pick_or_confirm(dispatcher, tracker, await my_holdings(tracker.sender_id), text)
        if picked is not None:
            return picked
    if not CODE_LIKE_RE.search(plain(text)):  # no code in it: spare the lookups
        return None
    named = find_holding(await my_holdings(tracker.sender_id), text)
    if named is None:
        return None
    if CANCEL_WORDS_RE.search(text):
        return await cancel_holding(dispatcher, tracker, named.ref)
    dispatcher.utter_message(text=f"您的{named.line}\n需要取消请回复“取消 {named.code}”，查看全部请说“我的预约”。")
    return [SlotSet("booking_pending", None)]


# The words around a number that picks from the list ("取消第2个", "把第二个退了", "2号不要了").
PICK_WORDS_RE = re.compile(r"取消|退掉|退了|退|删掉|删了|不要了|不去了|帮我|麻烦|请|把|吧|那个|的")


# "确定", "对 取消", "嗯 退了吧": yes to "确定取消吗？" (a single thing offered for cancelling)
CONFIRM_CANCEL_RE = re.compile(r"^(?=.*(?:取消|退|不要|确定|确认|是|对|嗯|好|行|没错|要))(?:对|是的?|嗯|好的?|行|确定|确认|没错|要|那就)*[，,\s]*(?:取消|退掉|退了|不要了|确定|确认|是的?|对|嗯|好的?|行)?[吧啊呀。！!～~\s]*$")


# A message ActionCancelBooking got that says none of these (nor a code) was no cancel: NLU misread it.
SAYS_CANCEL_RE = re.compile(r"取消|退|不去|不要|不参加|撤|删|不报|不约|去不了|来不了|参加不了|[A-Za-z0-9]{4,}")
# the cancel says it is sure already ("帮俺取消了吧 确定", "确定不去了"): no "确定取消吗" after it
SURE_RE = re.compile(r"(?<![不没])(确定|确认|肯定)(?![吗么嘛?？])")


async def pick_or_confirm(
    dispatcher: CollectingDispatcher, tracker: Tracker, holdings: List[Holding], text: str
) -> Optional[List[EventType]]:
    """What a cancel that names no code picks: a number ("取消第2个", numbered as the last list
    showed them) or words that choose one of several ("取消实训营那个") cancel it; words that fit the
    user's only holding, or a yes to the one offered, first ask "确定取消吗" / then cancel.
    None: nothing picked, the user chooses from the list."""
    offered = _single_offer(tracker, holdings)
    if offered is not None and CONFIRM_CANCEL_RE.match(text.strip()):
        return await cancel_holding(dispatcher, tracker, offered.ref)
    shown = _as_last_shown(tracker, holdings)
    choice = choice_in_text(PICK_WORDS_RE.sub("", text), len(shown))
    if choice:
        return await cancel_holding(dispatcher, tracker, shown[choice - 1].ref)
    named = named_by_words(shown, text)
    if len(named) != 1:
        return None
    if len(holdings) > 1 or SURE_RE.search(text):  # chosen among several, or "…取消了吧 确定" sure already
        return await cancel_holding(dispatcher, tracker, named[0].ref)
    return ask_to_confirm(dispatcher, named[0])


def list_just_shown(tracker: Tracker) -> bool:
    """The bot's last answer before this message was the "我的预约" list."""
    return last_bot_action(tracker) == "action_my_bookings"


async def picked_from_list(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """A bare number ("2", "第二个") right after the "我的预约" list picks that item: it is said
    back with "确定取消吗"; None: no such pick."""
    text = (tracker.latest_message.get("text") or "").strip()
    if len(text) > 6 or not list_just_shown(tracker):
        return None
    holdings = await my_holdings(tracker.sender_id)
    choice = choice_in_text(text, len(holdings))
    return ask_to_confirm(dispatcher, holdings[choice - 1]) if choice else None


def ask_to_confirm(dispatcher: CollectingDispatcher, holding: Holding) -> List[EventType]:
    """"取消报名" while the user holds just this: said back, and cancelled on a yes."""
    dispatcher.utter_message(text=f"要取消的是：\n1. {holding.line}\n确定取消吗？回复“确定”（或“1”）取消，回复“算了”保留。")
    return [SlotSet("booking_pending", "cancel_pick"), SlotSet("booking_cancel_options", [holding.ref])]


def _single_offer(tracker: Tracker, holdings: List[Holding]) -> Optional[Holding]:
    """The one holding "确定取消吗？" asked about, while that question is pending."""
    options = tracker.get_slot("booking_cancel_options") or []
    if tracker.get_slot("booking_pending") != "cancel_pick" or len(options) != 1:
        return None
    return next((h for h in holdings if h.ref == options[0]), None)


def _as_last_shown(tracker: Tracker, holdings: List[Holding]) -> List[Holding]:
    """Numbered as the last list showed them: the choice just offered (maybe only the camp ones),
    else the whole list "我的预约" shows."""
    options = tracker.get_slot("booking_cancel_options") or []
    if tracker.get_slot("booking_pending") != "cancel_pick" or not options:
        return holdings
    by_ref = {h.ref: h for h in holdings}
    return [by_ref[ref] for ref in options if ref in by_ref]


class ActionCancelBooking(Action):
    def name(self) -> Text:
        return "action_cancel_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        # NLU read a cancel into a message with no word of cancelling that asks for another flow
        # ("俺搬威海去了 今年23 失业在家 想报那个实训营"): that flow starts instead
        misread = None if SAYS_CANCEL_RE.search(text) else start_named_flow(text, None)
        misread = misread or await change_cohort(dispatcher, tracker)  # "换一期" read as a cancel
        if misread is not None:
            return misread
        holdings = await my_holdings(tracker.sender_id)
        named = find_holding(holdings, text)
        if named is not None:
            return await cancel_holding(dispatcher, tracker, named.ref)
        picked = await pick_or_confirm(dispatcher, tracker, holdings, text)
        if picked is not None:
            return picked
        camp_only = _about_camp(text)
        if camp_only is not None and any((h.kind == CAMP) == camp_only for h in holdings):
            holdings = [h for h in holdings if (h.kind == CAMP) == camp_only]
        if not holdings:
            dispatcher.utter_message(text="您目前没有可以取消的预约或报名。")
            return [SlotSet("booking_pending", None)]
        if len(holdings) == 1 and SURE_RE.search(text):  # "…给俺取消了 确定不去了": sure already
            return await cancel_holding(dispatcher, tracker, holdings[0].ref)
        if len(holdings) == 1:  # "取消预约" with one booking: which one is clear, ask before cancelling
            return ask_to_confirm(dispatcher, holdings[0])
        lines = ["请回复要取消的序号（或预约码、报名编号）："]
        lines += [f"{i}. {h.line}" for i, h in enumerate(holdings, 1)]
        lines.append("回复“算了”不取消。")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("booking_pending", "cancel_pick"), SlotSet("booking_cancel_options", [h.ref for h in holdings])]


def _ref_named_in(ref: str, text: str) -> bool:
    kind, scope, code = ref.split(":", 2)
    return Holding(kind, scope, code, "").named_in(text)


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
            named = next((ref for ref in options if _ref_named_in(ref, text)), None)
            choice = parse_choice(tracker, len(options))
            if len(options) == 1 and (intent == "affirm" or CONFIRM_CANCEL_RE.match(text)):  # yes to "确定取消吗"
                return await cancel_holding(dispatcher, tracker, options[0])
            if named:
                return await cancel_holding(dispatcher, tracker, named)
            if choice:
                return await cancel_holding(dispatcher, tracker, options[choice - 1])
            dispatcher.utter_message(text=f"请回复1-{len(options)}之间的序号，或回复“算了”不取消。")
            return []
        if pending == "rebook":  # a "yes" here is handled by action_booking_rebook
            return clear
        return await picked_from_list(dispatcher, tracker) or clear  # "2" right after "我的预约"


class ActionBookingRebook(Action):
    """After a cancellation, "是" starts the booking form again on the same topic."""

    def name(self) -> Text:
        return "action_booking_rebook"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return reset_form() + [
            SlotSet("booking_pending", None),
            SlotSet("booking_topic", tracker.get_slot("booking_last_topic")),
        ]
