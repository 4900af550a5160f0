"""Holland (RIASEC) interest assessment: questions, answer parsing, scoring, results, progress.

Scoring is plain and table-driven:
- each question belongs to one of the six types R I A S E C;
- an answer is worth 2 points (1 / 是 / 很喜欢), 1 point (2 / 一般 / 说不准) or 0 points
  (3 / 否 / 不喜欢);
- a type's score is the sum over its questions; the Holland code is the three best types.

Tie-break (deterministic, documented for users of the code):
1. higher total score first;
2. then more "strong" answers (2-point answers) for that type — a clear "是" says more about
   interest than two lukewarm "一般";
3. then the fixed hexagon order R, I, A, S, E, C.

Progress lives in Redis per OpenID under `settings.key("assessment", openid)` (registered as
personal data), so a user can leave in the middle and come back later.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import redis.asyncio as aioredis
import yaml

from bot.clock import Clock, system_clock
from bot.services.profiles import ProfileStore, register_personal_key
from bot.settings import PROJECT_ROOT, Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("assessment",)

RIASEC = "RIASEC"
QUESTIONS_PATH = PROJECT_ROOT / "data" / "riasec_questions.yml"
PROGRESS_TTL_S = 30 * 24 * 3600  # an unfinished assessment is kept for 30 days

STRONG, MIDDLE, WEAK = 2, 1, 0

register_personal_key("assessment")


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str


@dataclass(frozen=True)
class TypeInfo:
    name: str  # e.g. 现实型
    traits: str  # plain-Chinese explanation
    families: Tuple[str, ...]  # occupation families, each naming its 大典 major group


# Occupation families are mapped to the eight major groups of 《中华人民共和国职业分类大典》:
# 第一大类 负责人; 第二大类 专业技术人员; 第三大类 办事人员和有关人员; 第四大类 社会生产服务和
# 生活服务人员; 第五大类 农、林、牧、渔业生产及辅助人员; 第六大类 生产制造及有关人员;
# 第七大类 军人; 第八大类 不便分类的其他从业人员.
TYPES: Dict[str, TypeInfo] = {
    "R": TypeInfo(
        "现实型",
        "喜欢动手操作、和工具机器打交道，做事踏实，看得见摸得着的成果让您有成就感",
        (
            "第六大类 生产制造及有关人员：机械加工、电工、汽车维修、设备安装调试",
            "第五大类 农、林、牧、渔业生产及辅助人员：现代农业、园艺、农机操作",
            "第二大类 专业技术人员：工程技术（如建筑施工、电气、机械工程技术）",
        ),
    ),
    "I": TypeInfo(
        "研究型",
        "喜欢观察、思考和分析，爱追根问底，适合需要钻研和解决复杂问题的工作",
        (
            "第二大类 专业技术人员：科学研究、信息技术（软件开发、数据分析）、工程技术",
            "第二大类 专业技术人员：卫生专业技术（检验、药学）",
        ),
    ),
    "A": TypeInfo(
        "艺术型",
        "富有想象力，喜欢表达和创造，希望工作有自由发挥的空间",
        (
            "第二大类 专业技术人员：文学艺术、广播影视、工艺美术与创意设计",
            "第四大类 社会生产服务和生活服务人员：摄影、美容美发、新媒体运营",
        ),
    ),
    "S": TypeInfo(
        "社会型",
        "热心，善于沟通和倾听，愿意帮助、教导和照顾别人",
        (
            "第二大类 专业技术人员：教学人员、护理、社会工作",
            "第四大类 社会生产服务和生活服务人员：健康服务、养老护理、家政、客户服务",
        ),
    ),
    "E": TypeInfo(
        "企业型",
        "有闯劲，喜欢影响和带动别人，敢做决定，适合管理、销售和创业",
        (
            "第一大类 负责人：企事业单位和社会组织的管理岗位",
            "第四大类 社会生产服务和生活服务人员：批发零售、市场营销、商务服务",
            "自主创业（可先了解创业培训和创业补贴）",
        ),
    ),
    "C": TypeInfo(
        "常规型",
        "细心有条理，做事认真守规矩，擅长按流程处理数据和文件",
        (
            "第三大类 办事人员和有关人员：行政办公、文秘、档案管理",
            "第二大类 专业技术人员：会计、统计、金融业务",
            "第四大类 社会生产服务和生活服务人员：仓储物流管理、收银与票务",
        ),
    ),
}


def load_questions(path: Path = QUESTIONS_PATH) -> List[Question]:
    """Read and check the question bank (2–3 questions per type, 12–18 in all)."""
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    questions = [Question(str(q["id"]), str(q["type"]), str(q["text"])) for q in raw["questions"]]
    counts = {t: sum(1 for q in questions if q.type == t) for t in RIASEC}
    if any(t not in RIASEC for t in (q.type for q in questions)):
        raise ValueError("question type must be one of R I A S E C")
    if not all(2 <= n <= 3 for n in counts.values()) or not 12 <= len(questions) <= 18:
        raise ValueError(f"need 2–3 questions per type, 12–18 in all; got {counts}")
    if len({q.id for q in questions}) != len(questions):
        raise ValueError("question ids must be unique")
    return questions


# --- answers ---------------------------------------------------------------------------------

_NUMBER_ANSWERS = {"1": STRONG, "2": MIDDLE, "3": WEAK, "一": STRONG, "二": MIDDLE, "三": WEAK}
# Checked in this order: negative phrases first, because "不喜欢" contains "喜欢".
_WEAK_WORDS = ("不喜欢", "不太喜欢", "不是", "不对", "不愿意", "不想", "没兴趣", "不感兴趣", "否", "不会", "讨厌", "no")
_MIDDLE_WORDS = ("一般", "还行", "还好", "说不准", "不一定", "看情况", "有时候", "偶尔", "凑合", "无所谓", "一半", "不知道", "不清楚", "不确定")
_STRONG_WORDS = ("很喜欢", "非常喜欢", "喜欢", "是的", "是", "对", "愿意", "想", "会", "嗯", "好", "当然", "yes", "ok")
_BARE_NO = {"不", "没有", "没", "不要", "n"}


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"[\s，。！？、,.!?~～…:：;；\"'“”‘’()（）]+", "", text)


def parse_answer(text: str, intent: Optional[str] = None) -> Optional[int]:
    """Points for one answer, or None when the message is not an answer.

    Digits win over words ("1" means 很喜欢 even if NLU calls it something else); then the words;
    then the NLU intent (affirm → 2, deny → 0) as the last resort.
    """
    t = normalise(text)
    m = re.fullmatch(r"(?:选|答案是?|第)?([1-3一二三])(?:个|项|分)?", t)
    if m:
        return _NUMBER_ANSWERS[m.group(1)]
    if t in _BARE_NO:
        return WEAK
    if len(t) <= 12:  # a long sentence is a question or a new topic, not an answer
        for words, points in ((_WEAK_WORDS, WEAK), (_MIDDLE_WORDS, MIDDLE), (_STRONG_WORDS, STRONG)):
            if any(w in t for w in words):
                return points
    if intent == "affirm":
        return STRONG
    if intent == "deny":
        return WEAK
    return None


# --- scoring ---------------------------------------------------------------------------------


def score(questions: Sequence[Question], answers: Sequence[int]) -> Dict[str, int]:
    """Total points per type for the answered questions (answers[i] belongs to questions[i])."""
    if len(answers) > len(questions):
        raise ValueError("more answers than questions")
    totals = {t: 0 for t in RIASEC}
    for question, points in zip(questions, answers):
        if points not in (STRONG, MIDDLE, WEAK):
            raise ValueError(f"invalid answer points {points!r}")
        totals[question.type] += points
    return totals


def strong_counts(questions: Sequence[Question], answers: Sequence[int]) -> Dict[str, int]:
    counts = {t: 0 for t in RIASEC}
    for question, points in zip(questions, answers):
        if points == STRONG:
            counts[question.type] += 1
    return counts


def ranking(totals: Mapping[str, int], strong: Optional[Mapping[str, int]] = None) -> List[str]:
    """All six types, best first, with the documented tie-break."""
    strong = strong or {}
    return sorted(RIASEC, key=lambda t: (-totals.get(t, 0), -strong.get(t, 0), RIASEC.index(t)))


def holland_code(questions: Sequence[Question], answers: Sequence[int]) -> str:
    """The three-letter code for a complete set of answers."""
    if len(answers) != len(questions):
        raise ValueError("the assessment is not complete")
    return "".join(ranking(score(questions, answers), strong_counts(questions, answers))[:3])


@dataclass(frozen=True)
class AssessmentResult:
    code: str
    totals: Dict[str, int]

    def explanation(self) -> str:
        names = "、".join(f"{t}{TYPES[t].name}" for t in self.code)
        lines = [f"您的霍兰德职业兴趣代码是：{self.code}（{names}）。"]
        for i, t in enumerate(self.code):
            lead = "最突出" if i == 0 else "其次"
            lines.append(f"· {lead}是{TYPES[t].name}：{TYPES[t].traits}。")
        if all(v == 0 for v in self.totals.values()):
            lines.append("（您对各类活动的兴趣都不高，结果仅供参考，建议和职业指导师聊一聊。）")
        return "\n".join(lines)

    def families(self, limit: int = 4) -> List[str]:
        """Occupation families for the first two types of the code (the third adds noise)."""
        seen: List[str] = []
        for t in self.code[:2]:
            for family in TYPES[t].families:
                if family not in seen:
                    seen.append(family)
        return seen[:limit]


def result_for(questions: Sequence[Question], answers: Sequence[int]) -> AssessmentResult:
    return AssessmentResult(holland_code(questions, answers), score(questions, answers))


# --- progress in Redis -----------------------------------------------------------------------


@dataclass
class Progress:
    answers: List[int]
    started_at: str
    updated_at: str


class AssessmentStore:
    """One user's unfinished assessment, so that it can be resumed; finished ones go to the profile."""

    def __init__(self, redis: aioredis.Redis, settings: Settings, clock: Clock = system_clock) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock

    def _key(self, openid: str) -> str:
        return self._settings.key("assessment", openid)

    async def load(self, openid: str) -> Optional[Progress]:
        raw = await self._redis.hgetall(self._key(openid))
        if not raw:
            return None
        answers = [int(a) for a in raw.get("answers", "").split(",") if a != ""]
        return Progress(answers, raw.get("started_at", ""), raw.get("updated_at", ""))

    async def start(self, openid: str) -> Progress:
        now = self._clock().isoformat()
        key = self._key(openid)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping={"answers": "", "started_at": now, "updated_at": now})
            pipe.expire(key, PROGRESS_TTL_S)
            await pipe.execute()
        return Progress([], now, now)

    async def record(self, openid: str, progress: Progress, points: int) -> Progress:
        progress.answers.append(points)
        progress.updated_at = self._clock().isoformat()
        key = self._key(openid)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "answers": ",".join(str(a) for a in progress.answers),
                    "started_at": progress.started_at,
                    "updated_at": progress.updated_at,
                },
            )
            pipe.expire(key, PROGRESS_TTL_S)
            await pipe.execute()
        return progress

    async def finish(self, openid: str, result: AssessmentResult, profiles: ProfileStore) -> None:
        """Save the code to the profile and drop the progress."""
        await profiles.update(openid, {"holland_code": result.code})
        await self._redis.delete(self._key(openid))

    async def clear(self, openid: str) -> None:
        await self._redis.delete(self._key(openid))
