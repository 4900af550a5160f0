"""Repairing a form in progress, the same way in every form (issue #21 item 2), used by
`actions.forms.DigressionAwareValidation`:

- quitting ("算了", "不报了", "不弄了"): with no answer given yet the form just stops; with progress it
  first asks "已填写…，确定放弃吗？回复“放弃”或“继续”" — the form stays active with `QUIT_SLOT` as its
  requested slot (the validation action asks; `action_ask_form_quit_confirm` is the form's silent
  "ask"), so "继续" resumes at the pending question with every answer kept, and "放弃" ends it as a
  plain quit would;
- correcting an answer already given ("不对，是…", "手机号填错了，是139…", "改一下名字"): the answer is
  validated by the form's own `validate_<slot>` and the form goes on where it was;
- skipping an optional question ("跳过", "不想说", "没有"): `OPTIONAL_SLOTS` is the one list of them.

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

from actions.form_pause import TASK_WORDS
from actions.profile_confirm import corrections
from bot.services.phone import find_phone, mask_phone

# The requested slot while the form asks whether to discard what was filled in.
QUIT_SLOT = "form_quit_confirm"
# Questions a user may leave unanswered (their slot then holds SKIPPED, which nothing saves).
OPTIONAL_SLOTS = frozenset({"camp_major"})
SKIPPED = ""

QUIT_RE = re.compile(
    r"^(算了|不报了|不报名了|不想报了|不弄了|不填了|不办了|不约了|不预约了|不想约了|不用约了|不用了|退出|不要了|取消|停止|别问了)"
    r"[吧啊了呀。！!～~\s]*$"
)
GIVE_UP_RE = re.compile(r"^(放弃|确定放弃|确认放弃|确定|确认|是|是的|对|嗯|好|好的|不要了|不报了|不约了|不弄了|算了|退出)[吧啊了。！!～~\s]*$")
GO_ON_RE = re.compile(r"继续|接着|不放弃|还要|要约|要报|别放弃|不算了|^(不|不是|不了|否)([，,。！!\s]|$)")
SKIP_RE = re.compile(r"^(跳过|略过|下一个|下一题|不想说|不想填|不方便说|不说了|保密|没有|无|没)[吧啊了呀。！!～~\s]*$")
CORRECTION_RE = re.compile(r"^(不对|不是|错了|说错了|有误|更正|修改|改一下|改下|我改)|(填错|写错|说错|输错|打错|选错)了|改(一下|成|为)")
_NAME_VALUE_RE = re.compile(r"(?:是|叫|改成|改为|应该是)\s*([\u4e00-\u9fa5·]{2,15}|[A-Za-z][A-Za-z .'-]{1,39})[。！!]?$")
_NAME_WORDS = re.compile(r"名字|姓名")
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
    return bool(match) and not (required_question and match.group(1) in ("没有", "无", "没"))


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
    for field, value in facts.items():
        found.update({s: value for s in required if s.endswith(FACT_SLOT_ENDINGS.get(field, ("\0",)))})
    # "不对，我是前年毕业的" names a fact, not a name ("前年毕业的"), even when no question of this form asks it
    if _NAME_WORDS.search(text) or (not found and not facts and _NAME_VALUE_RE.search(text)):
        name = _NAME_VALUE_RE.search(text)
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
