"""The text of a job-fair answer: one page of fairs that fits a WeChat passive reply, and what to
offer when nothing matches."""
from __future__ import annotations

from datetime import datetime
from typing import List, Sequence, Tuple

from bot.services.job_fairs.model import JobFair
from bot.services.job_fairs.query import FairAlternatives, FairPage, FairQuery
from bot.services.reply_size import PASSIVE_REPLY_MAX_BYTES, clip_bytes, count_fitting

PAGE_SIZE = 5
MORE_HINT = "回复“更多”查看下一页。"
SAMPLE_NOTE = "注：标“示例”的为示例数据，时间地点请以当地人社部门公布为准（可拨打12333咨询）。"
_WEEKDAYS = "一二三四五六日"


def format_day(moment: datetime) -> str:
    return f"{moment.month}月{moment.day}日（周{_WEEKDAYS[moment.weekday()]}）"


def format_when(fair: JobFair) -> str:
    """'12月5日（周六）09:00-12:00', or a span of days for a fair of several days."""
    start, end = fair.starts_at, fair.ends_at
    if start.date() == end.date():
        return f"{format_day(start)}{start:%H:%M}-{end:%H:%M}"
    return f"{format_day(start)}{start:%H:%M} 至 {format_day(end)}{end:%H:%M}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_place(fair: JobFair) -> str:
    if fair.online:
        return f"线上：{_clip(fair.venue or fair.url or '见参加方式', 50)}"
    return f"地点：{_clip(fair.city + fair.district + ' ' + fair.venue, 60)}"


def format_fair(number: int, fair: JobFair) -> str:
    lines = [
        f"{number}. {_clip(fair.title, 40)}",
        f"时间：{format_when(fair)}",
        format_place(fair),
        f"类型：{fair.kind.label}｜面向：{fair.audience_text}",
    ]
    join = "；".join(p for p in (_clip(fair.how_to_join, 50), fair.url) if p)
    if join:
        lines.append(f"参加：{join}")
    return "\n".join(lines)


def describe_query(query: FairQuery) -> str:
    """'济南市下周面向应届生的线上专场' style description of what was searched."""
    place = (query.city or "") + (query.district or "") or ("" if query.online else "全省")
    when = query.window_label or "近30天"
    who = f"面向{query.audience}的" if query.audience else ""
    kind = "线上专场" if query.online else ("、".join(sorted(k.label for k in query.kinds)) or "招聘会")
    if query.online is False:
        kind = "线下" + kind
    return f"{place}{when}{who}{kind}"


def render_page(page: FairPage, max_bytes: int = PASSIVE_REPLY_MAX_BYTES) -> Tuple[str, int]:
    """The reply for a non-empty page and how many fairs it shows (all that fit in `max_bytes`)."""
    if not page.fairs:
        return "没有更多招聘会了。", 0
    header = f"{describe_query(page.query)}共{page.total}场（由近到远）："
    if page.offset:
        header = header[:-1] + "（接上页）："
    blocks = [format_fair(page.offset + i + 1, fair) for i, fair in enumerate(page.fairs)]

    def render(shown: int) -> str:
        more = page.total > page.offset + shown
        return "\n\n".join([header, *blocks[:shown]]) + _footer(page.fairs[:shown], more)

    shown = count_fitting(render, len(blocks), max_bytes, at_least=1)
    return clip_bytes(render(shown), max_bytes), shown


def _footer(fairs: Sequence[JobFair], more: bool) -> str:
    parts = [SAMPLE_NOTE] if any(f.sample for f in fairs) else []
    if more:
        parts.append(MORE_HINT)
    return ("\n\n" + "\n".join(parts)) if parts else ""


def render_nothing_found(query: FairQuery, alternatives: FairAlternatives) -> str:
    """Nothing matched: say so, then the nearest later dates, other cities and online fairs."""
    lines: List[str] = [f"暂时没有查到{describe_query(query)}。"]
    if alternatives.later:
        lines.append("之后最近的有：")
        lines += [f"· {format_day(f.starts_at)}{_clip(f.title, 30)}" for f in alternatives.later]
    if alternatives.other_cities:
        cities = "、".join(f"{city}（{n}场）" for city, n in alternatives.other_cities)
        lines.append(f"同期其他城市有：{cities}，回复“城市+招聘会”可查看。")
    if alternatives.online:
        lines.append("不限地点的线上专场：")
        lines += [f"· {format_day(f.starts_at)}{_clip(f.title, 30)}" for f in alternatives.online]
    if any(f.sample for f in alternatives.later + alternatives.online):
        lines.append(SAMPLE_NOTE)
    lines.append("更多招聘信息可关注当地人社部门网站、山东公共招聘网，或拨打12333咨询。")
    return clip_bytes("\n".join(lines), PASSIVE_REPLY_MAX_BYTES)
