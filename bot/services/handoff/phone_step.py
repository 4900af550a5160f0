"""The phone step of a request left while nobody is available, repaired like a form's question
(issue #21 item 2): the offer "直接回复您的手机号码，我们会在工作时间给您回电" is a question, and people
answer it the way they answer the forms' questions:

- "要我手机号干啥" / "号码安全吗": why the number is needed and how it is kept, the offer stays;
- "大概啥时候给俺回电话": when the call would come (the desk's hours), the offer stays;
- "不想留" / "跳过": fine, the message left is enough (staff answer by 公众号消息);
- "算了 不用回电了": the request is withdrawn (the item closed as the user's cancel);
- "不对 号码输错了 是139…" after a number was noted: the new number replaces it.

Here only the reading of the words; `HandoffInterceptor` (gate.py) acts on it.
"""
from __future__ import annotations

import re
from typing import Optional

WHY = "why"
WHEN = "when"
SKIP = "skip"
WITHDRAW = "withdraw"
CORRECT = "correct"

_WHY_RE = re.compile(r"为什么|为啥|干啥|干嘛|弄啥|做啥|做什么|干什么|有啥用|有什么用|安全吗|会不会泄露|泄露|非得|非要|必须")
_WHEN_RE = re.compile(r"啥时候|啥时|什么时候|几点|多久|多长时间|哪天|何时|等多长")
_ABOUT_CALL_RE = re.compile(r"回电|电话|打给|打过来|联系|回复|回我|回俺|找我|找俺")
WHEN_ALONE_MAX_CHARS = 8  # "啥时候打": a short when-question is about the offer even without naming the call
_ABOUT_PHONE_RE = re.compile(r"手机|电话|号码|号")
_SKIP_RE = re.compile(r"^(?:那|我|俺|就|还是|电话|手机号?)*(?:不想留|不留了?|不方便|不想给|不给|跳过|没有手机|没手机|不想说)[吧了啊呀。！!～~\s]*$")
_WITHDRAW_RE = re.compile(r"不用(?:回电|打电话|打了|联系|人工|了)|不需要(?:了|回电|人工)|不找(?:人工)?了|取消(?:人工|回电|留言)|算了")
_CORRECT_RE = re.compile(r"不对|错了|输错|打错|写错|填错|说错|改成|改为|换成|换个|应该是|重新留")
WITHDRAW_MAX_CHARS = 16  # longer, and "算了" leads into another request for the bot

WHY_TEXT = (
    "留手机号只为让职业指导师在工作时间给您回电，号码只保存在这次留言里，处理完不会用于其他用途。"
    "不想留也可以：您的留言已经保存，指导师会通过公众号消息联系您。需要回电请直接回复手机号。"
)
SKIP_TEXT = "好的，不留电话也可以。您的留言已经保存，职业指导师会通过公众号消息联系您。"
WITHDRAW_TEXT = "好的，已为您撤回这次人工留言，不会再回电。职引继续为您服务，有需要随时说“转人工”。"


def phone_step_kind(text: str, has_phone: bool, noted: bool) -> Optional[str]:
    """What a message sent while the offer stands says about it; None: not about the offer (the bot
    answers it). `has_phone`: the message holds a number; `noted`: a number was already noted."""
    text = (text or "").strip()
    if has_phone:
        return CORRECT if noted and _CORRECT_RE.search(text) else None
    if _WHY_RE.search(text) and (_ABOUT_PHONE_RE.search(text) or len(text) <= 8):
        return WHY
    if _WHEN_RE.search(text) and (_ABOUT_CALL_RE.search(text) or len(text) <= WHEN_ALONE_MAX_CHARS):
        return WHEN
    if not noted and _SKIP_RE.match(text):
        return SKIP
    if len(text) <= WITHDRAW_MAX_CHARS and _WITHDRAW_RE.search(text):
        return WITHDRAW
    return None
