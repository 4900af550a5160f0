"""The workshop booking form: validating each answer, asking for the slot and the confirmation,
and submitting the booking (or saying goodbye when the user left the form)."""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.booking import common, quick, revise
from actions.booking.common import (
    booking_service,
    describe_slot,
    parse_choice,
    parse_when,
    profiles,
    request_id,
    reset_form,
    success_text,
    topic_menu,
    user_city,
    window_label,
)
from actions.flow_start import as_meant
from actions.form_early_answers import answered_name, said_name
from actions.form_pause import kept_on_leaving
from actions.form_repair import is_quit
from actions.forms import REQUESTED_SLOT, DigressionAwareValidation, plainly_an_answer, questions_chosen, then_ask
from bot.services.phone import find_phone, mask_phone
from bot.services.workshops import TOPICS, normalise_topic

MAX_OFFERS = 5

_YES_RE = re.compile(r"^(是|是的|确认|确定|对|好|好的|可以|行|没问题|ok|yes|y|嗯)[。！!\s]*$", re.I)
_NO_RE = re.compile(r"^(否|不|不是|不对|不要|no|n)[。！!\s]*$", re.I)
_NAME_RE = re.compile(r"^[\u4e00-\u9fa5A-Za-z·•\s]{2,20}$")


class ValidateWorkshopBookingForm(DigressionAwareValidation):
    def name(self) -> Text:
        return "validate_workshop_booking_form"

    def answers_pending_question(self, slot: str, text: str, tracker: Tracker) -> bool:
        if slot == "booking_topic":
            return normalise_topic(as_meant(text)) is not None
        if slot == "booking_when":
            return parse_when(text, common.CLOCK()) is not None
        if slot == "booking_confirm":
            return bool(_YES_RE.match(text) or _NO_RE.match(text)) or plainly_an_answer(text)
        return plainly_an_answer(text)

    def quit_events(self) -> List[EventType]:
        # requested_slot None stops the loop; the submit action sees "no" and says the user left.
        return [SlotSet("booking_confirm", False), SlotSet("requested_slot", None)]

    def wants_to_quit(self, text: str, intent: Optional[str], requested: str) -> bool:
        # a bare "不要"/"不用了" to a question before the confirmation leaves too (at the slot list it means "another time")
        bare_no = intent == "deny" and len(text) <= 4 and not find_phone(text)
        return is_quit(text, intent, self.form_name()) or (bare_no and requested in ("booking_topic", "booking_when", "booking_name", "booking_phone"))

    def today(self) -> date:
        return common.CLOCK().date()

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        offered = list(tracker.get_slot("booking_offered") or [])
        asked_name = tracker.active_loop_name == self.form_name() and tracker.get_slot("requested_slot") == "booking_name"
        if asked_name and offered and quick.asks_to_see_again(tracker.latest_message.get("text") or ""):
            # "再说一遍" right after the soonest was taken: the sessions again, then the name question
            dispatcher.utter_message(text=await quick.soonest_taken_text(offered))
            return [SlotSet("booking_name", None), SlotSet("requested_slot", "booking_name")]
        events = await super().run(dispatcher, tracker, domain)
        return then_ask(events, await self.contact_known(events, dispatcher, tracker, domain))

    async def contact_known(
        self, events: List[EventType], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """About to ask the name or the phone that the user gave already (an earlier booking, one
        left, the camp enrolment: common.known_contact): taken, the next question instead; the
        confirmation step shows them before booking (quick.needs_confirmation)."""
        if not events:  # the form rejected the turn (a side question): nothing is asked now
            return []
        slots = {**tracker.slots, **{e["name"]: e.get("value") for e in events if e.get("event") == "slot"}}
        set_asked = questions_chosen(events)
        if set_asked:  # the validation chose the next question (None: the form ends, also when the user left)
            asked = set_asked[-1]
        else:  # Rasa asks the first empty one
            required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
            asked = next((s for s in required if slots.get(s) is None), None)
        # only a question not asked yet in this run: one asked again (a "why", a repeat, "改一下名字", back
        # from the quit question) stays the user's to answer
        if asked not in common.CONTACT_SLOTS or quick.asked_in_this_run(tracker, asked):
            return []
        filled = {s: v for s, v in (await common.known_contact(tracker)).items() if slots.get(s) is None}
        if not filled:
            return []
        return await self.go_on([SlotSet(s, v) for s, v in filled.items()], dispatcher, tracker, domain)

    async def repair(
        self, requested: str, text: str, intent: Optional[str],
        dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
    ) -> Optional[List[EventType]]:
        # a new topic or time at a later question, before the generic corrections read "是周四" as a name
        revised = await self.revise(requested, text, dispatcher, tracker, domain)
        if revised is not None:
            return revised
        return await super().repair(requested, text, intent, dispatcher, tracker, domain)

    async def revise(
        self, requested: str, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[List[EventType]]:
        """"换成面试的吧" / "时间换成周五下午吧" at a question after the topic and the time: that
        answer replaced, the sessions offered again (actions/booking/revise.py); None: no change."""
        if requested not in revise.AFTER_TOPIC:
            return None
        now = common.CLOCK()
        # the pending question's answer is not in this message: whatever a text mapping took goes
        events: List[EventType] = [SlotSet(requested, None), SlotSet("booking_slot_id", None), SlotSet("booking_offered", None)]
        # the topic before this message: NLU's entity may already have put the new one in the slot
        topic = revise.new_topic(text, revise.topic_before(tracker.events) or tracker.get_slot("booking_topic"))
        # a time at the time question is its answer, at the session list its own validation reads it
        when = None if topic or requested in ("booking_when", "booking_slot_id") else revise.new_time(text, now)
        if topic:
            changed = await self.validate_booking_topic(topic, dispatcher, tracker, domain)
            if not changed.get("booking_topic"):  # none of it soon: said, and the topic question again
                return events + [SlotSet("booking_when", None), *[SlotSet(k, v) for k, v in changed.items()],
                                 SlotSet(REQUESTED_SLOT, "booking_topic")]
            dispatcher.utter_message(text=f"已改为预约“{topic}”。")
            events += [SlotSet(k, v) for k, v in changed.items()] + [SlotSet("booking_when", None)]
            tracker.add_slots(events)
            when = revise.time_said_before(revise.user_texts_of_run(tracker.events, self.form_name()), now)
        elif when:
            dispatcher.utter_message(text=f"时间已改为：{when}。")
            tracker.add_slots(events)
        else:
            return None
        if when:
            events += [SlotSet(k, v) for k, v in (await self.sessions_for(when, when, dispatcher, tracker)).items()]
        return await self.go_on(events, dispatcher, tracker, domain)

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        # every detail typed in this run: booked on the last answer, no confirmation step (actions/booking/quick.py)
        return [s for s in domain_slots if s != "booking_confirm" or quick.needs_confirmation(tracker)]

    def form_answers_ahead(self, text: str, open_slots: List[str]) -> Dict[str, Any]:
        # "约个面试指导" names its topic even when NLU found no topic entity in it (or typed "面适")
        topic = normalise_topic(as_meant(text)) if "booking_topic" in open_slots else None
        found: Dict[str, Any] = {"booking_topic": topic} if topic else {}
        # "约简历指导 下周一": the time too, once the topic is known (the sessions offered depend on it)
        topic_known = "booking_topic" not in open_slots or topic
        if topic_known and "booking_when" in open_slots and parse_when(text, common.CLOCK()):
            found["booking_when"] = text
        return found

    async def validate_booking_topic(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        topic = normalise_topic(value) or normalise_topic(as_meant(tracker.latest_message.get("text") or ""))
        if topic is None and tracker.get_slot("requested_slot") == "booking_topic":
            choice = parse_choice(tracker, len(TOPICS))
            topic = TOPICS[choice - 1] if choice else None
        if topic is None:
            dispatcher.utter_message(text="没听明白您想预约哪一类指导。\n" + topic_menu())
            return {"booking_topic": None}
        expert = tracker.get_slot("booking_expert") if topic == "一对一咨询" else None
        if not await booking_service().open_slots(topic, limit=1, workshop_id=expert):
            dispatcher.utter_message(
                text=f"抱歉，近期的“{topic}”都已约满或暂未排期，可以换一类指导，或说“转人工”咨询。\n" + topic_menu()
            )
            return {"booking_topic": None}
        result: Dict[Text, Any] = {"booking_topic": topic, "booking_pending": None, "booking_expert": expert}
        # Prefill what the user gave already; the confirmation shows it before booking.
        known = await common.known_contact(tracker)
        result.update({slot: value for slot, value in known.items() if not tracker.get_slot(slot)})
        return result

    async def validate_booking_when(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return await self.sessions_for(value, tracker.latest_message.get("text") or "", dispatcher, tracker)

    async def sessions_for(
        self, value: Any, text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[Text, Any]:
        """The sessions of the topic chosen in the time `value` (or `text`, the words it was said in) names."""
        now = common.CLOCK()
        if not tracker.get_slot("booking_topic"):  # a time said ahead of an unclear topic: asked again later
            return {"booking_when": None}
        window = parse_when(str(value), now) if value else None
        window = window or parse_when(text, now)
        if window is None:
            dispatcher.utter_message(
                text="没能识别您说的时间，请换个说法，例如“明天下午”“下周三”“12月5号”，也可以说“最近”。"
            )
            return {"booking_when": None}
        start, end = window
        if end <= now:
            dispatcher.utter_message(text="这个时间已经过去了，请说一个以后的时间，例如“下周三”或“最近”。")
            return {"booking_when": None}
        topic = tracker.get_slot("booking_topic")
        # an expert chosen from the expert list: only that expert's consultations, wherever they are
        expert = tracker.get_slot("booking_expert")
        city = None if expert else await user_city(tracker)
        service = booking_service()
        offers = await service.open_slots(topic, start, end, city, limit=MAX_OFFERS, workshop_id=expert)
        if not offers and city:
            offers = await service.open_slots(topic, start, end, None, limit=MAX_OFFERS)
        label = window_label(start, end)
        if not offers:
            offers = await service.open_slots(topic, now, None, city, limit=MAX_OFFERS, workshop_id=expert)
            if not offers and city:
                offers = await service.open_slots(topic, now, None, None, limit=MAX_OFFERS)
            if not offers:
                dispatcher.utter_message(text=f"抱歉，近期的“{topic}”都已约满。可以换一类指导：\n" + topic_menu())
                return {"booking_when": None, "booking_topic": None}
            dispatcher.utter_message(text=f"{label}没有可预约的“{topic}”，为您找到最近的场次。")
        elif quick.wants_soonest(text) and not expert:  # "最近的就中": the soonest, said back
            offered = [slot.id for slot, _, _ in offers]
            dispatcher.utter_message(text=await quick.soonest_taken_text(offered))
            return {"booking_when": label, "booking_offered": offered, "booking_slot_id": offered[0]}
        return {"booking_when": label, "booking_offered": [slot.id for slot, _, _ in offers]}

    async def validate_booking_slot_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        offered = list(tracker.get_slot("booking_offered") or [])
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "deny" or not offered:
            dispatcher.utter_message(text="好的，那换个时间吧。")
            return {"booking_slot_id": None, "booking_when": None, "booking_offered": None}
        if value in offered:
            return {"booking_slot_id": value}
        choice = parse_choice(tracker, len(offered))
        if choice is not None:
            return {"booking_slot_id": offered[choice - 1]}
        text = tracker.latest_message.get("text") or ""
        at_list = tracker.get_slot("requested_slot") == "booking_slot_id"  # the list shown, this message its answer
        if at_list and quick.TIME_WORDS_RE.search(text) and parse_when(text, common.CLOCK()):  # "下周三下午" at the list: the sessions of that time instead
            return {"booking_slot_id": None, **await self.validate_booking_when(text, dispatcher, tracker, domain)}
        later = quick.later_answer_at_list(text, tracker.latest_message.get("entities") or []) if at_list else {}
        if later:  # a name or phone instead of a number: the first (nearest) session, said back
            dispatcher.utter_message(text=await quick.first_taken_text(offered))
            return {"booking_slot_id": offered[0], **later}
        dispatcher.utter_message(text=f"请回复1-{len(offered)}之间的序号选择场次，或回复“算了”退出。")
        return {"booking_slot_id": None}

    async def validate_booking_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        offered = list(tracker.get_slot("booking_offered") or [])
        choice = parse_choice(tracker, len(offered)) if offered and tracker.get_slot("requested_slot") == "booking_name" else None
        if choice:  # "2" after the soonest was taken for the user: that session instead, then the name
            dispatcher.utter_message(text=f"好的，改为第{choice}场。")  # unless the message says it ("第二个 俺叫…")
            return {"booking_slot_id": offered[choice - 1], "booking_name": said_name(tracker.latest_message.get("text") or "")}
        name = answered_name(value, tracker, "booking_name", _NAME_RE)
        if name:
            return {"booking_name": name}
        dispatcher.utter_message(text="姓名需要是2-20个汉字或字母（不能有数字），请重新输入您的真实姓名。")
        return {"booking_name": None}

    async def validate_booking_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        phone = find_phone(str(value or "")) or find_phone(tracker.latest_message.get("text") or "")
        if phone is None:
            dispatcher.utter_message(
                text="手机号格式不对：需要是11位、以13-19开头的大陆手机号，请重新输入（例如 13800138000）。"
            )
            return {"booking_phone": None}
        return {"booking_phone": phone}

    async def validate_booking_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if isinstance(value, bool):
            return {"booking_confirm": value}
        offered = list(tracker.get_slot("booking_offered") or [])
        choice = parse_choice(tracker, len(offered)) if offered else None
        if choice:  # "3" at the confirmation (the soonest was taken for the user): that session, shown again
            dispatcher.utter_message(text=f"好的，改为第{choice}场。")
            return {"booking_slot_id": offered[choice - 1], "booking_confirm": None}
        text = str(value or "").strip()
        if _YES_RE.match(text):
            return {"booking_confirm": True}
        if _NO_RE.match(text):
            return {"booking_confirm": False}
        phone = find_phone(text)
        if phone:  # the user corrects the number at the confirmation step
            return {"booking_phone": phone, "booking_confirm": None}
        dispatcher.utter_message(text="请回复“确认”完成预约，或回复“算了”放弃本次预约。")
        return {"booking_confirm": None}


class ActionAskBookingSlotId(Action):
    def name(self) -> Text:
        return "action_ask_booking_slot_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        lines = await quick.offer_lines(list(tracker.get_slot("booking_offered") or []))
        dispatcher.utter_message(text="可预约的场次：\n" + "\n".join(lines) + "\n请回复序号选择，回复“不要”换个时间。")
        return []


class ActionAskBookingConfirm(Action):
    def name(self) -> Text:
        return "action_ask_booking_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        found = await describe_slot(booking_service(), tracker.get_slot("booking_slot_id") or "")
        if not found or not found[1]:
            dispatcher.utter_message(text="这个场次已取消，请重新选择时间。")
            return [SlotSet("booking_slot_id", None), SlotSet("booking_when", None), SlotSet("requested_slot", "booking_when")]
        slot, workshop, _ = found
        dispatcher.utter_message(
            text=(
                "请确认预约信息：\n"
                f"项目：{workshop.title}（{workshop.topic}）\n时间：{slot.label()}\n地点：{workshop.where}\n"
                f"指导师：{workshop.counsellor}\n姓名：{tracker.get_slot('booking_name')}\n"
                f"手机：{mask_phone(str(tracker.get_slot('booking_phone') or ''))}\n"
                "回复“确认”提交预约，回复“算了”放弃；手机号有误可直接发送新号码。"
            )
        )
        return []


class ActionBookingSubmit(Action):
    def name(self) -> Text:
        return "action_booking_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = reset_form()
        confirmed = tracker.get_slot("booking_confirm")
        if confirmed is False or (confirmed is None and quick.needs_confirmation(tracker)):
            dispatcher.utter_message(text="好的，已退出预约，没有为您预约。需要时随时说“预约指导”。")
            return events + kept_on_leaving(tracker, quick.FORM, domain)
        slot_id = tracker.get_slot("booking_slot_id")
        name, phone = tracker.get_slot("booking_name"), tracker.get_slot("booking_phone")
        await profiles().update(tracker.sender_id, {"name": name, "phone": phone})
        service = booking_service()
        result = await service.book(tracker.sender_id, slot_id, name, phone, request_id(tracker))
        found = await describe_slot(service, slot_id)
        if result.booked and found:
            dispatcher.utter_message(text=success_text(result.code, found[0], found[1]))
        elif result.status == "full":
            dispatcher.utter_message(
                text="很抱歉，这个场次刚刚约满了。回复“是”加入候补名单（有人取消时按顺序自动为您补位并通知您），回复“否”放弃。"
            )
            events += [SlotSet("booking_pending", "waitlist"), SlotSet("booking_waitlist_slot", slot_id)]
        elif result.status == "limit":
            dispatcher.utter_message(
                text=f"您已有{result.active}个未开始的预约，达到上限。如需预约新的场次，请先说“取消预约”取消其中一个。"
            )
        else:
            dispatcher.utter_message(text="这个场次已经开始或已取消，请说“预约指导”重新选择。")
        return events
