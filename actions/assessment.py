"""The career (Holland RIASEC) assessment in the chat: one action, progress kept in Redis.

`action_career_assessment` is run for the `career_assessment` intent (start or resume) and,
through rules conditioned on the `assessment_active` slot and on it having been the last
action, for every answer (affirm / deny / inform / fallback) and for "退出" (stop). The
action reads the raw text itself, so "1", "２", "一般" and "不喜欢" work whatever NLU makes of them.
The repairs of the forms hold here too: a side question the knowledge base answers is answered and
the current question asked again (`side_reply`); "继续" after a side question answered elsewhere
comes back here (actions/form_pause.py `continue_interrupted`).
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.form_pause import resume_asked
from actions.forms import QUESTION_RE, REPEAT_RE
from actions.knowledge_decision import decision_for, knowledge
from bot.services.assessment import (
    TYPES,
    AssessmentResult,
    AssessmentStore,
    Question,
    load_questions,
    parse_answer,
    result_for,
)
from bot.services.knowledge.replies import answer_text
from bot.services.knowledge.retrieval import ANSWER
from bot.services.profiles import ProfileStore

REDIS_TIMEOUT_S = 2.0
STOP_WORDS = ("退出", "不测了", "不做了", "结束测评", "停止", "算了")
ANSWER_HINT = "回复 1 很喜欢/是　2 一般　3 不喜欢/否（随时说“退出”可暂停，进度会保存）"

_QUESTIONS: Optional[List[Question]] = None


def questions() -> List[Question]:
    global _QUESTIONS
    if _QUESTIONS is None:
        _QUESTIONS = load_questions()
    return _QUESTIONS


def question_text(index: int) -> str:
    qs = questions()
    return f"第{index + 1}/{len(qs)}题：{qs[index].text}\n{ANSWER_HINT}"


def _camp_line(profile: Dict[str, str]) -> Optional[str]:
    age = profile.get("age", "")
    if age.isdigit() and int(age) > 35:
        return None
    return "· 如果您是高校毕业生或青年求职者，回复“实训营”了解青年求职能力实训营（能否报名以实训营的报名条件为准）"


def result_message(result: AssessmentResult, profile: Dict[str, str]) -> str:
    lines = [result.explanation(), "", "比较适合您的职业方向（按《中华人民共和国职业分类大典》大类）："]
    lines += [f"· {family}" for family in result.families()]
    lines += ["", "接下来您可以：", "· 回复“预约”，预约职业规划指导课，和职业指导师一起细化方向"]
    camp = _camp_line(profile)
    if camp:
        lines.append(camp)
    lines.append("· 回复“转人工”，请职业指导师一对一解读结果")
    lines.append("测评反映的是兴趣倾向，不是能力评判，结果已保存到您的档案，可随时重新测评。")
    return "\n".join(lines)


def side_reply(tracker: Tracker) -> str:
    """What goes before the current question again when a message is no answer: nothing for "继续"/
    "再说一遍", the knowledge base's answer to a side question ("测评要钱吗", "补贴怎么领"), else
    that the choice was not understood — the same repairs as inside the forms (actions/forms.py)."""
    text = _text(tracker).strip()
    if REPEAT_RE.match(text):
        return ""
    decision = decision_for(tracker.latest_message or {})
    if QUESTION_RE.search(text) and decision.kind == ANSWER:
        return answer_text(decision.item, knowledge().hotline) + "\n\n测评接着来：\n"
    return "没看懂您的选择。"


def _intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def _text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


class ActionCareerAssessment(Action):
    def name(self) -> Text:
        return "action_career_assessment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        try:
            return await asyncio.wait_for(self._run(dispatcher, tracker), timeout=REDIS_TIMEOUT_S * 2)
        except (asyncio.TimeoutError, OSError, ConnectionError):
            dispatcher.utter_message(text="测评服务暂时有点忙，请稍后再说“职业测评”继续，您的进度不会丢失。")
            return []

    async def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
        openid = tracker.sender_id
        settings, redis = runtime.settings(), runtime.redis()
        store = AssessmentStore(redis, settings)
        intent, text = _intent(tracker), _text(tracker)
        progress = await store.load(openid)
        total = len(questions())

        if intent == "stop" or any(w in text for w in STOP_WORDS):
            done = len(progress.answers) if progress else 0
            dispatcher.utter_message(
                text=f"好的，已退出职业测评。您已答{done}/{total}题，进度为您保存30天，"
                "想继续时说“职业测评”即可接着做。"
            )
            return [SlotSet("assessment_active", False)]

        if intent == "career_assessment":
            if "结果" in text and not progress:
                profile = await ProfileStore(redis, settings).get(openid)
                code = profile.get("holland_code", "")
                if len(code) == 3 and all(t in TYPES for t in code):
                    result = AssessmentResult(code, {t: 1 for t in code})
                    dispatcher.utter_message(text=result_message(result, profile))
                    return [SlotSet("assessment_active", False)]
            if progress and 0 < len(progress.answers) < total and "重新" not in text:
                dispatcher.utter_message(
                    text=f"欢迎回来！上次您答到第{len(progress.answers)}题，我们接着来"
                    "（想从头做请说“重新测评”）。\n" + question_text(len(progress.answers))
                )
                return [SlotSet("assessment_active", True)]
            await store.start(openid)
            dispatcher.utter_message(
                text=f"我们来做一个简短的职业兴趣测评（霍兰德RIASEC），共{total}题，大约3分钟。"
                "凭第一感觉回答就好，没有对错之分。\n" + question_text(0)
            )
            return [SlotSet("assessment_active", True)]

        # "继续报名" with a form paused for this assessment: back to the form, the progress kept
        resumed = resume_asked(tracker, naming_task=True)
        if resumed is not None:
            done = len(progress.answers) if progress else 0
            dispatcher.utter_message(text=f"好的，测评先停在第{done}/{total}题，进度已保存，想继续时说“职业测评”。")
            return [SlotSet("assessment_active", False), *resumed]

        # An answer to the current question.
        if progress is None:
            progress = await store.start(openid)
            dispatcher.utter_message(text="之前的测评已过期，我们重新开始。\n" + question_text(0))
            return [SlotSet("assessment_active", True)]
        # "继续"/"再说一遍" is never a choice ("好的" alone is "一般")
        points = None if REPEAT_RE.match(text.strip()) else parse_answer(text, intent)
        if points is None:
            current = question_text(min(len(progress.answers), total - 1))
            dispatcher.utter_message(text=side_reply(tracker) + current)
            return [SlotSet("assessment_active", True)]
        progress = await store.record(openid, progress, points)
        if len(progress.answers) < total:
            dispatcher.utter_message(text=question_text(len(progress.answers)))
            return [SlotSet("assessment_active", True)]

        result = result_for(questions(), progress.answers[:total])
        profiles = ProfileStore(redis, settings)
        await store.finish(openid, result, profiles)
        profile = await profiles.get(openid)
        dispatcher.utter_message(text=result_message(result, profile))
        return [SlotSet("assessment_active", False), SlotSet("holland_code", result.code)]
