"""Does a message name what a flow does? If not, a confident knowledge answer is what it asks for.

The intent classifier learns a flow from the words around its request as well as from the request
itself, so a question that merely shares those words lands on the flow: "离校未就业毕业生有什么服务"
(服务 → the service-point search), "创业指导去哪找" (去哪 → the service-point search), "国考报名入口在哪"
(报名 → the camp enrolment). Each flow has words without which nobody asks for it — a point type or
"附近" for the point search, 营/实训 for the camp, 约 for a booking, 课 for the courses, 招聘会 for the
fairs. A message sent to a flow without any of its words, for which the knowledge base has a confident
answer, is a question for that answer (docs/question_map.md, rule 5): the flow preference does not
move it to the flow, and a flow that won it outright yields to the question intent. `find_job` has no such words
(找活, 上班, 岗位 … are also what questions about work are made of): it yields only when the message
asks about an office or a service rather than for work ("残联能帮忙找工作吗", "公家有啥服务 收钱不") or
asks how or why (rule 5's how/why questions), and the knowledge base answers confidently.

Pure functions; the graph component bot/rasa_server/flow_preference.py applies them.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Pattern, Sequence

from bot.services.knowledge.flow_preference import POINTS_BACK, asks_how_or_why, knowledge_answers, preferred_ranking
from bot.services.knowledge.retrieval import ANSWER, QUESTION_INTENT
from bot.services.points.model import parse_point_types
from bot.services.request_words import CALLS_OFF

_CAMP = r"营|实训|训练"
_BOOKING = r"约|工作坊|一对一|当面"
FLOW_ANCHORS: Dict[str, Pattern[str]] = {
    "find_service_point": re.compile(
        r"附近|最近的|离我|地址|位置|咋走|怎么走|怎么去|在哪个区|地图|定位|哪有|哪里有|哪儿有|就业服务站|服务点|地方"
    ),
    "find_job_fair": re.compile(r"招聘|双选|宣讲|专场|交流会|春风行动|秋招|春招|校招|招工会|见面会"),
    "book_workshop": re.compile(_BOOKING + r"|报名|报个|辅导|咨询"),
    "cancel_booking": re.compile(r"取消|撤|退|不去|去不了|去不成|来不了|见不了|不参加|改期|换个时间"),
    "my_bookings": re.compile(_BOOKING + r"|报名|报上|报了|报没报|报的|报嘞|我的|记录"),
    "career_assessment": re.compile(r"测|评估|适合|MBTI|mbti|兴趣|性格"),
    "ask_camp_info": re.compile(_CAMP),
    "enroll_camp": re.compile(_CAMP),
    "ask_courses": re.compile(r"课|讲座|直播|视频|回放|教程|网上学|线上学|订阅|通知|提醒|推送"),
}
# A message the job search took that asks about an office or a service, not for work.
ABOUT_AN_OFFICE = re.compile(r"残联|人社|公家|政府|国家给|部门|事务局|服务站|什么服务|啥服务|收钱|收费|免费吗|政策|照顾")
JOB_SEARCH = "find_job"
# Two requests are named outright, whatever intent took the message (a booking, a camp question, the
# question intent): calling off something booked ("约的那个面试辅导去不成了" shares 约 and 面试辅导 with
# the booking and the interview item) and the assessment ("给我来套职业倾向的题" reads like a question
# about guidance). A subscription's notices are `unsubscribe`'s, and a confident answer about another
# subject ("面试有性格测试咋准备") keeps the assessment words for that answer.
# something already booked ("约的", "报了", "那场"); "周二去不了 约周三的吧" inside a booking form books anew
BOOKED = re.compile(r"约的|约了|约嘞|约好|约过|报的|报了|报嘞|报上|报过|预约的|订的|那场|那个|上次|之前")
SUBSCRIPTION = re.compile(r"订阅|通知|推送|提醒")
CANCEL_TAKERS = frozenset({"book_workshop", "my_bookings", "enroll_camp", "ask_camp_info", QUESTION_INTENT, "nlu_fallback"})
NAMES_THE_ASSESSMENT = re.compile(r"测评|测试|测验|测一测|测测|测一下|倾向|霍兰德|mbti|性格测|做题|答题|问卷", re.IGNORECASE)
ASSESSMENT_TAKERS = frozenset({QUESTION_INTENT, "nlu_fallback", JOB_SEARCH})
# trades and tasks with 测 in their name: "软件测试的活" asks for work, not for the assessment
A_TRADE_NOT_A_TEST = re.compile(r"软件测试|测试工程|测试岗|测试员|检测|测绘|测量")
ASSESSMENT_NEIGHBOURS = frozenset({"career_guidance_service", "career_change_guidance"})  # guidance, not a test

Ranking = List[Dict[str, Any]]


def names_the_flow(intent: str, text: str, names_a_place: bool = False) -> bool:
    """The message carries a word of what `intent` does (always true for a flow without anchors); a
    city or district named ("济南历下区有没有职业指导的地方") asks the point search for its points."""
    anchors = FLOW_ANCHORS.get(intent)
    if anchors is None:
        return True
    if intent == "find_service_point" and (names_a_place or parse_point_types(text)):
        return True
    return bool(anchors.search(text or ""))


def asks_the_knowledge_base(intent: str, text: str, names_a_place: bool = False) -> bool:
    """A message `intent` took is a question for a confident knowledge answer instead (see above)."""
    if intent == JOB_SEARCH:
        return bool(ABOUT_AN_OFFICE.search(text or "")) or asks_how_or_why(text)
    return intent in FLOW_ANCHORS and not names_the_flow(intent, text, names_a_place)


def knowledge_ranking(
    text: str, ranking: Sequence[Dict[str, Any]], knowledge: Any, names_a_place: bool = False
) -> Optional[Ranking]:
    """The ranking with the question intent first (the flow's confidence moved to it) when a flow
    won without naming what it does and the knowledge base answers confidently; None otherwise."""
    if not ranking or not isinstance(knowledge, dict) or knowledge.get("decision") != ANSWER:
        return None
    flow = ranking[0]
    name = str(flow.get("name") or "")
    if not asks_the_knowledge_base(name, text, names_a_place) or POINTS_BACK.search(text or ""):
        return None
    rest = [dict(r) for r in ranking[1:] if r.get("name") != QUESTION_INTENT]
    question = next((float(r.get("confidence") or 0.0) for r in ranking if r.get("name") == QUESTION_INTENT), 0.0)
    merged = {"name": QUESTION_INTENT, "confidence": float(flow.get("confidence") or 0.0) + question}
    return [merged] + [{"name": name, "confidence": 0.0}] + rest


def named_request(text: str, intent: str, knowledge: Any) -> Optional[str]:
    """The flow a message taken by `intent` names outright (see CALLS_OFF, bot/services/request_words.py), or None."""
    text = text or ""
    if intent in CANCEL_TAKERS and CALLS_OFF.search(text) and BOOKED.search(text) and not SUBSCRIPTION.search(text):
        return "cancel_booking"
    options = knowledge.get("options") if isinstance(knowledge, dict) else None
    answered = str((options or [{}])[0].get("id")) if knowledge_answers(knowledge) else None
    if (
        intent in ASSESSMENT_TAKERS and NAMES_THE_ASSESSMENT.search(text) and not A_TRADE_NOT_A_TEST.search(text)
        and answered in (None, *ASSESSMENT_NEIGHBOURS)
    ):
        return "career_assessment"
    return None


def requested_ranking(text: str, ranking: Sequence[Dict[str, Any]], knowledge: Any) -> Optional[Ranking]:
    """The ranking with the flow the message names first (its confidence plus the winner's), or None."""
    if not ranking:
        return None
    winner = ranking[0]
    flow = named_request(text, str(winner.get("name") or ""), knowledge)
    if flow is None or POINTS_BACK.search(text or ""):
        return None
    named = next((float(r.get("confidence") or 0.0) for r in ranking if r.get("name") == flow), 0.0)
    rest = [dict(r) for r in ranking[1:] if r.get("name") != flow]
    # the winner keeps no confidence: FallbackClassifier would read two equal leaders as ambiguous
    merged = {"name": flow, "confidence": float(winner.get("confidence") or 0.0) + named}
    return [merged, {"name": winner.get("name"), "confidence": 0.0}] + rest


def settled_ranking(
    text: str, ranking: Sequence[Dict[str, Any]], knowledge: Any, min_share: float, names_a_place: bool = False
) -> Optional[Ranking]:
    """The rules on a parse: the flow preference (flow_preference.py), unless the flow it would pick
    is not named in a message the knowledge base answers; then `knowledge_ranking`; last, a flow the
    message names outright (`requested_ranking`). None: the ranking stays as it is."""
    preferred = preferred_ranking(text, ranking, knowledge, min_share)
    if preferred is None or (
        knowledge_answers(knowledge) and asks_the_knowledge_base(str(preferred[0].get("name")), text, names_a_place)
    ):
        preferred = knowledge_ranking(text, ranking, knowledge, names_a_place)  # None when the question intent is first
    return requested_ranking(text, preferred or ranking, knowledge) or preferred
