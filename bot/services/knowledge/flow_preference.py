"""When a message asks to DO something the bot has a flow for, the flow wins over a knowledge topic.

"有专门给退役军人的招聘会吗", "残疾人能参加的招聘会有没有", "之前约的简历指导能不能取消啊": requests
phrased as questions, often with a group word (退役军人, 残疾人, 应届生) that the knowledge items also
use. The intent classifier then splits its belief between the question intent (`ask_policy`) and
the flow intent, and the question intent or the fallback takes the message although the user wants
the list of fairs, a booking cancelled or the assessment started.

The rule: when the two strongest intents are a flow intent and the question intent, the message is a
request to that flow — the question intent's share goes to the flow — unless the message asks how
or why (怎么/为什么/是什么/条件…) and the knowledge base has a confident answer for it ("退伍回来怎么
找工作" stays the veterans' answer). A flow intent needs at least `min_share` of the question
intent's confidence to be preferred: a flow the classifier barely considered is not one the user
asked for. Pure functions; the graph component is bot/rasa_server/flow_preference.py.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

from bot.services.knowledge.retrieval import ANSWER, QUESTION_INTENT

# Flow intents a first message can ask for (their rules run an action; docs/question_map.md).
FLOW_INTENTS = frozenset({
    "find_job", "find_job_fair", "find_service_point", "book_workshop", "cancel_booking",
    "my_bookings", "career_assessment", "ask_camp_info", "enroll_camp", "ask_courses",
})
# How / why / what-is / conditions: a question the knowledge base answers, not a request.
HOW_OR_WHY = re.compile(
    r"怎么|怎样|咋|如何|为什么|为啥|为何|是什么|是啥|什么是|啥是|什么意思|啥意思|干啥的|干什么的"
    r"|条件|材料|手续|流程|政策|补贴|靠谱|骗|合法|违法|正规|有用吗|有啥用|有什么用"
    r"|优待|优惠|优先|帮扶|扶持|待遇|资格|转行|改行|换个?行"  # what support or rules apply to me
)
# Pointing back to a paused form ("继续报名", "接着约刚才那个"): actions/form_pause.py resumes it, so
# such a message is not a new request (this is that module's pattern too).
POINTS_BACK = re.compile(r"继续|接着|刚才|刚刚|之前那个|上次那个|没弄完|没填完|没约完|没报完")
MIN_SHARE = 0.2  # the flow's confidence relative to the question intent's (swept on dev: 0.15-0.2 best)

Ranking = List[Dict[str, Any]]  # Rasa's intent_ranking: [{"name": …, "confidence": …}, …]


def asks_how_or_why(text: str) -> bool:
    return bool(HOW_OR_WHY.search(text or ""))


def knowledge_answers(payload: Any) -> bool:
    """The knowledge retriever's decision (parse key `knowledge`) is a confident answer."""
    return isinstance(payload, dict) and payload.get("decision") == ANSWER


def preferred_ranking(
    text: str, ranking: Sequence[Dict[str, Any]], knowledge: Any, min_share: float = MIN_SHARE
) -> Optional[Ranking]:
    """The ranking with the flow intent first and the question intent's confidence added to it, when
    the rule above applies; None when the ranking stays as it is."""
    if len(ranking) < 2:
        return None
    first, second = ranking[0], ranking[1]
    names = {first.get("name"), second.get("name")}
    if QUESTION_INTENT not in names:
        return None
    flow, question = (second, first) if first.get("name") == QUESTION_INTENT else (first, second)
    if flow.get("name") not in FLOW_INTENTS:
        return None
    flow_confidence = float(flow.get("confidence") or 0.0)
    question_confidence = float(question.get("confidence") or 0.0)
    if flow is second and flow_confidence < min_share * question_confidence:
        return None
    if POINTS_BACK.search(text or "") or (asks_how_or_why(text) and knowledge_answers(knowledge)):
        return None
    merged = {"name": flow["name"], "confidence": flow_confidence + question_confidence}
    rest = [dict(r) for r in ranking[2:]]
    return [merged] + rest
