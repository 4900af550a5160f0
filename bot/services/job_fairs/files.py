"""Reading and writing job-fair files as staff keep them (CSV or XLSX).

One row per fair, Chinese headers (English field names accepted too), times as
"2026-05-20 09:00" in Asia/Shanghai. Every row is validated and errors carry the row number as
Excel shows it; a file with any error is rejected as a whole (the caller writes `report.fairs` only
when `report.errors` is empty). Export writes the same headers — CSV as UTF-8 with BOM, or XLSX —
with every cell through the formula neutraliser, and an exported file imports back unchanged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple, Union

from bot.clock import SHANGHAI
from bot.services.geo import normalize_city, normalize_district
from bot.services.job_fairs.model import AUDIENCES, MAX_DURATION, FairKind, JobFair
from bot.services.job_fairs.store import JobFairStore
from bot.services.points.model import split_list
from bot.services.staff_files import (
    Column,
    FileReport,
    RowError,
    load_sample_if_empty as load_sample,
    parse_flag,
    read_table_into,
    write_table,
)
from bot.settings import PROJECT_ROOT

SAMPLE_FILE = PROJECT_ROOT / "data" / "job_fairs.csv"
SAMPLE_MARK = "示例"
TIME_FORMAT = "%Y-%m-%d %H:%M"

COLUMNS: Tuple[Column, ...] = (
    ("id", "编号", ("id", "编号", "ID", "招聘会编号")),
    ("title", "名称", ("title", "名称", "招聘会名称", "活动名称")),
    ("kind", "类型", ("kind", "类型", "招聘会类型", "形式")),
    ("city", "城市", ("city", "城市", "地市", "市")),
    ("district", "区县", ("district", "区县", "县区", "县（市、区）", "县(市、区)")),
    ("venue", "地点", ("venue", "地点", "地址", "举办地点", "场地", "平台")),
    ("starts_at", "开始时间", ("starts_at", "开始时间", "开始", "举办时间")),
    ("ends_at", "结束时间", ("ends_at", "结束时间", "结束")),
    ("audience", "面向人群", ("audience", "面向人群", "服务对象", "对象")),
    ("organiser", "主办单位", ("organiser", "organizer", "主办单位", "主办方", "举办单位")),
    ("how_to_join", "参加方式", ("how_to_join", "参加方式", "参会方式", "报名方式")),
    ("url", "网址", ("url", "网址", "链接", "报名链接")),
    ("note", "备注", ("note", "备注")),
    ("active", "是否启用", ("active", "是否启用", "启用", "状态")),
    ("sample", "示例数据", ("sample", "示例数据", "示例")),
)
REQUIRED = ("id", "title", "kind", "city", "starts_at", "ends_at")
EXPORT_HEADERS = [header for _, header, _ in COLUMNS]

_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TIME_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?[ T]+(\d{1,2})[:：](\d{2})(?::(\d{2}))?$")
_URL_RE = re.compile(r"^https?://\S+$")


@dataclass
class FairReport(FileReport):
    fairs: List[JobFair] = field(default_factory=list)


def read_fairs_file(path: Union[str, Path]) -> FairReport:
    """Parse and validate a CSV/XLSX file of job fairs (nothing is written)."""
    report = FairReport()
    report.fairs = read_table_into(report, Path(path), COLUMNS, REQUIRED, validate_row, lambda fair: fair.id)
    return report


def parse_time(value: str) -> Optional[datetime]:
    """'2026-05-20 09:00' (also with / or 年月日, seconds, or an ISO offset) -> aware Shanghai time."""
    value = (value or "").strip()
    match = _TIME_RE.match(value)
    try:
        if match:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
            return datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.hour == moment.minute == 0 and "T" not in value and ":" not in value:
        return None  # a date without a time of day
    return moment.astimezone(SHANGHAI) if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def parse_audiences(value: str) -> Tuple[FrozenSet[str], List[str]]:
    """(known audiences, unknown words) of a cell; empty means 不限."""
    words = split_list(value)
    known = frozenset(w for w in words if w in AUDIENCES)
    return known, [w for w in words if w not in AUDIENCES]


def validate_row(row: int, v: Dict[str, str]) -> Tuple[Optional[JobFair], List[RowError]]:
    """One data row -> a fair, or the list of what is wrong with it."""
    errors: List[RowError] = []

    def err(column: str, message: str) -> None:
        errors.append(RowError(row, column, message))

    fair_id, title = v.get("id", ""), v.get("title", "")
    if not _ID_RE.match(fair_id):
        err("编号", "不能为空" if not fair_id else f"“{fair_id}”只能含字母、数字、- 和 _（最长64位）")
    if not title or len(title) > 80:
        err("名称", "不能为空" if not title else "超过80个字")
    kind: Optional[FairKind] = None
    try:
        kind = FairKind.parse(v.get("kind", ""))
    except ValueError:
        err("类型", f"“{v.get('kind', '')}”不是有效类型，可选：" + "、".join(k.label for k in FairKind))
    city = normalize_city(v.get("city", ""))
    if not city:
        err("城市", f"“{v.get('city', '')}”不是山东省的地级市")
    district = ""
    if city and v.get("district"):
        district = normalize_district(city, v["district"]) or ""
        if not district:
            err("区县", f"“{v['district']}”不是{city}的县级行政区")
    venue, how_to_join, url = v.get("venue", ""), v.get("how_to_join", ""), v.get("url", "")
    if kind is not None and kind is not FairKind.ONLINE and not venue:
        err("地点", "线下活动的地点不能为空")
    if kind is FairKind.ONLINE and not (venue or url or how_to_join):
        err("地点", "线上专场请填写平台、网址或参加方式")
    if len(venue) > 120:
        err("地点", "超过120个字")
    if url and not _URL_RE.match(url):
        err("网址", f"“{url}”应以 http:// 或 https:// 开头")
    starts_at, ends_at = _times(v, err)
    audience, unknown = parse_audiences(v.get("audience", ""))
    if unknown:
        err("面向人群", f"“{'、'.join(unknown)}”不认识，可选：" + "、".join(AUDIENCES))
    active = parse_flag(v.get("active", ""), True)
    if active is None:
        err("是否启用", f"“{v.get('active')}”请填 是 或 否")
    sample = parse_flag(v.get("sample", ""), False)
    if sample is None:
        err("示例数据", f"“{v.get('sample')}”请填 是 或 否")
    elif sample and SAMPLE_MARK not in title:
        err("名称", f"示例数据的名称须标明“{SAMPLE_MARK}”")
    if errors:
        return None, errors
    assert kind and city and starts_at and ends_at
    fair = JobFair(
        id=fair_id, title=title, kind=kind, city=city, district=district, venue=venue,
        starts_at=starts_at, ends_at=ends_at, audience=audience or frozenset({"不限"}),
        organiser=v.get("organiser", ""), how_to_join=how_to_join, url=url, note=v.get("note", ""),
        active=bool(active), sample=bool(sample),
    )
    return fair, []


def _times(v: Dict[str, str], err) -> Tuple[Optional[datetime], Optional[datetime]]:
    starts_at, ends_at = parse_time(v.get("starts_at", "")), parse_time(v.get("ends_at", ""))
    for name, value, label in (("starts_at", starts_at, "开始时间"), ("ends_at", ends_at, "结束时间")):
        if value is None:
            err(label, f"“{v.get(name, '')}”不是时间，请写成 2026-05-20 09:00")
    if starts_at and ends_at:
        if ends_at <= starts_at:
            err("结束时间", "应晚于开始时间")
        elif ends_at - starts_at > MAX_DURATION:
            err("结束时间", f"活动超过{MAX_DURATION.days}天，请核对")
    return starts_at, ends_at


def fair_row(fair: JobFair) -> List[str]:
    return [
        fair.id, fair.title, fair.kind.label, fair.city, fair.district, fair.venue,
        fair.starts_at.strftime(TIME_FORMAT), fair.ends_at.strftime(TIME_FORMAT), fair.audience_text,
        fair.organiser, fair.how_to_join, fair.url, fair.note,
        "是" if fair.active else "否", "是" if fair.sample else "否",
    ]


def write_fairs_file(fairs: Sequence[JobFair], path: Union[str, Path]) -> int:
    """Write fairs as XLSX (by suffix) or UTF-8-with-BOM CSV; returns how many rows."""
    return write_table(Path(path), EXPORT_HEADERS, [fair_row(item) for item in fairs])


async def load_sample_if_empty(store: JobFairStore) -> int:
    """Import the shipped sample fairs when the store holds none; returns how many."""
    return await load_sample(
        store, lambda: read_fairs_file(SAMPLE_FILE), lambda report: report.fairs, "示例招聘会"
    )
