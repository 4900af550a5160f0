"""The text of a service-point answer: one page of hits that fits a WeChat passive reply."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Optional, Tuple

from bot.services.points.query import NEARBY_K, RADII_KM, PointHit, PointQuery, SearchPage
from bot.services.reply_size import PASSIVE_REPLY_MAX_BYTES, clip_bytes, count_fitting

PAGE_SIZE = NEARBY_K  # place listings page by the same k as nearby answers
MORE_HINT = "回复“更多”查看下一页。"
SAMPLE_NOTE = "注：标“示例”的为演示数据，请以当地人社部门公布为准。"


def format_distance(distance_m: float) -> str:
    if distance_m < 1000:
        return f"{int(round(distance_m / 10.0)) * 10}米"
    if distance_m < 10000:
        return f"{distance_m / 1000:.1f}公里"
    return f"{distance_m / 1000:.0f}公里"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_hit(number: int, hit: PointHit, anchor_label: str = "您") -> str:
    point = hit.point
    name = _clip(point.name, 40) + ("（示例）" if point.sample else "")
    type_line = f"类型：{point.type.label}"
    if hit.distance_m is not None:
        type_line += f"｜距{anchor_label}{format_distance(hit.distance_m)}"
    lines = [f"{number}. {name}", type_line, f"地址：{_clip(point.city + point.district + point.address, 60)}"]
    if point.hours:
        status = ""
        if hit.open_now is True:
            status = "（现在开放）"
        elif hit.open_now is False:
            status = "（现在未开放）"
        lines.append(f"时间：{_clip(point.hours, 50)}{status}")
    if point.phone:
        lines.append(f"电话：{_clip(point.phone, 30)}")
    return "\n".join(lines)


def describe_scope(query: PointQuery) -> str:
    place = (query.city or "") + (query.district or "")
    kind = "、".join(sorted({t.label.split("（")[0] for t in query.types})) or "职业指导服务点"
    return f"{place}的{kind}" if place else kind


def render_page(
    page: SearchPage, max_bytes: int = PASSIVE_REPLY_MAX_BYTES, original: Optional[PointQuery] = None
) -> Tuple[str, int]:
    """The reply text for a page and how many hits it shows (all that fit in `max_bytes`).

    `original` is the user's query when the page fell back to nearby points, to say so.
    """
    query = page.query
    if not page.hits:
        if page.offset > 0:
            return "没有更多服务点了。", 0
        if query.has_location and not page.fell_back_to_nearby:
            kind = describe_scope(replace(query, city=None, district=None))
            place = f"（{(query.city or '') + (query.district or '')}）" if query.city else ""
            return (
                f"抱歉，{query.anchor_label}附近{int(query.radius_km or RADII_KM[-1])}公里内"
                f"没有找到{kind}{place}。可以换个地方或类型试试，也可以拨打12333咨询。"
            ), 0
        return f"抱歉，暂时没有找到{describe_scope(original or query)}。可以拨打12333咨询。", 0

    header = _header(page, original)
    if page.offset:
        header = header[:-1] + "（接上页）："
    anchor = query.anchor_label if query.has_location else f"{query.city}中心"
    blocks = [format_hit(page.offset + i + 1, hit, anchor) for i, hit in enumerate(page.hits)]

    def render(shown: int) -> str:
        more = page.total - (page.offset + shown) > 0
        return "\n\n".join([header, *blocks[:shown]]) + _footer(page.hits[:shown], more)

    shown = count_fitting(render, len(blocks), max_bytes, at_least=1)
    text = clip_bytes(render(shown), max_bytes)  # one enormous entry: cut it hard
    return text, shown


def _header(page: SearchPage, original: Optional[PointQuery]) -> str:
    query = page.query
    if page.fell_back_to_nearby:
        wanted = describe_scope(original) if original else "服务点"
        return f"暂未收录{wanted}，离{query.anchor_label}最近的有："
    if not query.has_location:
        order = "" if query.district else "（离市中心由近到远）"
        return f"{describe_scope(query)}共{page.total}个{order}："
    kind = describe_scope(replace(query, city=None, district=None))
    radius = int(query.radius_km or RADII_KM[-1])
    if page.total < NEARBY_K:  # the widest radius holds fewer than k: say these are all
        return f"{query.anchor_label}附近{radius}公里内只有{page.total}个{kind}，由近到远："
    return f"离{query.anchor_label}最近的{kind}（{radius}公里内共{page.total}个，由近到远）："


def _footer(hits: Iterable[PointHit], more: bool) -> str:
    parts = []
    if any(h.point.sample for h in hits):
        parts.append(SAMPLE_NOTE)
    if more:
        parts.append(MORE_HINT)
    return ("\n\n" + "\n".join(parts)) if parts else ""
