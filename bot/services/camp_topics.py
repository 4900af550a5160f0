"""Camp questions with an answer of their own rather than the whole camp text: what happens when a
cohort is full ("人满了咋整 能候补不"), what to bring ("去的时候要带啥 身份证要不要") and, inside the
enrolment form whatever intent NLU chose, what it costs ("收费不 要钱的话俺就不去了"). The form then asks
its question again.

Only what the product does or the cohort data says: a full cohort puts the applicant on the waitlist
(`EnrollmentStore.enroll`, promoted in order: bot/services/camp_notices.py); what to bring is not in
the data, so the answer points to the notice sent before the start and to the cohort's own phone.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from bot.services.camp import Cohort
from bot.services.reply_size import fit_lines

FULL_RE = re.compile(r"满了|人满|满员|报满|没名额|木名额|没有名额|名额.{0,3}(够|多少|还有|剩)|候补|排队|递补")
BRING_RE = re.compile(r"带(啥|什么|些|点|哪些)|要带|需要带|得带|携带|准备(啥|什么|哪些)|身份证")
FEE_RE = re.compile(r"收费|收钱|要钱|花钱|交钱|掏钱|费用|多少钱|免费")
MORE = "\n……"


def _cohort_lines(cohorts: Sequence[Cohort], detail) -> str:
    return "\n".join(f"· {c.title}：{detail(c)}" for c in cohorts)


def full_cohort_answer(cohorts: Sequence[Cohort]) -> str:
    text = ("每期名额有限；报名时如果那一期已满，会自动为您进入候补名单并告诉您候补顺位，"
            "有人取消时按顺序递补，补上后会通知您。您也可以选其他还有名额的期次（含线上期次）。")
    if cohorts:
        text += "\n各期名额：\n" + _cohort_lines(cohorts, lambda c: f"{c.capacity}人")
    return fit_lines(text, MORE)


def what_to_bring_answer(cohorts: Sequence[Cohort]) -> str:
    text = ("需要携带的证件和材料以开营前的通知为准：报名成功后，开营前我们会提醒您（线上期次短信通知会议号）。"
            "身份证等是否要带，可以拨打所报期次的咨询电话确认。")
    if cohorts:
        text += "\n咨询电话：\n" + _cohort_lines(cohorts, lambda c: c.contact)
    return fit_lines(text, MORE)


def fee_answer(cohorts: Sequence[Cohort]) -> str:
    """What the cohorts cost, from their `fee` (the sample data: 免费 everywhere)."""
    fees = {c.fee for c in cohorts}
    if not cohorts or fees == {"免费"}:
        return "实训营是免费的，报名和参加都不用交钱，结业颁发证书。"
    return fit_lines("实训营各期费用：\n" + _cohort_lines(cohorts, lambda c: c.fee), MORE)


def camp_topic_answer(text: str, cohorts: Sequence[Cohort], fee: bool = False) -> Optional[str]:
    """The answer of its own to a camp question about a full cohort or what to bring (and, with
    `fee`, what it costs: the camp text says it too, so only where that text is not the answer), else None."""
    if FULL_RE.search(text or ""):
        return full_cohort_answer(cohorts)
    if BRING_RE.search(text or ""):
        return what_to_bring_answer(cohorts)
    if fee and FEE_RE.search(text or ""):
        return fee_answer(cohorts)
    return None
