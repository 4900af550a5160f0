"""Reading and writing the expert pool as staff keep it (CSV or XLSX), like the job fairs.

One row per expert, Chinese headers (English field names accepted too); lists in a cell separated
by 、 , ； or spaces; consultation times as weekly patterns ("周二 14:00-14:45；周四 09:30-10:15").
Every row is validated and errors carry the row number as Excel shows it; a file with any error is
rejected as a whole. Export writes the same headers, every cell through the formula neutraliser,
and an exported file imports back unchanged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from bot.services.experts.model import (
    GROUPS, INDUSTRIES, LEVELS, TOPICS, Expert, parse_level, parse_patterns, split_cell,
)
from bot.services.experts.store import ExpertStore
from bot.services.geo import normalize_city, normalize_district
from bot.services.staff_files import (
    Column, FileReport, RowError, parse_flag, read_table_into, write_table,
)
from bot.services.staff_files import load_sample_if_empty as load_sample
from bot.settings import PROJECT_ROOT

SAMPLE_FILE = PROJECT_ROOT / "data" / "experts.csv"
SAMPLE_MARK = "示例"

COLUMNS: Tuple[Column, ...] = (
    ("id", "编号", ("id", "编号", "ID", "专家编号")),
    ("name", "姓名", ("name", "姓名", "专家姓名", "名字")),
    ("level", "层级", ("level", "层级", "级别", "专家层级")),
    ("city", "城市", ("city", "城市", "地市", "市")),
    ("county", "区县", ("county", "district", "区县", "县区", "县（市、区）")),
    ("industries", "擅长行业", ("industries", "擅长行业", "行业")),
    ("topics", "擅长方向", ("topics", "擅长方向", "方向", "专长", "服务人群")),
    ("profile", "简介", ("profile", "简介", "个人简介")),
    ("patterns", "咨询时间", ("patterns", "咨询时间", "时段", "坐诊时间")),
    ("mode", "方式", ("mode", "方式", "咨询方式")),
    ("venue", "地点", ("venue", "地点", "地址", "咨询地点")),
    ("active", "是否启用", ("active", "是否启用", "启用", "状态")),
    ("sample", "示例数据", ("sample", "示例数据", "示例")),
)
REQUIRED = ("id", "name", "level", "patterns")
EXPORT_HEADERS = [header for _, header, _ in COLUMNS]
MODES = ("线下", "线上")

_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,48}$")


@dataclass
class ExpertReport(FileReport):
    experts: List[Expert] = field(default_factory=list)


def read_experts_file(path: Union[str, Path]) -> ExpertReport:
    """Parse and validate a CSV/XLSX file of experts (nothing is written)."""
    report = ExpertReport()
    report.experts = read_table_into(report, Path(path), COLUMNS, REQUIRED, validate_row, lambda expert: expert.id)
    return report


def _known(value: str, allowed: Sequence[str]) -> Tuple[Tuple[str, ...], List[str]]:
    words = split_cell(value)
    return tuple(w for w in words if w in allowed), [w for w in words if w not in allowed]


def _place(v: Dict[str, str], level: Optional[str], err) -> Tuple[str, str]:
    city = normalize_city(v.get("city", "")) if v.get("city") else ""
    if v.get("city") and not city:
        err("城市", f"“{v['city']}”不是山东省的地级市")
    if level in ("市级", "县级") and not v.get("city"):
        err("城市", f"{level}专家须填写城市")
    if level == "省级" and city:
        err("城市", "省级专家不填城市")
    county = ""
    if city and v.get("county"):
        county = normalize_district(city, v["county"]) or ""
        if not county:
            err("区县", f"“{v['county']}”不是{city}的县级行政区")
    if level == "县级" and city and not v.get("county"):
        err("区县", "县级专家须填写区县")
    return city or "", county


def validate_row(row: int, v: Dict[str, str]) -> Tuple[Optional[Expert], List[RowError]]:
    """One data row -> an expert, or the list of what is wrong with it."""
    errors: List[RowError] = []

    def err(column: str, message: str) -> None:
        errors.append(RowError(row, column, message))

    expert_id, name = v.get("id", ""), v.get("name", "")
    if not _ID_RE.match(expert_id):
        err("编号", "不能为空" if not expert_id else f"“{expert_id}”只能含字母、数字、- 和 _（最长48位）")
    if not name or len(name) > 30:
        err("姓名", "不能为空" if not name else "超过30个字")
    level = parse_level(v.get("level", ""))
    if level is None:
        err("层级", f"“{v.get('level', '')}”不是有效层级，可选：" + "、".join(LEVELS))
    city, county = _place(v, level, err)
    industries, bad_industries = _known(v.get("industries", ""), INDUSTRIES)
    if bad_industries:
        err("擅长行业", f"“{'、'.join(bad_industries)}”不认识，可选：" + "、".join(INDUSTRIES))
    topics, bad_topics = _known(v.get("topics", ""), TOPICS + GROUPS)
    if bad_topics:
        err("擅长方向", f"“{'、'.join(bad_topics)}”不认识，可选：" + "、".join(TOPICS + GROUPS))
    if not industries and not topics and not bad_industries and not bad_topics:
        err("擅长方向", "擅长行业和擅长方向至少填一项")
    patterns, bad_patterns = parse_patterns(v.get("patterns", ""))
    if bad_patterns or not patterns:
        err("咨询时间", f"“{'；'.join(bad_patterns) or v.get('patterns', '')}”应写成 周二 14:00-14:45，多个用；分隔")
    mode = v.get("mode") or "线下"
    if mode not in MODES:
        err("方式", f"“{mode}”请填 线下 或 线上")
    if len(v.get("profile", "")) > 200:
        err("简介", "超过200个字")
    active = parse_flag(v.get("active", ""), True)
    if active is None:
        err("是否启用", f"“{v.get('active')}”请填 是 或 否")
    sample = parse_flag(v.get("sample", ""), False)
    if sample is None:
        err("示例数据", f"“{v.get('sample')}”请填 是 或 否")
    elif sample and SAMPLE_MARK not in name:
        err("姓名", f"示例数据的姓名须标明“{SAMPLE_MARK}”")
    if errors:
        return None, errors
    assert level is not None
    return Expert(
        id=expert_id, name=name, level=level, city=city, county=county, industries=industries,
        topics=topics, profile=v.get("profile", ""), patterns=tuple(patterns), mode=mode,
        venue=v.get("venue", ""), active=bool(active), sample=bool(sample),
    ), []


def expert_row(expert: Expert) -> List[str]:
    return [
        expert.id, expert.name, expert.level, expert.city, expert.county, "、".join(expert.industries),
        "、".join(expert.topics), expert.profile, "；".join(p.label() for p in expert.patterns), expert.mode,
        expert.venue, "是" if expert.active else "否", "是" if expert.sample else "否",
    ]


def write_experts_file(experts: Sequence[Expert], path: Union[str, Path]) -> int:
    """Write experts as XLSX (by suffix) or UTF-8-with-BOM CSV; returns how many rows."""
    return write_table(Path(path), EXPORT_HEADERS, [expert_row(item) for item in experts])


async def load_sample_if_empty(store: ExpertStore) -> int:
    """Import the shipped sample pool when the store holds none; returns how many."""
    return await load_sample(
        store, lambda: read_experts_file(SAMPLE_FILE), lambda report: report.experts, "示例专家"
    )
