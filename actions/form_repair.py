"""Repairing a form in progress, the same way in every form (issue #21 item 2), used by
`actions.forms.DigressionAwareValidation`:

- quitting ("算了", "不报了", "不弄了"): with no answer given yet the form just stops; with progress it
  first asks "已填写…，确定放弃吗？回复“放弃”或“继续”" — the form stays active with `QUIT_SLOT` as its
  requested slot (the validation action asks; `action_ask_form_quit_confirm` is the form's silent
  "ask"), so "继续" (or a mind changed: "等等 还是约吧") resumes at the pending question with every
  answer kept, "放弃" ends it as a plain quit would, and a side question instead of a reply is
  answered and the form asks where it stopped; a quit with another request in one message
  ("算了 先看看招聘会") gets that request answered first, then the quit (`quits_for_more`);
- correcting an answer already given ("不对，是…", "手机号填错了，是139…", "改一下名字"): the answer is
  validated by the form's own `validate_<slot>` and the form goes on where it was;
- skipping an optional question ("跳过", "这个俺不想说", "没有"): `OPTIONAL_SLOTS` is the one list of
  them; a required one refused ("不给行不行") is said to be required, with why it is needed;
- a correction of the city names the wrong one too ("不对 俺在威海 不在烟台": `corrected_city`).

Here only what reads the user's words and the form's slots; the form decides and validates.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Mapping, Optional, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.camp_answers import SHANDONG_CITIES
from actions.form_pause import TASK_WORDS
from actions.profile_confirm import corrections
from bot.services.phone import find_phone, mask_phone

# The requested slot while the form asks whether to discard what was filled in.
QUIT_SLOT = "form_quit_confirm"
# Questions a user may leave unanswered (their slot then holds SKIPPED, which nothing saves).
OPTIONAL_SLOTS = frozenset({"camp_major"})
SKIPPED = ""

_QUIT_WORDS = (
    r"算了|不报了|不报名了|不想报了|不弄了|不填了|不办了|不约了|不预约了|不想约了|不用约了|不用了|退出|不要了|取消|停止|别问了"
    r"|不整了|不搞了|不想弄了|拉倒|先不(?:报|约|弄|填|办)了"
)
# one quit word or several in a row ("算了算了", "算了不报了")
QUIT_RE = re.compile(rf"^(?:(?:{_QUIT_WORDS})[吧啊了呀。！!～~，,\s]*)+$")
QUIT_LEAD = re.compile(rf"^(?:{_QUIT_WORDS})[吧啊了呀。！!～~，,\s]*")
# "放弃", also after a yes or a filler ("嗯放弃吧", "对 不要了", "还是放弃吧")
GIVE_UP_RE = re.compile(
    r"^(?:(?:嗯|对|是的?|好的?|还是|那就|那)[，,\s]*)*"
    r"(放弃|确定放弃|确认放弃|确定|确认|是|是的|对|嗯|好|好的|不要了|不报了|不约了|不弄了|算了|退出)[吧啊了。！!～~\s]*$"
)
# going on after the quit question: "继续", "不放弃", and a mind changed ("等等 还是约吧", "再想想")
GO_ON_RE = re.compile(
    r"继续|接着|不放弃|还要|要约|要报|别放弃|不算了|不退|别退|等等|等一下|等会|再想想|先别"
    r"|还是(?:要|想|得|给我|给俺)?(?:约|报|预约|报名|弄|办|填|要)"
    r"|^(不|不是|不了|否)([，,。！!\s]|$)"
)
# "跳过", also said with fillers and the question's name ("那俺不想说", "手机号就跳过吧", "这个俺不想说")
_SKIP_LEAD = r"(?:那|那就|这个|这|俺|我|就|先|还是|也|手机号?|电话|名字|姓名|专业|学校|年龄|城市|身份)*"
SKIP_RE = re.compile(
    rf"^{_SKIP_LEAD}(跳过|略过|下一个|下一题|不想说|不想填|不想写|不想给|不想留|不方便说|不方便|不说了|保密|不告诉你|木有|没有|无|没"
    r"|(?:能不能|可不可以|可以)?不(?:填|给|留|写|说)(?=行不行|可以吗|行吗|成不|中不|行不|$))"
    r"(?:专业|这个)?(?:行不行|可以吗|行吗|成不|中不|行不)?[吧啊了呀。！!～~?？\s]*$"
)
CORRECTION_RE = re.compile(
    r"^(不对|不是|错了|说错了|有误|更正|修改|改一下|改下|我改)|(填错|写错|说错|输错|打错|选错|搞错|弄错)了|改(一下|成|为)|不是这个"
)
_NAME_VALUE_RE = re.compile(r"(?:是|叫|改成|改为|应该是)\s*([\u4e00-\u9fa5·]{2,15}|[A-Za-z][A-Za-z .'-]{1,39})[。！!]?$")
_NAME_WORDS = re.compile(r"名字|姓名")
# how people spell out a character after the name ("是刘晓燕 晓是拂晓的晓", "刘晓燕，拂晓的晓"): not the name
_CHAR_SPELLED_RE = re.compile(r"[\s，,。]+(?:([\u4e00-\u9fa5])是)?[\u4e00-\u9fa5]{1,6}的([\u4e00-\u9fa5])[。！!]?$")


def without_spelling(text: str) -> str:
    """`text` without a trailing "晓是拂晓的晓" that spells out a character of the name before it."""
    found = _CHAR_SPELLED_RE.search(text)
    if not found or (found.group(1) and found.group(1) != found.group(2)):
        return text
    return text[:found.start()] if found.group(2) in text[:found.start()] else text
_NEGATED = re.compile(r"(不在|不是|没在|不)$")
# profile field of bot/services/profile_facts.py -> how the forms' slot names end
FACT_SLOT_ENDINGS = {
    "identity": ("identity",), "graduation_year": ("grad_year",), "age": ("age",),
    "school": ("school",), "city": ("city",),
}
PHONE_ENDINGS = ("phone", "mobile")
# What the quit question calls each kind of answer (by how the slot's name ends).
LABELS = (
    ("topic", "项目"), ("when", "时间"), ("slot_id", "场次"), ("name", "姓名"), ("phone", "手机"),
    ("mobile", "手机"), ("identity", "身份"), ("grad_year", "毕业年份"), ("age", "年龄"),
    ("school", "学校"), ("major", "专业"), ("city", "城市"), ("cohort", "期次"),
)


# "取消预约" / "不想报名了吧" said inside the form whose task it names: this form is given up (with no
# code or number in it: "取消预约 TS9LFC" is about a booking already made, another flow).
_CANCEL_OWN = r"^(取消|退掉|撤销|不要|不想|不用|不)(这次|这个|本次|这回)?的?({words})"
_NAMES_A_HOLDING = re.compile(r"[A-Za-z0-9]{4,}|\d")


def is_quit(text: str, intent: Optional[str], form: Optional[str] = None) -> bool:
    """The user leaves the form: "算了", "不报了", intent stop, or the form's own task cancelled."""
    if intent == "stop" or QUIT_RE.match(text):
        return True
    words = TASK_WORDS.get(form or "")
    return bool(words and re.match(_CANCEL_OWN.format(words=words), text) and not _NAMES_A_HOLDING.search(text))


def quits_for_more(text: str) -> bool:
    """A quit followed by something else in one message ("算了 俺还是先看看济南有啥活干吧"): the form is
    left, and the rest is answered like any side question."""
    lead = QUIT_LEAD.match(text)
    return bool(lead) and len(text[lead.end():].strip()) >= 2


def answered_slots(required: Sequence[str], slots: Mapping[str, Any]) -> List[str]:
    """The form's questions that hold a value (confirmation steps are not answers)."""
    return [s for s in required if not s.endswith("_confirm") and slots.get(s) not in (None, SKIPPED)]


def answered_since_start(events: Sequence[Mapping[str, Any]], form: str, required: Sequence[str], slots: Mapping[str, Any]) -> List[str]:
    """The questions the user answered in this run of the form: set after the first message that
    followed its start (what the opening message or the profile filled in is not progress) and
    before the latest message (the quit itself, which a free-text question may have taken as its
    answer: "取消" is no name)."""
    start = max((i for i, e in enumerate(events) if e.get("event") == "active_loop" and e.get("name") == form), default=-1)
    first_user = next((i for i in range(start + 1, len(events)) if events[i].get("event") == "user"), len(events))
    latest_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    set_later = {e.get("name") for e in events[first_user + 1:latest_user] if e.get("event") == "slot"}
    return [s for s in answered_slots(required, slots) if s in set_later]


def label(slot: str) -> str:
    return next((name for ending, name in LABELS if slot.endswith(ending)), slot)


def shown(slot: str, value: Any) -> str:
    if slot.endswith(PHONE_ENDINGS):
        return mask_phone(str(value))
    if slot.endswith("slot_id"):
        return "已选"
    return str(value)


def quit_question(required: Sequence[str], slots: Mapping[str, Any]) -> str:
    filled = "，".join(f"{label(s)}：{shown(s, slots[s])}" for s in answered_slots(required, slots))
    return f"已填写：{filled}。确定放弃吗？回复“放弃”或“继续”。"


def quit_answer(text: str, intent: Optional[str]) -> Optional[bool]:
    """True to give up, False to go on, None when the reply says neither."""
    if GIVE_UP_RE.match(text) or (intent == "stop" and not GO_ON_RE.search(text)):
        return True
    if GO_ON_RE.search(text) or intent in ("more", "deny"):
        return False
    return None


def is_skip(text: str, required_question: bool = False) -> bool:
    """"跳过"; to a required question only the words that cannot be its answer ("没有" may be one)."""
    match = SKIP_RE.match(text)
    return bool(match) and not (required_question and match.group(1) in ("没有", "木有", "无", "没"))


def corrected_city(text: str) -> Optional[str]:
    """The one city a correction says the user is in: "不对 俺在威海 不在烟台" -> 威海 (a city after
    "不在"/"不是" is the wrong answer being corrected)."""
    named = sorted((text.index(city), city) for city in SHANDONG_CITIES if city in text)
    kept = {city for at, city in named if not _NEGATED.search(text[max(0, at - 2):at])}
    return kept.pop() if len(kept) == 1 else None


def corrected_values(text: str, required: Sequence[str], pending: Optional[str], today: date) -> Dict[str, Any]:
    """The answers already given that a correction names, as raw values for `validate_<slot>`
    (None: the user wants to redo it without saying the new value, "改一下名字")."""
    if not CORRECTION_RE.search(text):
        return {}
    found: Dict[str, Any] = {}
    phone = find_phone(text)
    if phone:
        found.update({s: phone for s in required if s.endswith(PHONE_ENDINGS)})
    facts = corrections(text, today)
    city = facts.get("city") or corrected_city(text)
    if city:
        facts["city"] = city
    for field, value in facts.items():
        found.update({s: value for s in required if s.endswith(FACT_SLOT_ENDINGS.get(field, ("\0",)))})
    # "不对，我是前年毕业的" names a fact, not a name ("前年毕业的"), even when no question of this form asks it
    if _NAME_WORDS.search(text) or (not found and not facts and _NAME_VALUE_RE.search(without_spelling(text))):
        name = _NAME_VALUE_RE.search(without_spelling(text))
        if name or _NAME_WORDS.search(text):
            found.update({s: (name.group(1) if name else None) for s in required if s.endswith("_name")})
    return {s: v for s, v in found.items() if s != pending}


class ActionAskFormQuitConfirm(Action):
    """The form's "ask" for `QUIT_SLOT`: says nothing, because the validation action has already
    asked the quit question with the form's own answers (it knows its form and its slots)."""

    def name(self) -> Text:
        return "action_ask_form_quit_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return []
