"""The expert search as the user reads it: level, place, specialties, the next free slot."""
from __future__ import annotations

from typing import List, Mapping, Optional, Sequence

from bot.services.experts.match import MAX_SHOWN, ExpertMatches
from bot.services.experts.model import GROUPS, INDUSTRIES, TOPICS, Expert
from bot.services.reply_size import fit_list
from bot.services.workshops import Slot

PROFILE_CHARS = 40
SAMPLE_NOTE = "（示例数据，专家与时段以当地人社部门公布为准）"
COUNSELLOR_OFFER = "也可以说“预约指导”，约职业指导师一对一咨询。"


def menu() -> str:
    return (
        "专家库有省、市、县三级职业指导专家，可以按行业或方向找：\n"
        f"行业：{'、'.join(INDUSTRIES)}\n方向：{'、'.join(TOPICS)}\n人群：{'、'.join(GROUPS)}\n"
        "例如说“有没有懂互联网的专家”“青岛有没有面试辅导的专家”。"
    )


def _line(number: int, expert: Expert, slot: Optional[Slot]) -> str:
    profile = expert.profile if len(expert.profile) <= PROFILE_CHARS else expert.profile[:PROFILE_CHARS] + "…"
    when = f"最近可约：{slot.label()}" if slot else "近期时段已约满"
    mode = "线上" if expert.mode == "线上" else "线下"
    return (
        f"{number}. {expert.name}｜{expert.place}｜{'、'.join(expert.specialties)}\n"
        f"   {profile}\n   {when}（{mode}，每次1人）"
    )


def _asked(matches: ExpertMatches) -> str:
    asked = "、".join(matches.request.specialties)
    return f"{asked}方面的" if asked else ""


def render(matches: ExpertMatches, free: Mapping[str, Optional[Slot]]) -> str:
    """The reply; `free` is each shown expert's next bookable slot (None: fully booked)."""
    shown = shown_experts(matches)
    request = matches.request
    if not shown:
        return f"抱歉，专家库里暂时没有{_asked(matches)}专家。{COUNSELLOR_OFFER}"
    place = request.city + request.county
    if matches.experts:
        order = f"离{place}由近到远" if place else "省级专家在前"
        header = f"为您找到这些{_asked(matches)}专家（{order}）{SAMPLE_NOTE}："
    else:
        header = f"{place}暂时没有{_asked(matches)}专家，离您最近的是这些{SAMPLE_NOTE}："
    first = _short_name(shown[0].name)
    footer = f"回复“约第1个”或“预约{first}”预约一对一咨询。"
    if not request.city:
        footer += "告诉我您在哪个城市，可以优先为您找本地专家。"
    if not matches.experts:
        footer += COUNSELLOR_OFFER
    lines = [_line(i, e, free.get(e.id)) for i, e in enumerate(shown, 1)]
    return fit_list(lines, header, footer)


def shown_experts(matches: ExpertMatches) -> List[Expert]:
    """The experts a reply lists: the matches, or (nothing nearer) the closest elsewhere."""
    if matches.experts:
        rest = matches.elsewhere if not matches.request.city else []
        return (matches.experts + rest)[:MAX_SHOWN]
    return matches.elsewhere[:MAX_SHOWN]


def pick(shown: Sequence[Expert], text: str, number: Optional[int]) -> Optional[Expert]:
    """The expert a user chose from a list: by number ("约第1个", "2") or by name ("预约王老师")."""
    if number is not None and 1 <= number <= len(shown):
        return shown[number - 1]
    named = [e for e in shown if _short_name(e.name) and _short_name(e.name) in (text or "")]
    return named[0] if len(named) == 1 else None


def _short_name(name: str) -> str:
    """"王老师（示例）" -> "王老师": what users type."""
    return name.split("（")[0].split("(")[0].strip()
