"""One expert of the three-level pool (省/市/县), the specialty vocabulary and its synonyms.

Specialties are industries (互联网, 制造业 …), topics (简历, 面试 …) and groups the expert knows
(退役军人, 残疾人 …). `SPECIALTY_WORDS` is the one place that maps what users and staff write
("IT", "程序员", "码农") to a specialty; the matcher and the staff import both use it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Dict, List, Mapping, Optional, Tuple

from bot.clock import SHANGHAI

LEVELS: Tuple[str, ...] = ("省级", "市级", "县级")
LEVEL_WORDS: Dict[str, str] = {"省": "省级", "省级": "省级", "市": "市级", "市级": "市级",
                               "县": "县级", "县级": "县级", "区": "县级", "区县": "县级"}

INDUSTRIES: Tuple[str, ...] = ("互联网", "制造业", "医疗健康", "教育", "金融", "现代农业", "物流")
TOPICS: Tuple[str, ...] = ("简历", "面试", "生涯规划", "创业")
GROUPS: Tuple[str, ...] = ("退役军人", "残疾人", "就业困难人员", "高校毕业生")
SPECIALTIES: Tuple[str, ...] = INDUSTRIES + TOPICS + GROUPS

# specialty -> words meaning it (lower case; the specialty's own name always counts). Longer words
# are tried first, so "创业担保贷款" is 创业, not a loan question about 金融.
SPECIALTY_WORDS: Dict[str, Tuple[str, ...]] = {
    "互联网": ("it", "计算机", "程序员", "码农", "软件", "编程", "写代码", "开发", "前端", "后端",
             "网络", "电商", "运营", "数据分析", "人工智能", "ai", "大数据", "科技公司"),
    "制造业": ("制造", "工厂", "厂里", "进厂", "车间", "机械", "技工", "化工", "汽车", "电工", "焊工", "数控"),
    "医疗健康": ("医疗", "医院", "医生", "护士", "护理", "医药", "卫生", "健康", "康养", "养老"),
    "教育": ("教育", "教师", "当老师", "教培", "培训机构", "幼师", "师范", "教资"),
    "金融": ("金融", "银行", "证券", "保险", "会计", "财务", "基金"),
    "现代农业": ("农业", "种植", "养殖", "种地", "大棚", "农村", "乡村振兴", "农产品"),
    "物流": ("物流", "快递", "仓储", "货运", "供应链", "港口"),
    "简历": ("简历", "履历", "cv", "求职信"),
    "面试": ("面试", "面谈", "群面", "无领导", "面试辅导"),
    "生涯规划": ("生涯", "规划", "职业方向", "择业", "职业发展", "迷茫", "转行", "方向"),
    "创业": ("创业", "开店", "开个店", "当老板", "自己干", "做生意", "创业贷款"),
    "退役军人": ("退役", "退伍", "军人", "转业", "复员", "部队"),
    "残疾人": ("残疾", "残障", "残联", "残疾证"),
    "就业困难人员": ("就业困难", "困难人员", "零就业", "低保", "长期失业", "大龄", "4050"),
    "高校毕业生": ("毕业生", "应届", "大学生", "刚毕业", "往届", "学生"),
}

_LIST_SPLIT = re.compile(r"[、,，;；/|\s]+")
_WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}
_PATTERN_RE = re.compile(r"^(?:周|星期|礼拜)([一二三四五六日天])\s*(\d{1,2})[:：](\d{2})\s*[-–~至]\s*(\d{1,2})[:：](\d{2})$")


def _vocabulary() -> List[Tuple[str, str]]:
    pairs = [(name.lower(), name) for name in SPECIALTIES]
    pairs += [(word, name) for name, words in SPECIALTY_WORDS.items() for word in words]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


_VOCABULARY = _vocabulary()


def specialties_in(text: str) -> Tuple[str, ...]:
    """The specialties a message names, in the order of `SPECIALTIES` ("IT行业的面试" -> 互联网, 面试)."""
    rest = (text or "").lower()
    found = set()
    for word, name in _VOCABULARY:
        if word in rest:
            found.add(name)
            rest = rest.replace(word, " ")  # a word counts once: "创业贷款" is not also 金融's "贷款"
    return tuple(name for name in SPECIALTIES if name in found)


def split_cell(value: str) -> List[str]:
    return [part for part in _LIST_SPLIT.split(value or "") if part]


def parse_level(value: str) -> Optional[str]:
    return LEVEL_WORDS.get((value or "").strip())


@dataclass(frozen=True)
class Pattern:
    """A weekly consultation time: one session of one person."""
    weekday: int  # 1 = 周一
    begin: time
    finish: time

    def label(self) -> str:
        return f"周{'一二三四五六日'[self.weekday - 1]} {self.begin:%H:%M}-{self.finish:%H:%M}"


def parse_patterns(value: str) -> Tuple[List[Pattern], List[str]]:
    """("周二 14:00-14:45；周四 09:30-10:15") -> (patterns, the parts that are not one)."""
    patterns: List[Pattern] = []
    bad: List[str] = []
    for part in re.split(r"[;；,，、\n]+", value or ""):
        part = re.sub(r"\s+", " ", part.strip())
        if not part:
            continue
        match = _PATTERN_RE.match(part)
        if not match:
            bad.append(part)
            continue
        day, h1, m1, h2, m2 = match.groups()
        try:
            begin, finish = time(int(h1), int(m1)), time(int(h2), int(m2))
        except ValueError:
            bad.append(part)
            continue
        if finish <= begin:
            bad.append(part)
            continue
        patterns.append(Pattern(_WEEKDAYS[day], begin, finish))
    return patterns, bad


@dataclass(frozen=True)
class Expert:
    id: str
    name: str
    level: str  # 省级 | 市级 | 县级
    city: str  # "济南市"; empty for 省级
    county: str  # "历下区" or empty
    industries: Tuple[str, ...]
    topics: Tuple[str, ...]  # topics and groups
    profile: str
    patterns: Tuple[Pattern, ...]
    mode: str  # 线下 | 线上
    venue: str  # the address, or how the online consultation happens
    active: bool = True
    sample: bool = False

    @property
    def specialties(self) -> Tuple[str, ...]:
        return self.industries + self.topics

    @property
    def workshop_id(self) -> str:
        """The expert's consultations in the workshop catalogue (see `bot/services/experts/__init__`)."""
        return f"expert-{self.id}"

    @property
    def place(self) -> str:
        """"省级" / "市级·青岛市" / "县级·青岛市黄岛区"."""
        return "·".join(part for part in (self.level, self.city + self.county) if part)

    def to_hash(self) -> Dict[str, str]:
        return {
            "id": self.id, "name": self.name, "level": self.level, "city": self.city, "county": self.county,
            "industries": json.dumps(self.industries, ensure_ascii=False),
            "topics": json.dumps(self.topics, ensure_ascii=False), "profile": self.profile,
            "patterns": "；".join(p.label() for p in self.patterns), "mode": self.mode, "venue": self.venue,
            "active": "1" if self.active else "0", "sample": "1" if self.sample else "0",
        }

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> "Expert":
        patterns, _ = parse_patterns(data.get("patterns", ""))
        return cls(
            id=data["id"], name=data.get("name", ""), level=data.get("level", ""), city=data.get("city", ""),
            county=data.get("county", ""), industries=tuple(json.loads(data.get("industries") or "[]")),
            topics=tuple(json.loads(data.get("topics") or "[]")), profile=data.get("profile", ""),
            patterns=tuple(patterns), mode=data.get("mode", "线下"), venue=data.get("venue", ""),
            active=data.get("active", "1") == "1", sample=data.get("sample", "0") == "1",
        )


def session_times(patterns: Tuple[Pattern, ...], now: datetime, weeks: int) -> List[Tuple[datetime, datetime]]:
    """Every session of the weekly patterns from now for `weeks` weeks (those not yet started)."""
    now = now.astimezone(SHANGHAI)
    today: date = now.date()
    found = []
    for offset in range(weeks * 7):
        day = today + timedelta(days=offset)
        for pattern in patterns:
            if day.isoweekday() != pattern.weekday:
                continue
            start = datetime.combine(day, pattern.begin, SHANGHAI)
            if start > now:
                found.append((start, datetime.combine(day, pattern.finish, SHANGHAI)))
    return sorted(found)
