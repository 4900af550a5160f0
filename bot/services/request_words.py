"""Requests a message makes in so many words, whichever intent the classifier gave it: to be enrolled
in the 实训营 (oneself or someone else, maybe "if I may"), to cancel something named by its code, and
to correct a phone number given before ("不对 手机号输错了 是139…": an answer, never a new request).

The classifier learns the camp from the words around a request as well as from the request, so a
long first message full of facts ("俺想报实训营 俺是失业青年 21岁 在青岛黄岛这边") lands on the eligibility
question, the job search or a greeting as often as on the enrolment; a cancellation that opens with
"你好" lands on the greeting. What the words plainly ask decides instead (the NLU component
bot/rasa_server/flow_preference.py; the actions read the same patterns). Pure functions, no Rasa.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

from bot.services.phone import find_phone

# What people call the camp: its name, "训练营", "求职营", "那个青年求职的培训".
CAMP = r"(?:实训营|训练营|求职营|实训班|(?:青年)?求职(?:能力)?的?(?:培训|训练)(?:班|营)?)"
# someone the user enrols besides themselves ("给俺儿子", "帮俺弟", "替她"); the forms read the name said
# for them ("俺闺女叫孟楠", "他叫魏子豪") and the eligibility facts their age ("他19", "俺闺女24了") by it too
RELATIVE = r"(?:闺女|女儿|儿子|孩子|孩儿|小孩|娃|弟弟|妹妹|哥哥|姐姐|弟|妹|侄子|侄女|外甥女?|孙子|孙女|儿(?![童时]))"
SOMEONE_ELSE = rf"(?:(?:我|俺|咱)?(?:家|们家|家的)?{RELATIVE}|他|她)"
FOR_WHOM = rf"(?:(?:我|俺|咱|她|他)(?:家|们家|家的)?{RELATIVE}?|{RELATIVE})"
# signing up, in the words people use ("报个名", "报上", "整一个", "参加")
SIGN_UP = r"(?:报名|报个名|报一个名|报上|报一个|报个|报一下|报下|报|参加|参与|加入|整一个|整个|弄一个|弄个)"
# a request to the bot to sign someone up: a request even when it ends like a question ("给他报个实训营中不")
ASKED_TO_SIGN_UP = re.compile(rf"(?:给|帮|替){FOR_WHOM}\s*{SIGN_UP}")
# a wish to join ("想去恁那个求职营", "我要报名实训营", "实训营报个名")
WISH = re.compile(
    rf"(?:想|要|准备|打算|我|俺|咱).{{0,6}}(?:{SIGN_UP}|去).{{0,8}}{CAMP}"
    rf"|{CAMP}.{{0,6}}(?:报名|报个名|报一个|报个|报一下|报下|报上)"
    rf"|{CAMP}[^?？吗]{{0,4}}(?:想|要|打算)(?:报|参加|去)"  # "听人说有个训练营 俺想报"
    # "实训营还能报不 俺想去", "…现在还能报名不 俺挺想去的": the question, then the wish said outright
    rf"|{CAMP}[^?？]{{0,10}}\s(?:我|俺|咱)(?:也|挺|很|真|还)?(?:想|要|打算)(?:报|参加|去)(?!问|看|了解)"
    rf"|(?:^|\s|，|,){SIGN_UP}.{{0,6}}{CAMP}"
)
# "能的话给俺报上", "可以的话直接报名", "行的话就报": enrol when the answer to the question is yes
IF_ALLOWED = re.compile(
    r"(?:能|可以|行|中|符合|够格|要是能|要是可以)(?:去|报|参加)?的话.{0,10}(?:报|参加|整)"
    r"|能(?:报|参加)(?:我|俺|咱)?就(?:报|参加)"  # "能报就报", "能报俺就报"
)
# a question or a statement about the camp, not a request to join it
QUESTION = re.compile(r"[吗么嘛不没否]\s*[？?。！!~～]*\s*$|[？?]|能不能|可不可以|行不行|能否|是否|怎么|咋|如何|啥时候|什么时候|多少钱|收费|在哪")
NOT_A_SIGN_UP = re.compile(
    r"取消|退掉|退了|不去|去不了|来不了|参加不了|不参加|不报|别报|不想|报了|报过|报完|报上了|报名了|报的|报没报|编号|查一下|查询"
)


def asks_to_enrol(text: str) -> bool:
    """The message asks to be enrolled (or someone else) in the camp, now."""
    text = text or ""
    if not re.search(CAMP, text) or NOT_A_SIGN_UP.search(text):
        return False
    return bool(ASKED_TO_SIGN_UP.search(text) or enrols_if_allowed(text)
                or (WISH.search(text) and not QUESTION.search(text)))


# "实训营咋报名啊", "俺想上实训营 咋弄": asking how to join is asking to join (as "咋预约…" asks to book);
# not "能报不" (whether one may: answered first), nor what it costs, needs or when it starts
HOW_TO_JOIN = re.compile(r"(?:咋|怎么|怎样|如何)(?:样)?(?:报名|报|弄|整|办|参加|加入)(?!.{0,2}(?:钱|费))")
MAY_I = re.compile(r"能报|能不能|能参加|能去|可以报|可以参加|让(?:报|参加|去)|符合|够格|条件|资格|要求|收不收|还收|行不|行吗|中不"
                   r"|材料|收费|多少钱|截止|什么时候|啥时候")


def asks_how_to_join(text: str) -> bool:
    """The message asks how to join the camp (the enrolment answers it), not whether one may."""
    text = text or ""
    return (bool(re.search(CAMP, text)) and bool(HOW_TO_JOIN.search(text))
            and not NOT_A_SIGN_UP.search(text) and not MAY_I.search(text))


# signing someone else up, or asking for them: "给俺儿报一个", "帮她报上", "俺是替俺儿问的"
FOR_SOMEONE_ELSE = re.compile(rf"(?:给|帮|替){SOMEONE_ELSE}\s*(?:{SIGN_UP}|问)")


def for_someone_else(text: str) -> bool:
    """The message signs up (or asks for) someone other than the writer."""
    return bool(FOR_SOMEONE_ELSE.search(text or ""))


def enrols_if_allowed(text: str) -> bool:
    """"俺22了还能报不 能的话给俺报上": whether one may join, and the enrolment if so."""
    return bool(IF_ALLOWED.search(text or "")) and not NOT_A_SIGN_UP.search(text or "")


def asks_bot_to_sign_up(text: str) -> bool:
    """"给他报个实训营中不": a request to the bot, also when shaped as a question."""
    return bool(ASKED_TO_SIGN_UP.search(text or "")) and not NOT_A_SIGN_UP.search(text or "")


# A code named in a sentence with one of these ("我的预约码是…，临时有事去不了") asks to cancel it.
# Six letters or digits, maybe split by a space or dash: the shortest code (bookings: 6, camp: 8+).
CODE_LIKE_RE = re.compile(r"[0-9A-Za-z](?:[\s\-]?[0-9A-Za-z]){5,}")
# Calling something off, in the words people use: the one list (the NLU rules of
# bot/services/knowledge/flow_anchors.py read it too, with words for what is called off).
CALLS_OFF = re.compile(
    r"取消|撤销|撤回|撤了|撤掉|退掉|退了|退课|不去了|去不了|去不成|来不了|参加不了|不参加了|不能参加|不想去了|删掉|删了"
)
# with a code named, "有事" and a plain "不参加" call it off too ("编号…那个 家里有事去不了了")
CANCEL_WORDS_RE = re.compile(rf"{CALLS_OFF.pattern}|不参加|有事")


def cancels_a_code(text: str) -> bool:
    """A code (letters and digits, as the codes shown are; a phone number is no code) named with a
    cancel word: "你好 编号online-123456那个 家里有事去不了了"."""
    plain = unicodedata.normalize("NFKC", text or "")
    codes = (re.sub(r"[\s\-]", "", m.group()) for m in CODE_LIKE_RE.finditer(plain))
    has_code = any(re.search(r"[A-Za-z]", c) and re.search(r"\d", c) for c in codes)
    return has_code and bool(CANCEL_WORDS_RE.search(plain))


# "输错了", "号码打错了 应该是…", "刚才那个电话不对 换成…"
_CORRECTS = re.compile(r"[输打写填弄记]错|错了|不对|换成|改成|改为|应该是|更正")
_PHONE_WORDS = re.compile(r"手机|电话|号码|号")


def corrected_phone(text: str) -> Optional[str]:
    """The new number of a phone correction ("不对 手机号输错了 是139…"), else None."""
    phone = find_phone(text or "")
    if phone is None or not _CORRECTS.search(text) or not _PHONE_WORDS.search(text.replace(phone, "")):
        return None
    return phone
