"""A message right after a booking or an enrolment was made that asks for it again ("确认" after the
booking was made on the phone number, "就报青岛那个" after the enrolment went through): it is done
already, said with its code, instead of "没太明白" or a second booking."""
from __future__ import annotations

import re
from typing import Optional

from rasa_sdk import Tracker

BOOKED_RE = re.compile(r"预约成功！预约码：([A-Za-z0-9]+)")
ENROLLED_RE = re.compile(r"报名成功！报名编号：([A-Za-z0-9]+)\n([^（\n]+)")
_YES_RE = re.compile(r"^(确认|确定|对|好|好的|是|是的|嗯|提交|没问题|可以|行|中)[。！!\s]*$")
_AGAIN_RE = re.compile(r"报|确认|就这个|就它|那期|那个")
_NOT_AGAIN_RE = re.compile(r"取消|不去|退|不报|别报|[?？]|吗|么|在哪|怎么|咋")
AGAIN_MAX_CHARS = 15


def done_already_text(tracker: Tracker, last_bot_text: str) -> Optional[str]:
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    booked = BOOKED_RE.search(last_bot_text or "")
    if booked and _YES_RE.match(text):
        return f"已经为您预约成功了，预约码：{booked.group(1)}，无需再确认。查看请说“我的预约”，取消请说“取消预约”。"
    enrolled = ENROLLED_RE.search(last_bot_text or "")
    if enrolled and len(text) <= AGAIN_MAX_CHARS and _AGAIN_RE.search(text) and not _NOT_AGAIN_RE.search(text):
        return (f"已经为您报好了：{enrolled.group(2)}，报名编号：{enrolled.group(1)}，无需重复报名。"
                "查看请说“我的报名”，取消请说“取消报名”。")
    return None
