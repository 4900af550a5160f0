"""A month's figures as staff read them: the rows of the console's table, the data of its charts
and the XLSX export (one sheet for the total, one per city). Aggregates only: `MonthReport`
holds counts, means and HyperLogLog estimates, never an OpenID or a name.
"""
from __future__ import annotations

import io
import re
from functools import lru_cache
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from bot.services.csv_safety import neutralise_formula
from bot.services.knowledge.base import load_knowledge
from bot.services.monthly_stats import KNOWLEDGE_NEED, PROVINCE_WIDE, UNKNOWN_CITY, Figures, MonthReport

MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
TOP_NEEDS = 10

# The words staff use for the needs the bot hears (intent names otherwise).
NEED_LABELS: Dict[str, str] = {
    "find_job": "找工作", "find_job_fair": "招聘会", "find_service_point": "找服务网点",
    "book_workshop": "预约指导课", "my_bookings": "查看预约", "cancel_booking": "取消预约",
    "enroll_camp": "实训营报名", "ask_camp_info": "实训营咨询", "request_human": "转人工",
    "career_assessment": "职业测评", "ask_courses": "课程", "ask_policy": "政策咨询",
    "unsubscribe": "退订", "out_of_scope": "超出服务范围",
}


def _minutes(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else round(seconds / 60, 1)


def _rate(part: int, whole: int) -> Optional[float]:
    return round(100 * part / whole, 1) if whole else None


def _rounded(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 2)


# (label, value of a city's or the total's figures); None = no data that month.
METRICS: Sequence[Tuple[str, Callable[[Figures], Any]]] = (
    ("服务用户数", lambda f: f.users),
    ("会话数", lambda f: f.count("conversations")),
    ("用户消息数", lambda f: f.count("messages")),
    ("未理解消息数", lambda f: f.count("unanswered")),
    ("未理解率（%）", lambda f: _rate(f.count("unanswered"), f.count("messages"))),
    ("指导课预约", lambda f: f.count("booking_made")),
    ("取消预约", lambda f: f.count("booking_cancelled")),
    ("到场", lambda f: f.count("booking_attended")),
    ("实训营报名", lambda f: f.count("camp_enrolled")),
    ("实训营候补", lambda f: f.count("camp_waitlisted")),
    ("转人工", lambda f: f.count("handoff_created")),
    ("人工接入", lambda f: f.count("handoff_claimed")),
    ("人工结束", lambda f: f.count("handoff_closed")),
    ("平均等待（分钟）", lambda f: _minutes(f.mean("handoff_wait_s"))),
    ("平均处理时长（分钟）", lambda f: _minutes(f.mean("handoff_handling_s"))),
    ("邀请评价", lambda f: f.count("rating_requested")),
    ("评价数", lambda f: f.samples.get("rating", 0)),
    ("平均满意度（1–5）", lambda f: _rounded(f.mean("rating"))),
    ("低分评价", lambda f: f.count("rating_low")),
)


def valid_month(text: str) -> bool:
    return bool(MONTH_PATTERN.match(text or ""))


# Knowledge topics (data/knowledge/*.yml `topic`) as staff read them.
TOPIC_LABELS: Dict[str, str] = {
    "career_choice": "职业选择", "entrepreneurship": "创业", "finding_work": "求职渠道",
    "job_search_skills": "求职技巧", "labour_rights": "劳动权益", "network_services": "网上办事",
    "paperwork": "证明与手续", "skills_courses": "技能培训", "social_insurance": "社会保险",
    "subsidies": "补贴政策",
}


@lru_cache(maxsize=1)
def _knowledge_topics() -> Dict[str, str]:
    """Knowledge item id -> its topic; an unreadable knowledge base only costs the labels."""
    try:
        return {item.id: item.topic for item in load_knowledge().items}
    except (OSError, ValueError):
        return {}


def need_label(need: str) -> str:
    """An intent's label, or "知识：<topic>" for a knowledge item answered."""
    if need.startswith(KNOWLEDGE_NEED):
        topic = _knowledge_topics().get(need[len(KNOWLEDGE_NEED):], "")
        return "知识：" + TOPIC_LABELS.get(topic, topic or "其他")
    return NEED_LABELS.get(need, need)


def top_needs(figures: Figures, limit: int = TOP_NEEDS) -> List[Tuple[str, int]]:
    """The most frequent needs by label (knowledge items of one topic add up)."""
    by_label: Dict[str, int] = {}
    for name, count in figures.needs.items():
        by_label[need_label(name)] = by_label.get(need_label(name), 0) + count
    return sorted(by_label.items(), key=lambda item: (-item[1], item[0]))[:limit]


def city_order(report: MonthReport) -> List[str]:
    """Cities by users served, the province-wide and unknown buckets last."""
    last = (PROVINCE_WIDE, UNKNOWN_CITY)
    named = sorted((c for c in report.by_city if c not in last), key=lambda c: (-report.by_city[c].users, c))
    return named + [c for c in last if c in report.by_city]


def table(report: MonthReport) -> Dict[str, Any]:
    """Rows of metrics, columns of cities and then the total (what the page and sheet show)."""
    cities = city_order(report)
    columns = [report.by_city[c] for c in cities] + [report.total]
    rows = [{"label": label, "values": [value(f) for f in columns]} for label, value in METRICS]
    return {"cities": cities, "rows": rows}


def chart_data(report: MonthReport) -> Dict[str, Any]:
    cities = city_order(report)
    figures = [report.by_city[c] for c in cities]
    return {
        "month": report.month,
        "cities": cities,
        "users": [f.users for f in figures],
        "conversations": [f.count("conversations") for f in figures],
        "needs": top_needs(report.total),
        "rating_mean": [_rounded(f.mean("rating")) for f in figures],
        "ratings": [f.samples.get("rating", 0) for f in figures],
        "rating_low": [f.count("rating_low") for f in figures],
    }


def _sheet(book: Any, title: str, header: str, pairs: Sequence[Tuple[str, Any]], needs: List[Tuple[str, int]]) -> None:
    sheet = book.create_sheet(title=title[:31])
    sheet.append([neutralise_formula(header)])
    sheet.append(["指标", "数值"])
    for label, value in pairs:
        sheet.append([label, "" if value is None else value])
    sheet.append([])
    sheet.append(["热门需求", "次数"])
    for name, count in needs:
        sheet.append([neutralise_formula(name), count])
    sheet.column_dimensions["A"].width = 22


def write_xlsx(report: MonthReport, scope_label: str) -> bytes:
    """The month as a workbook: "合计" (the scope's total), then one sheet per city."""
    from openpyxl import Workbook  # the export alone needs it; the gateway starts faster without

    book = Workbook()
    book.remove(book.active)
    sheets = [("合计", report.total)] + [(c, report.by_city[c]) for c in city_order(report)]
    for title, figures in sheets:
        header = f"{report.month} 服务统计 · {scope_label if title == '合计' else title}（汇总数据，不含个人信息）"
        _sheet(book, title, header, [(label, value(figures)) for label, value in METRICS], top_needs(figures))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
