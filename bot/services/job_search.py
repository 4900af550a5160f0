""""I'm looking for work": what Zhinan can do now, as one reply (no vacancies are invented).

Zhinan has no vacancy data of its own, so a job seeker gets the ways that lead to real work:
the nearest 零工市场 and 人力资源市场 (from the service points), the coming job fairs of their city
(from the job-fair catalogue), a counsellor booking, and the official platforms where real
vacancies are published. Part-time / 日结 / 零工 wording puts the 零工市场 first. Plain code: the
action (`actions/jobs.py`) does the searches and hands the results here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

from bot.services.job_fairs.model import JobFair
from bot.services.job_fairs.replies import SAMPLE_NOTE, format_day
from bot.services.points.model import PointType
from bot.services.points.query import PointHit
from bot.services.points.replies import format_distance
from bot.services.reply_size import PASSIVE_REPLY_MAX_BYTES, byte_len, clip_bytes

PART_TIME_RE = re.compile(r"兼职|日结|零工|临时工|短期工|短工|小时工|散活|零活|钟点工|周结|干一天")
GRADUATE_RE = re.compile(r"应届|毕业生|大学生|刚毕业|毕业了|校招|实习")
JOB_MARKET_TYPES = frozenset({PointType.GIG_MARKET, PointType.HR_MARKET})
MAX_POINTS = 3
MAX_FAIRS = 2

CHANNELS = (
    "【真实岗位在哪看】中国公共招聘网、山东公共招聘网或当地人社部门网站都发布经过核实的岗位；"
    "零工市场、人力资源市场现场也有招聘信息。"
)
GRADUATE_CHANNEL = "高校毕业生还可以用国家24365大学生就业服务平台。"
BOOKING = "【找不准方向？】回复“预约职业指导”，请职业指导师帮您看简历、理方向。"
SCAM_NOTE = "凡是先交押金、培训费、体检费的“招聘”，请提高警惕。"


def wants_part_time(text: Optional[str]) -> bool:
    return bool(PART_TIME_RE.search(text or ""))


def is_graduate(text: Optional[str]) -> bool:
    return bool(GRADUATE_RE.search(text or ""))


@dataclass
class JobSearchAnswer:
    """What the action found; `place_label` is where the points are near ("济南市历下区", "您")."""

    trade: Optional[str] = None
    part_time: bool = False
    graduate: bool = False
    place_label: str = ""
    city: str = ""  # whose fairs are listed
    points: Sequence[PointHit] = field(default_factory=list)
    fairs: Sequence[JobFair] = field(default_factory=list)
    located: bool = False  # False: no place known yet, the reply asks for one


def _opening(answer: JobSearchAnswer) -> str:
    what = f"{answer.trade}的活" if answer.trade else ("兼职、日结的活" if answer.part_time else "工作")
    return f"想找{what}？职引不直接发布招聘岗位，但可以帮您这样找："


def _point_lines(answer: JobSearchAnswer, count: int) -> List[str]:
    if not answer.points:
        return []
    kind = "零工市场和人力资源市场" if not answer.part_time else "零工市场（打零工、日结）"
    lines = [f"【{answer.place_label}附近的{kind}】" if answer.place_label else f"【{kind}】"]
    for number, hit in enumerate(answer.points[:count], 1):
        point = hit.point
        distance = f"｜{format_distance(hit.distance_m)}" if hit.distance_m is not None else ""
        name = point.name + ("（示例）" if point.sample else "")
        lines.append(f"{number}. {name}（{point.type.label}）{distance}")
        lines.append(f"   地址：{point.city}{point.district}{point.address}")
    return lines


def _fair_lines(answer: JobSearchAnswer) -> List[str]:
    if not answer.city:
        return []
    if not answer.fairs:
        return [f"【{answer.city}近期招聘会】近30天暂无收录，回复“线上招聘会”看线上专场。"]
    lines = [f"【{answer.city}近期招聘会】"]
    lines += [f"· {format_day(f.starts_at)}{f.title}" for f in answer.fairs[:MAX_FAIRS]]
    lines.append("回复“招聘会”查看时间地点和参加方式。")
    return lines


def render_job_search(answer: JobSearchAnswer, limit: int = PASSIVE_REPLY_MAX_BYTES) -> str:
    """The whole reply, fitted to `limit` bytes by showing fewer service points if needed."""

    def render(points_shown: int) -> str:
        blocks = [_opening(answer)]
        if not answer.located:
            blocks.append(
                "告诉我您在哪个城市或区县（如“济南历下”），或点输入框旁的“+”发送位置，"
                "我帮您找最近的零工市场、人力资源市场和近期招聘会。"
            )
        points = _point_lines(answer, points_shown)
        fairs = _fair_lines(answer)
        # Part-time seekers get the 零工市场 before the fairs; others see the fairs first.
        ordered = [points, fairs] if answer.part_time else [fairs, points]
        blocks += ["\n".join(lines) for lines in ordered if lines]
        blocks.append(CHANNELS + (GRADUATE_CHANNEL if answer.graduate else ""))
        blocks.append(BOOKING)
        samples = any(h.point.sample for h in answer.points[:points_shown]) or any(f.sample for f in answer.fairs)
        blocks.append(SCAM_NOTE + ("\n" + SAMPLE_NOTE if samples else ""))
        return "\n\n".join(blocks)

    shown = min(MAX_POINTS, len(answer.points))
    while shown > 1 and byte_len(render(shown)) > limit:
        shown -= 1
    return clip_bytes(render(shown), limit)
