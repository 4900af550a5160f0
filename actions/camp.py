"""Camp actions: the enrolment form (prefill, validation); the camp's information is in
`actions/camp_info.py`, its submit in `actions/camp_submit.py`, 退订/订阅 in `actions/pushes.py`.

Thin by design: parsing of the user's words and the dialogue glue live here, every rule and
every write lives in `bot.services.camp` / `bot.services.eligibility` / `bot.services.push`.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.camp_ahead import camp_answers_ahead, city_named, city_of_school, cohort_in_words, names_open_cohort, studies_in_passing
from actions.camp_eligibility import answer_before_form, fact_slots, message_facts
from actions.camp_for_whom import enrols_someone_else, facts_said_for_them, save_own_profile
from actions.camp_answers import is_identity_answer, parse_age, only_a_place, parse_city, parse_city_answer, parse_identity, parse_year, school_and_major
from actions.booking.common import choice_in_text
from actions.flow_start import ENROL_START
from actions.form_early_answers import answered_name
from actions.form_pause import ANSWERS_IN_WORDS, resume_asked
from actions.form_repair import SKIPPED
from actions.forms import DigressionAwareValidation, looks_like_free_text_answer, plainly_an_answer, questions_chosen, then_ask
from actions.profile_confirm import ConfirmFacts, pending
from bot.clock import Clock, system_clock
from bot.services.camp import (
    CampCatalogue,
    Cohort,
    EnrollmentStore,
    last_pushed_cohort,
    load_catalogue,
)
from bot.services.cohort_words import named_cohort
from bot.services.eligibility import check_eligibility, load_rules
from bot.services.my_things import joined_cohort_ids
from bot.services.phone import find_phone, mask_phone, normalise_phone
from bot.services.profile_facts import graduation_year_answer
from bot.services.profiles import ProfileStore

# Tests replace this with a FrozenClock.
clock: Clock = system_clock

FORM = "camp_enrollment_form"
# form slot -> profile field (the profile is what later conversations prefill from)
PROFILE_FIELDS = {
    "camp_name": "name",
    "camp_mobile": "phone",
    "camp_identity": "identity",
    "camp_grad_year": "graduation_year",
    "camp_age": "age",
    "camp_school": "school",
    "camp_major": "major",
    "camp_city": "city",
}
FORM_SLOTS = list(PROFILE_FIELDS) + ["camp_cohort", "camp_refusal"]
STUDENT_LIKE = ("在校生", "应届毕业生", "离校未就业毕业生")
# Still at school: their school's city is where they are. A graduate who has left may have gone home,
# so their city is asked.
AT_SCHOOL = ("在校生", "应届毕业生")
STOPPED = "__stopped__"
SHORT_ANSWER_MAX_CHARS = 6  # "济南", "我在济南市", "去年": longer messages naming one are about something else
CONSENT = "提示：您填写的报名信息将保存到职引档案，仅用于实训营报名和就业服务，下次无需重复填写；说“退订”可停止推送。"


def today() -> date:
    return clock().date()


def profile_from_slots(tracker: Tracker) -> Dict[str, Any]:
    return {field: tracker.get_slot(slot) for slot, field in PROFILE_FIELDS.items()}


def _age(value: Any) -> Optional[str]:
    age = parse_age(value, today())
    return str(age) if age is not None else None


# the facts the form shows back instead of asking ("您是2025届离校未就业毕业生，今年24岁…，对吗？")
FACT_FIELDS = ("identity", "graduation_year", "age", "school", "city")
CONFIRM = ConfirmFacts(
    confirm_slot="camp_facts_confirm",
    slots={slot: field for slot, field in PROFILE_FIELDS.items() if field in FACT_FIELDS},
    normalise={"identity": parse_identity, "age": _age, "city": parse_city, "school": str,
               "graduation_year": lambda v: str(parse_year(v, today().year) or "") or None},
)


def current_catalogue() -> CampCatalogue:
    """The cohorts from CAMP_COHORTS_FILE as of today (cached by load_catalogue)."""
    return load_catalogue(runtime.settings().camp_cohorts_file, today())


def fitting_cohorts(profile: Dict[str, Any], city: Optional[str], day: date) -> List[Cohort]:
    rules = load_rules()
    catalogue = current_catalogue()
    return [
        c
        for c in catalogue.open_cohorts(day, city)
        if check_eligibility(profile, c, day, rules=rules).eligible
    ]


async def offered_cohorts(openid: str, profile: Dict[str, Any]) -> List[Cohort]:
    """The fitting cohorts the user has not joined yet (enrolled or waitlisted): the numbered
    choice list, so that asking and validating number the same cohorts."""
    fitting = fitting_cohorts(profile, profile.get("city"), today())
    joined = await joined_cohort_ids(EnrollmentStore(runtime.redis(), runtime.settings(), clock), openid, fitting)
    return [c for c in fitting if c.id not in joined]


# a camp applicant's name as the enrolment list needs it
CAMP_NAME = re.compile(r"[\u4e00-\u9fa5·]{2,15}|[A-Za-z][A-Za-z .'-]{1,39}")

# "俺跑不了 报网上的那个吧" at the cohort list, read as cancelling: still the answer (actions/form_pause.py)
ANSWERS_IN_WORDS[FORM] = lambda requested, text: names_open_cohort(requested, text, current_catalogue(), today())


async def user_city(tracker: Tracker) -> Optional[str]:
    """The Shandong city the user named in this conversation, else the one on their profile."""
    city = parse_city(tracker.get_slot("city") or tracker.get_slot("camp_city") or "")
    if not city:
        profile = await ProfileStore(runtime.redis(), runtime.settings()).get(tracker.sender_id)
        city = parse_city(profile.get("city", ""))
    return city


class ActionCampEnrollStart(Action):
    """Runs before the form: prefill from the profile and from the cohort last pushed."""

    def name(self) -> Text:
        return ENROL_START

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        resumed = resume_asked(tracker, naming_task=True)  # "继续报实训营" with the enrolment paused: where it stopped
        if resumed is not None:
            return resumed
        facts = message_facts(tracker, today())
        answered = await answer_before_form(dispatcher, tracker, facts, current_catalogue(), today(), await user_city(tracker))
        if answered and answered[-1] == FollowupAction("action_listen"):
            return answered
        redis, settings = runtime.redis(), runtime.settings()
        openid = tracker.sender_id
        # for someone else ("给俺儿报一个"): what was said about them, not the user's own profile
        other = enrols_someone_else(tracker, starting=True)
        profile = {} if other else await ProfileStore(redis, settings).get(openid)
        events: List[EventType] = answered + [SlotSet("camp_refusal", None)]
        known = []
        said = {**(facts_said_for_them(tracker, today()) if other else {}), **fact_slots(facts)}  # not asked again
        prefilled: Dict[str, str] = {}
        for slot, field in PROFILE_FIELDS.items():
            value = said.get(slot) or tracker.get_slot(slot) or profile.get(field)
            if slot == "camp_city":  # a city said in this conversation (or a school's) is newer
                value = parse_city(next(tracker.get_latest_entity_values("city"), "") or tracker.get_slot("city") or "") or value
            if value:
                events.append(SlotSet(slot, str(value)))
                prefilled[field] = str(value)
                if slot in ("camp_name", "camp_mobile"):
                    known.append(mask_phone(str(value)) if slot == "camp_mobile" else str(value))
        if tracker.get_slot(CONFIRM.confirm_slot) is True or answered:  # already shown back ("按您的情况…")
            events.append(SlotSet(CONFIRM.confirm_slot, True))
        else:
            events += CONFIRM.start_events({k: v for k, v in prefilled.items() if k in FACT_FIELDS})
        cohort_id = await last_pushed_cohort(redis, settings, openid)
        cohort = current_catalogue().get(cohort_id) if cohort_id else None
        if cohort is not None and cohort.is_open(today()):
            events.append(SlotSet("camp_cohort", cohort.id))
            dispatcher.utter_message(text=f"好的，为您报名{cohort.label}。")
        else:
            events.append(SlotSet("camp_cohort", None))
        message = CONSENT
        if known:
            message += "\n已为您带入：" + "、".join(known) + "（如有变化请说“取消”后告诉我）。"
        dispatcher.utter_message(text=message)
        if (tracker.latest_message.get("intent") or {}).get("name") != "enroll_camp":
            events.append(FollowupAction(FORM))  # started for a message NLU did not place (actions/flow_start.py)
        return events


class ValidateCampEnrollmentForm(DigressionAwareValidation):
    def name(self) -> Text:
        return "validate_camp_enrollment_form"

    def answers_pending_question(self, slot: str, text: str, tracker: Tracker) -> bool:
        if slot == CONFIRM.confirm_slot:  # or, instead, an answer to the next question (validate_camp_facts_confirm)
            return CONFIRM.answers(text, today()) or plainly_an_answer(text) or looks_like_free_text_answer(text)
        if slot == "camp_identity":
            return is_identity_answer(text) or plainly_an_answer(text)
        if slot == "camp_city":  # "俺在淄博张店", "青岛黄岛区这边": a district with the city is longer
            short = len(text) <= SHORT_ANSWER_MAX_CHARS and parse_city_answer(text) is not None
            return short or only_a_place(text)
        if slot == "camp_major" and cohort_in_words(text, current_catalogue(), today()):  # "报线上那期": moves on
            return True
        if slot == "camp_grad_year" and len(text) <= SHORT_ANSWER_MAX_CHARS:  # "去年", "25届"
            return graduation_year_answer(text, today(), load_rules()) is not None
        return plainly_an_answer(text)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        events = then_ask(events, await self.city_said_before(events, dispatcher, tracker, domain))
        return events + await self.sole_cohort(events, dispatcher, tracker)

    async def city_said_before(
        self, events: List[EventType], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """About to ask the city the user named since the form started ("泰安泰山区这边有没有服务站" in a side
        question): taken, said with how to correct it, and the form goes on."""
        asked = questions_chosen(events)
        city = city_named(tracker)
        if not city or not asked or asked[-1] != "camp_city" or tracker.get_slot("requested_slot") == "camp_city":
            return []
        tracker.add_slots(events)
        dispatcher.utter_message(text=f"您前面提到在{city}，就按{city}为您匹配期次；不在{city}的话，说一下您现在在哪就行。")
        result = self.validate_camp_city(city, dispatcher, tracker, domain)
        return await self.go_on([SlotSet(k, v) for k, v in result.items()], dispatcher, tracker, domain)

    async def sole_cohort(self, events: List[EventType], dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """When the form is about to ask the cohort and exactly one cohort fits a user who holds none of
        them, it is taken: a one-line list answered "1" is a question people do not see as one (the
        reply names the cohort and "取消报名" undoes it). Someone who holds a fitting cohort still chooses."""
        asked = questions_chosen(events)
        if not asked or asked[-1] != "camp_cohort" or tracker.get_slot("requested_slot") == "camp_cohort":
            return []
        slots = {**tracker.slots, **{e["name"]: e.get("value") for e in events if e.get("event") == "slot"}}
        if slots.get("camp_cohort") or slots.get("camp_refusal"):
            return []
        profile = {field: slots.get(slot) for slot, field in PROFILE_FIELDS.items()}
        fitting = fitting_cohorts(profile, profile.get("city"), today())
        offered = await offered_cohorts(tracker.sender_id, profile)
        if fitting and not offered:  # all held already: nothing to choose, the form ends saying so
            held = "、".join(c.title for c in fitting)
            return [SlotSet("camp_refusal", f"适合您的期次您都已报名或在候补中（{held}），无需重复报名。说“我的报名”查看。"),
                    SlotSet("requested_slot", None)]
        if len(fitting) != 1 or len(offered) != 1:
            return []
        dispatcher.utter_message(text=f"适合您的期次只有{offered[0].label}，就为您报这一期。")
        return [SlotSet("camp_cohort", offered[0].id), SlotSet("requested_slot", None)]

    def quit_events(self) -> List[EventType]:
        # Ends the form (requested_slot None); the submit action sees the marker and says so.
        return [SlotSet("camp_refusal", STOPPED), SlotSet("requested_slot", None)]

    def today(self) -> date:
        return today()

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if tracker.get_slot("camp_refusal"):
            return []
        slots = [CONFIRM.confirm_slot] if pending(tracker, CONFIRM.confirm_slot) else []
        slots += ["camp_name", "camp_mobile", "camp_identity"]
        identity = tracker.get_slot("camp_identity")
        if identity in STUDENT_LIKE:
            slots += ["camp_grad_year", "camp_school", "camp_major"]
        elif identity:
            slots += ["camp_age"]
        return slots + ["camp_city", "camp_cohort"]

    async def validate_camp_facts_confirm(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = (tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        went_on = {} if value is None or intent == "enroll_camp" or CONFIRM.answers(text, today()) else await self.answer_to_next_question(
            text, {CONFIRM.confirm_slot: True}, tracker, domain
        )
        # a user who answers the next question ("韩梅") or insists on enrolling ("报名") has let the facts stand
        insists = intent == "enroll_camp" and value is not None
        if went_on or insists:
            result: Dict[Text, Any] = {CONFIRM.confirm_slot: True, **went_on}
        else:
            result = CONFIRM.validate(value, text, today(), dispatcher)
        if result.get(CONFIRM.confirm_slot):  # confirmed or corrected after the consent notice: keep them
            facts = {PROFILE_FIELDS[slot]: result.get(slot, tracker.get_slot(slot)) for slot in CONFIRM.slots}
            await save_own_profile(tracker, facts)
        return result

    def validate_camp_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        name = answered_name(value, tracker, "camp_name", CAMP_NAME)
        if name:
            return {"camp_name": name}
        dispatcher.utter_message(text="姓名需为2–15个汉字（或英文姓名），不含数字和符号，请重新输入。")
        return {"camp_name": None}

    def validate_camp_mobile(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        # the number in a message that says more ("138…，我24岁，在德州"): the rest is kept for later questions;
        # the message itself when the phone entity took only part of a spaced number ("139 2559 1477")
        phone = (normalise_phone(str(value or "")) or find_phone(str(value or ""))
                 or find_phone(tracker.latest_message.get("text") or ""))
        if phone:
            return {"camp_mobile": phone}
        dispatcher.utter_message(text="手机号需为11位、以1开头的中国大陆号码，请重新输入。")
        return {"camp_mobile": None}

    def validate_camp_identity(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        identity = parse_identity(value, today())
        if identity is None:
            dispatcher.utter_message(text="没有识别出您的身份，请回复序号（1–%d）。" % len(load_rules().identities))
            return {"camp_identity": None}
        rules = load_rules()
        if not any(identity in g.identities for g in rules.groups.values()):
            decision_text = (
                f"实训营面向{rules.target_labels()}，“{identity}”暂不在招收范围。\n您可以考虑：\n"
                + "\n".join(f"· {a}" for a in rules.alternatives)
            )
            return {"camp_identity": identity, "camp_refusal": decision_text}
        if identity in AT_SCHOOL:  # a school said before this question ("我叫…，临沂大学的") gives the city now
            return {"camp_identity": identity, **city_of_school(tracker.get_slot("camp_school"), tracker, dispatcher)}
        return {"camp_identity": identity}

    def validate_camp_grad_year(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        year = parse_year(value, today().year) or graduation_year_answer(str(value or ""), today(), load_rules())
        if year is None or parse_year(str(year), today().year) is None:
            dispatcher.utter_message(text="请告诉我4位数的毕业年份（在校生填预计毕业年份），例如 2026。")
            return {"camp_grad_year": None}
        return {"camp_grad_year": str(year)}

    def validate_camp_age(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        age = parse_age(value, today())
        if age is None:
            dispatcher.utter_message(text="请用数字告诉我您的周岁年龄，例如 22。")
            return {"camp_age": None}
        return {"camp_age": str(age)}

    def _free_text(self, slot: str, label: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if 2 <= len(text) <= 40 and not re.fullmatch(r"[\d\W_]+", text):
            return {slot: text}
        dispatcher.utter_message(text=f"请输入{label}全称（2–40个字）。")
        return {slot: None}

    def validate_camp_school(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        said = tracker.latest_message.get("text") if tracker.get_slot("requested_slot") == "camp_school" else value
        school, major = school_and_major(str(said or ""))  # "潍坊学院 汉语言文学": the major said with it
        result = self._free_text("camp_school", "学校", school if major else value, dispatcher)
        said_major = {"camp_major": major} if major and result.get("camp_school") and not tracker.get_slot("camp_major") else {}
        if tracker.get_slot("camp_identity") not in AT_SCHOOL:
            return {**result, **said_major}
        return {**result, **said_major, **city_of_school(result.get("camp_school"), tracker, dispatcher)}

    def validate_camp_major(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        cohort = cohort_in_words(str(value or ""), current_catalogue(), today())
        if cohort and tracker.get_slot("requested_slot") == "camp_major":  # the optional major passed over
            return {"camp_major": SKIPPED, "camp_cohort": cohort}
        return self._free_text("camp_major", "专业", value, dispatcher)

    def form_answers_ahead(self, text: str, open_slots: List[str]) -> Dict[str, Any]:
        return camp_answers_ahead(text, open_slots, current_catalogue(), today())

    def facts_stated(self, requested: str, tracker: Tracker) -> Dict[str, Any]:
        stated: Dict[str, Any] = dict(fact_slots(message_facts(tracker, today())))
        if not stated:
            return stated
        city = parse_city(next(tracker.get_latest_entity_values("city"), "") or "")
        # "俺去年鲁东大学毕业的 学数学的 人在烟台": the school and the major said with the facts are kept too
        studies = {s: v for s, v in studies_in_passing(tracker.latest_message.get("text") or "").items()
                   if not tracker.get_slot(s)}
        return {**stated, **studies, **({"camp_city": city} if city else {})}

    def validate_camp_city(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        city = parse_city_answer(value)
        if city is None:
            dispatcher.utter_message(text="请告诉我您所在的山东省城市，例如：济南、青岛、临沂。")
            return {"camp_city": None}
        profile = profile_from_slots(tracker)
        profile["city"] = city
        if profile.get("identity") and not fitting_cohorts(profile, city, today()):
            catalogue = current_catalogue()
            candidates = catalogue.open_cohorts(today(), city)
            if candidates:
                decision = check_eligibility(profile, candidates[0], today())
                if all(reason.startswith("需要提供") for reason in decision.reasons):
                    return {"camp_city": city}  # only facts not asked yet (the age): the form asks them
                text = decision.message()
            else:
                text = "目前没有正在报名的期次。\n您可以考虑：\n" + "\n".join(
                    f"· {a}" for a in load_rules().alternatives
                )
            return {"camp_city": city, "camp_refusal": text}
        return {"camp_city": city}

    async def validate_camp_cohort(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        catalogue = current_catalogue()
        text = str(value or "").strip()
        profile = profile_from_slots(tracker)
        complete = bool(profile.get("identity")) and bool(profile.get("city"))
        cohort = catalogue.get(text)
        if cohort is None:
            choices = await offered_cohorts(tracker.sender_id, profile) if complete else []
            # "第3期" names 烟台第3期 when one is offered; else, like "第二个吧", the place in the list
            number = None if "期" in text and named_cohort(text, choices) else choice_in_text(text, len(choices))
            if number is not None:
                cohort = choices[number - 1]
            else:  # by name among all fitting ones: a joined cohort named gets "已报名" below
                named = fitting_cohorts(profile, profile.get("city"), today()) if complete else []
                cohort = next((c for c in named if c.title in text or c.id in text), None)
                # "就报青岛那个", "报线上那期": the one offered cohort the words fit
                cohort = cohort or named_cohort(text, choices) or named_cohort(text, named)
        if cohort is None:
            dispatcher.utter_message(text="请回复列表中的期次序号。")
            return {"camp_cohort": None}
        if not cohort.is_open(today()):
            dispatcher.utter_message(text=f"{cohort.label}报名已截止，请选择其他期次。")
            return {"camp_cohort": None}
        if complete:
            others = catalogue.open_cohorts(today(), profile.get("city"))
            decision = check_eligibility(profile, cohort, today(), other_cohorts=others)
            if not decision.eligible:
                dispatcher.utter_message(text=decision.message())
                return {"camp_cohort": None}
        existing = await EnrollmentStore(runtime.redis(), runtime.settings(), clock).find(tracker.sender_id, cohort.id)
        if existing:
            dispatcher.utter_message(text=f"您已报名{cohort.label}（编号{existing['code']}），无需重复报名。请选择其他期次，或说“取消”退出。")
            return {"camp_cohort": None}
        return {"camp_cohort": cohort.id}
