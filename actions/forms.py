"""Side questions inside every form ("digressions"): one mechanism for all of Zhinan's forms.

While a form waits for an answer, a message that is not one — "你是谁", "失业金怎么领", "附近有服务点吗"
— must be answered and the form must then ask again where it stopped (Rasa's "unhappy path"):

1. `DIGRESSIONS` below is the one table of such intents and the action that answers each.
2. Every form lists these intents (and `nlu_fallback`) under `ignored_intents` in domain.yml, so
   no slot mapping fills the pending slot from such a message.
3. `DigressionAwareValidation`, the base of every form's validation action, then sets no slot
   either, so the form rejects the turn; nlu_data/rules/digressions.yml (generated from the table by
   scripts/digressions_to_rules.py) runs the digression's action and goes back to the form, which
   re-asks its pending question.

Two side questions are answered inside the form itself, without leaving it: "为什么要手机号"
(the `utter_why_<slot>` response explains why the data is needed and how it is kept) and
"再说一遍"/"啥？"/"没看懂"/"继续" (the pending question again). A message NLU could not place (`nlu_fallback`) is a
digression only when the knowledge base has an answer or a choice for it; otherwise it is taken as
the answer, as the form's own mapping would have. A message whose intent is a digression but which
plainly answers the pending question (a phone number, a choice number …) stays an answer.
"""
from __future__ import annotations

import re
from abc import abstractmethod
from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import FormValidationAction, Tracker, utils
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.form_early_answers import CITY_ENDING, answers_ahead, known_before
from actions.form_pause import (
    answers_in_words,
    names_task,
    own_intent,
    paused_record,
    points_back,
    resume_events,
    switches_for,
)
from actions.form_repair import (
    OPTIONAL_SLOTS,
    QUIT_SLOT,
    SKIPPED,
    answered_since_start,
    corrected_values,
    is_quit,
    is_skip,
    label,
    quit_answer,
    quit_question,
    quits_for_more,
    shown,
)
from actions.knowledge_decision import decision_for
from bot.clock import system_clock
from bot.services.knowledge.retrieval import ANSWER, CHOOSE
from bot.services.phone import find_phone

# intent -> the action (or response) that answers it inside any form; the form resumes afterwards.
DIGRESSIONS: Dict[str, str] = {
    "ask_policy": "action_knowledge_answer",
    "nlu_fallback": "action_knowledge_answer",  # only when the knowledge base can answer (module doc)
    "find_service_point": "action_find_service_point",
    "find_job": "action_find_job",
    "find_job_fair": "action_find_job_fair",
    "find_expert": "action_find_expert",
    "ask_courses": "action_courses",
    "ask_camp_info": "action_camp_info",
    "my_bookings": "action_my_bookings",
    "unsubscribe": "action_unsubscribe",
    "subscribe": "action_subscribe",  # 回复“订阅” after a 退订, also while a form waits
    "request_human": "action_request_human",
    "bot_challenge": "utter_bot_challenge",
    "greet": "utter_greet",
    "thank": "utter_thank",
}
FALLBACK_INTENT = "nlu_fallback"
REQUESTED_SLOT = "requested_slot"


def _chooses_question(event: EventType) -> bool:
    return event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT


def questions_chosen(events: List[EventType]) -> List[Optional[str]]:
    """The next questions a validation's events choose, in order (None: the form ends)."""
    return [e.get("value") for e in events if _chooses_question(e)]


def then_ask(events: List[EventType], more: List[EventType]) -> List[EventType]:
    """`events` a validation made, then `more` that chose another next question: Rasa asks the FIRST
    requested_slot it is given, so an earlier choice (a question now answered) is dropped."""
    if not questions_chosen(more):
        return events + more
    return [e for e in events if not _chooses_question(e)] + more


WHY_RE = re.compile(
    r"为什么|为啥|为何|干嘛|干啥|弄啥|凭什么|有什么用|有啥用|啥用|图啥|非得|非要|要.{0,8}(干什么|做什么|做啥)"
    r"|安全吗|会不会泄露|泄露吗"
)
# A "why" that names nothing ("为什么要这个") is about the pending question only when it is this short.
WHY_ALONE_MAX_CHARS = 6
# "再说一遍", "啥？", "没看懂", "继续" — with the fillers people put around them ("恁再说一遍", "好的 接着来吧")
REPEAT_RE = re.compile(
    r"^(?:好的?|嗯|行|中|那|哎|啊|恁|你|您|请|麻烦)*[，,\s]*"
    r"(?:(?:刚才|刚刚|那)?(?:问到|说到|填到|到)哪(?:了|儿了|啦|儿)?[，,\s]*(?:你|您|恁)?)?"  # "刚才问到哪了 再说一遍"
    r"(再说一遍|再说一次|再问一遍|重复一下|重复一遍|没听清|没看清楚?|没看懂|没看明白|没明白|不明白|不太明白|没太懂|看不懂|"
    r"看不明白|听不懂|不懂|啥意思|什么意思|啥玩意|说啥|你说啥|啥|什么|刚才问的?什么|你问的?什么|问什么|问的啥|问啥|"
    r"咱?继续|接着来|接着|继续吧|继续报名|继续预约|接着填|接着约|接着报|接着说|往下走|下一步)"
    r"[吧呢啊呀哈。.!！?？\s]*$"
)
NOT_UNDERSTOOD_RE = re.compile(r"懂|明白|意思|啥|什么")
# What a "why" question asks about -> the kind of data; slot names end with these kinds.
WHY_TOPICS = (
    (r"手机|电话|号码|联系方式", ("phone", "mobile")),
    (r"姓名|名字|真名|身份证", ("name",)),
    (r"身份", ("identity",)),
    (r"年龄|多大|几岁|岁数", ("age",)),
    (r"毕业", ("grad_year",)),
    (r"学校|院校", ("school",)),
    (r"专业", ("major",)),
    (r"城市|哪个市|所在地", ("city",)),
)
# The data must be what is asked for ("为什么要我的手机号", "手机号安全吗"), not any word of the
# message ("为什么毕业了找不到工作" is a question about jobs).
_ASKED_FOR = r"(?:要|得|需要|问|填|提供|留|给|告诉|登记|写)(?:你|您)?(?:我的?)?.{{0,2}}(?:{topic})"
_ASKED_ABOUT = (
    r"(?:{topic}).{{0,3}}(?:有什么用|有啥用|干什么用|干啥|干嘛|弄啥|做啥|安全吗|会不会泄露|泄露吗"
    r"|(?:为啥|为什么)(?:要|得|非|必须|一定))"
)
# A short message with no question in it, NLU unsure of it, answers a free-text question ("土木工程").
QUESTION_RE = re.compile(r"[?？]|吗|么|呢|哪|几|多少|怎|咋|啥|能不能|可不可以|是不是|有没有")
FREE_TEXT_ANSWER_MAX_CHARS = 12
# Intents NLU gives to trade and subject words ("会计", "计算机应用", "护理"), which also name majors
# and schools: at a free-text question such a word is the answer unless it asks for something.
SUBJECT_INTENTS = ("find_job", "ask_courses", "find_expert", "find_job_fair")
REQUEST_RE = re.compile(r"找|查|看|想|要|约|报|附近|帮|推荐|招聘|有没有|谁|哪|工作|活")
_NUMBER_ANSWER_RE = re.compile(r"^(第|选)?\s*(\d{1,4}|[一二两三四五六七八九十])\s*(个|号|项|场|期|届|年|岁)?[。.!！]?$")


def why_response(slot: str) -> str:
    return f"utter_why_{slot}"


def latest_intent(tracker: Tracker) -> Optional[str]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("text") or "").strip()


def resuming_after_digression(tracker: Tracker) -> bool:
    """True when the form runs again after another action answered the user's latest message
    (Rasa calls the validation action then too, with nothing to validate)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in (
            None, "action_listen", "action_extract_slots", tracker.active_loop_name,
        ):
            return True
    return False


def knowledge_can_answer(tracker: Tracker) -> bool:
    """The knowledge base has an answer or a choice for the latest message."""
    return decision_for(tracker.latest_message or {}).kind in (ANSWER, CHOOSE)


def looks_like_free_text_answer(text: str) -> bool:
    return 0 < len(text) <= FREE_TEXT_ANSWER_MAX_CHARS and not QUESTION_RE.search(text)


def plainly_an_answer(text: str) -> bool:
    """A message that answers any question it follows, whatever NLU made of it: a phone number, a
    choice number, a year or an age."""
    return bool(find_phone(text) or _NUMBER_ANSWER_RE.match(text))


class DigressionAwareValidation(FormValidationAction):
    """Base of every form's validation action (see the module doc). Subclasses keep their
    `validate_<slot>` methods; `answers_pending_question` may add what a slot's plain answers look like."""

    @abstractmethod
    def name(self) -> Text:
        """`validate_<form>`; abstract, so that the action server does not register this base."""

    def answers_pending_question(self, slot: str, text: str, tracker: Tracker) -> bool:
        return plainly_an_answer(text)

    def quit_events(self) -> List[EventType]:
        """How this form ends when the user leaves it (the submit action then says so)."""
        return [SlotSet(REQUESTED_SLOT, None)]

    def wants_to_quit(self, text: str, intent: Optional[str], requested: str) -> bool:
        return is_quit(text, intent, self.form_name())

    def today(self) -> date:
        return system_clock().date()

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        if tracker.active_loop_name != self.form_name():
            return await self.activation(dispatcher, tracker, domain)
        if not requested:  # the form starts: what the opening message said ahead ("我叫…，想报实训营")
            tracker.add_slots(await self.said_ahead(None, dispatcher, tracker, domain))
            return await super().run(dispatcher, tracker, domain)
        text = latest_text(tracker)
        intent = latest_intent(tracker)
        if resuming_after_digression(tracker):
            if quits_for_more(text) and intent in DIGRESSIONS:  # "算了，先看看招聘会": answered, now the quit
                return await self.leave(requested, dispatcher, tracker, domain)
            tracker.add_slots(await self.city_in_side_question(requested, dispatcher, tracker, domain))
            return await super().run(dispatcher, tracker, domain)
        answer_in_words = plainly_an_answer(text) or answers_in_words(self.form_name(), requested, text)
        if intent in switches_for(self.form_name()) and not answer_in_words and not self.wants_to_quit(text, intent, requested):
            return []  # another flow: the form rejects the turn, the rules pause it (actions/form_pause.py)
        repaired = await self.repair(requested, text, intent, dispatcher, tracker, domain)
        if repaired is not None:
            return repaired
        handled = self.answer_inside_form(requested, text, dispatcher, domain)
        if handled is not None:
            return handled
        is_answer = self.answers_pending_question(requested, text, tracker)
        # (not when it also answers the question: "俺叫张伟 今年22")
        answers = is_answer or QUESTION_RE.search(text) or answers_ahead(text, (tracker.latest_message or {}).get("entities") or [], [requested])
        stated = {} if answers else self.facts_stated(requested, tracker)
        if stated:  # "先说下俺情况 俺失业了 22岁 在青岛" at the name question: kept, then the question again
            dispatcher.utter_message(text=f"好的，记下了（{'、'.join(str(v) for v in stated.values())}）。")
            drop_candidate(tracker, requested)  # what a text mapping took from it is no answer
            tracker.add_slots([SlotSet(slot, value) for slot, value in stated.items()])
            return await super().run(dispatcher, tracker, domain)
        if not is_answer and await self.restates_request(requested, text, intent, tracker, domain):
            # the request said again ("就是约个简历指导", "我要报名实训营") is no answer: the question again
            return [SlotSet(requested, None), SlotSet(REQUESTED_SLOT, requested)]
        if not is_answer and self.is_digression(text, intent, requested, tracker, domain):
            return []  # no slot set: the form rejects the turn and the digression rules run
        if (intent in DIGRESSIONS or intent in switches_for(self.form_name())) and text and self.takes_text(requested, domain):
            # The form ignores these intents, so no mapping took the text: take it as the answer.
            tracker.add_slots([SlotSet(requested, text)])
        tracker.add_slots(await self.said_ahead(requested, dispatcher, tracker, domain))
        return await super().run(dispatcher, tracker, domain)

    def is_digression(self, text: str, intent: Optional[str], requested: str, tracker: Tracker, domain: DomainDict) -> bool:
        """A side question the digression rules answer: an intent of `DIGRESSIONS`, a message NLU could
        not place only when the knowledge base can answer it and it does not read as a free-text answer;
        a bare trade or subject word at a free-text question ("会计" at the major) is its answer."""
        if intent not in DIGRESSIONS:
            return False
        free_text = self.takes_text(requested, domain) and looks_like_free_text_answer(text)
        if free_text and intent in SUBJECT_INTENTS and not REQUEST_RE.search(text):
            return False
        return intent != FALLBACK_INTENT or (knowledge_can_answer(tracker) and not free_text)

    async def restates_request(
        self, requested: str, text: str, intent: Optional[str], tracker: Tracker, domain: DomainDict
    ) -> bool:
        """The form's own request said again while it waits for an answer: its intent, its task's
        words, and no valid answer to the pending question in it (a name question takes any words,
        so there the request's words decide)."""
        form = self.form_name()
        if intent != own_intent(form) or not names_task(form, text) or requested.endswith("_confirm"):
            return False
        validate = getattr(self, f"validate_{requested}", None)
        if requested.endswith("_name") or validate is None:
            return True
        result = await utils.call_potential_coroutine(validate(text, CollectingDispatcher(), tracker, domain))
        return result.get(requested) is None

    async def said_ahead(
        self, requested: Optional[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Answers to later questions given in this message (actions/form_early_answers.py), as slot
        events the form then validates like any answer."""
        if requested == QUIT_SLOT:
            return []
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        open_slots = [s for s in required if s != requested and tracker.slots.get(s) is None]
        message = tracker.latest_message or {}
        found = answers_ahead(latest_text(tracker), message.get("entities") or [], open_slots)
        found.update(self.form_answers_ahead(latest_text(tracker), [s for s in open_slots if s not in found]))
        if requested is None:  # the form starts: the name and phone said before it are not asked again
            found.update(await known_before(tracker, [s for s in open_slots if s not in found]))
        return [SlotSet(slot, value) for slot, value in found.items()]

    async def city_in_side_question(
        self, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """"泰安泰山区这边有服务站没" answered mid-form: the city (only it) is kept for the form's question."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        open_cities = [s for s in required if s != requested and s.endswith(CITY_ENDING) and tracker.slots.get(s) is None]
        entities = (tracker.latest_message or {}).get("entities") or []
        return [SlotSet(slot, value) for slot, value in answers_ahead("", entities, open_cities).items()]

    def facts_stated(self, requested: str, tracker: Tracker) -> Dict[str, Any]:
        """Facts about the person a message that answers no question states, as this form's slots
        (the form validates them); the form's mappings skip them when NLU took the message for a
        side question."""
        return {}

    def form_answers_ahead(self, text: str, open_slots: List[str]) -> Dict[str, Any]:
        """What only this form knows to read from any message for its empty questions (the booking:
        a topic named); the form's `validate_<slot>` checks it."""
        return {}

    async def activation(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """The form starts: "接着约刚才那个" brings back this form's paused answers (actions/form_pause.py)."""
        record = paused_record(tracker)
        if record is None or record.get("form") != self.form_name() or not points_back(latest_text(tracker)):
            tracker.add_slots(await self.said_ahead(None, dispatcher, tracker, domain))  # "我叫…，想报实训营"
            return await super().run(dispatcher, tracker, domain)
        restored = resume_events(record)
        # known to the validation as filled, but not validated again (they were valid when given;
        # a chosen session would look unoffered)
        tracker.slots.update({e["name"]: e["value"] for e in restored})
        return restored + await super().run(dispatcher, tracker, domain)

    async def repair(
        self, requested: str, text: str, intent: Optional[str],
        dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
    ) -> Optional[List[EventType]]:
        """Quit (asking first when there is progress), go on after the quit question, skip an
        optional question, correct an earlier answer (actions/form_repair.py); None: none of these."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        # what a from_text mapping took from this message for the pending question is not its answer
        not_the_answer = [] if requested == QUIT_SLOT else [SlotSet(requested, None)]
        ask_to_quit = not_the_answer + [SlotSet(QUIT_SLOT, None), SlotSet(REQUESTED_SLOT, QUIT_SLOT)]
        if requested == QUIT_SLOT:
            give_up = quit_answer(text, intent)
            if give_up is None and self.is_digression(text, intent, requested, tracker, domain):
                # a side question instead of an answer: it is answered, and the form asks where it stopped
                return []
            if give_up is None:  # neither: the quit question again
                dispatcher.utter_message(text=quit_question(required, tracker.slots))
                return ask_to_quit
            return self.quit_events() if give_up else await self.go_on([SlotSet(QUIT_SLOT, None)], dispatcher, tracker, domain)
        # "跳过" first: NLU often reads it as quitting (intent stop)
        if is_skip(text) and requested in OPTIONAL_SLOTS:
            dispatcher.utter_message(text=f"好的，{label(requested)}先不填。")
            return await self.go_on([SlotSet(requested, SKIPPED)], dispatcher, tracker, domain)
        if is_skip(text, required_question=True):
            dispatcher.utter_message(text=f"{label(requested)}是必填项，不能跳过。")
            if why_response(requested) in (domain.get("responses") or {}):  # and why it is needed
                dispatcher.utter_message(response=why_response(requested))
            return [SlotSet(requested, None), SlotSet(REQUESTED_SLOT, requested)]
        # an answer the form holds may be corrected even while no question asks for it now (the
        # graduation year said up front, before the identity that makes it a question)
        held = [slot for slot in self.domain_slots(domain) if slot not in required and tracker.get_slot(slot) is not None]
        fixes = corrected_values(text, required + held, requested, self.today())
        # a confirmation step reads corrections itself ("不对，是去年毕业的": actions/profile_confirm.py)
        if fixes and not (requested.endswith("_confirm") and self.answers_pending_question(requested, text, tracker)):
            tracker.add_slots(not_the_answer)
            return not_the_answer + await self.correct(fixes, requested, dispatcher, tracker, domain)
        if self.wants_to_quit(text, intent, requested):
            tracker.add_slots(not_the_answer)  # "取消" typed at the name question is no name
            return await self.leave(requested, dispatcher, tracker, domain, not_the_answer)
        return None

    async def leave(
        self, requested: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
        not_the_answer: Optional[List[EventType]] = None,
    ) -> List[EventType]:
        """The user quits: with answers given in this run, asked first ("确定放弃吗"; `not_the_answer`
        empties what a text mapping took from the quit), else the form ends."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        if answered_since_start(tracker.events, self.form_name(), required, tracker.slots):
            dispatcher.utter_message(text=quit_question(required, tracker.slots))
            return list(not_the_answer or []) + [SlotSet(QUIT_SLOT, None), SlotSet(REQUESTED_SLOT, QUIT_SLOT)]
        return self.quit_events()

    async def go_on(
        self, events: List[EventType], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """`events`, then the form's next unanswered question (None: the form is done)."""
        tracker.add_slots(events)
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        missing = next((slot for slot in required if tracker.slots.get(slot) is None), None)
        return events + [SlotSet(REQUESTED_SLOT, missing)]

    async def answer_to_next_question(
        self, text: str, settled: Dict[str, Any], tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """`text` as the answer to one of the questions still open once `settled` holds — the first,
        in the form's order, whose own `validate_<slot>` accepts it quietly ("他叫孙浩然", then the
        phone, at a confirmation): {} when it answers none. A slot a mapping filled from this very
        message is still open (the person_name entity "长江" of "俺叫杜长江")."""
        tracker.add_slots([SlotSet(slot, value) for slot, value in settled.items()])
        quiet = CollectingDispatcher()
        required = await self.required_slots(self.domain_slots(domain), quiet, tracker, domain)
        fresh = set_since_last_message(tracker)
        for slot in (s for s in required if s not in settled and (tracker.slots.get(s) is None or s in fresh)):
            validate = getattr(self, f"validate_{slot}", None)
            result = await utils.call_potential_coroutine(validate(text, quiet, tracker, domain)) if validate else {}
            if result.get(slot) is not None:
                return result
        return {}

    async def correct(
        self, fixes: Dict[str, Any], requested: str,
        dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
    ) -> List[EventType]:
        """Earlier answers replaced through the form's own `validate_<slot>`; the form goes on."""
        events: List[EventType] = []
        for slot, value in fixes.items():
            if value is None:  # "改一下名字": ask it again now, then go on where the form was
                return [SlotSet(slot, None), SlotSet(REQUESTED_SLOT, slot)]
            validate = getattr(self, f"validate_{slot}", None)
            result = await utils.call_potential_coroutine(validate(value, dispatcher, tracker, domain)) if validate else {slot: value}
            if result.get(slot) is None:  # the validation said what is wrong: the pending question again
                return [SlotSet(requested, None), SlotSet(REQUESTED_SLOT, requested)]
            events += [SlotSet(name, result_value) for name, result_value in result.items()]
            dispatcher.utter_message(text=f"好的，{label(slot)}已改为：{shown(slot, result[slot])}。")
        return await self.go_on(events, dispatcher, tracker, domain)

    def answer_inside_form(
        self, requested: str, text: str, dispatcher: CollectingDispatcher, domain: DomainDict
    ) -> Optional[List[EventType]]:
        """"为什么要…" and "再说一遍": a reply, then the pending question again (the slot stays empty)."""
        again = [SlotSet(requested, None), SlotSet(REQUESTED_SLOT, requested)]
        repeat = REPEAT_RE.match(text)
        # "啥？" at a confirmation step: its own validation asks again with an example of the answer
        if repeat and not (requested.endswith("_confirm") and NOT_UNDERSTOOD_RE.search(repeat.group(1))):
            return again
        if WHY_RE.search(text):
            slot = self.slot_asked_about(text, requested, domain)
            if slot is not None:
                dispatcher.utter_message(response=why_response(slot))
                return again
        return None

    def slot_asked_about(self, text: str, requested: str, domain: DomainDict) -> Optional[str]:
        """The form's slot a "why" question names ("为什么要手机号"), else the pending one — if it
        has an explanation in the domain's responses."""
        responses = domain.get("responses") or {}
        slots = self.domain_slots(domain)
        for topic, kinds in WHY_TOPICS:
            if re.search(_ASKED_FOR.format(topic=topic), text) or re.search(_ASKED_ABOUT.format(topic=topic), text):
                named = [s for s in slots if s.endswith(kinds) and why_response(s) in responses]
                if named:
                    return requested if requested in named else named[0]
        if len(text) > WHY_ALONE_MAX_CHARS:
            return None
        return requested if why_response(requested) in responses else None

    @staticmethod
    def takes_text(slot: str, domain: DomainDict) -> bool:
        mappings = ((domain.get("slots") or {}).get(slot) or {}).get("mappings") or []
        return any(m.get("type") == "from_text" for m in mappings)


def set_since_last_message(tracker: Tracker) -> set:
    """The slots a mapping filled from the latest user message."""
    events = list(tracker.events or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    return {e.get("name") for e in events[last_user + 1:] if e.get("event") == "slot"}


def drop_candidate(tracker: Tracker, slot: str) -> None:
    """Forget the value a slot mapping gave `slot` from the latest message, so that it is not validated."""
    events = list(tracker.events or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    tracker.events = [e for i, e in enumerate(events)
                      if i <= last_user or not (e.get("event") == "slot" and e.get("name") == slot)]
    tracker.slots[slot] = None
