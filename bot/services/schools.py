"""Shandong's universities and colleges (data/shandong_schools.csv): a school named in a message
("我是山东师范大学的", "山师大三") → its official name, city and district, and sample coordinates.

The coordinates are the district seat of the main campus, marked 示例 in the file: good enough to
choose a city for a nearby search, not a campus address.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Tuple

SCHOOLS_FILE = Path(__file__).resolve().parents[2] / "data" / "shandong_schools.csv"
# A short name followed by these is part of another school's name ("山大" in "中山大学").
_LONGER_NAME_NEXT = ("学", "院")


@dataclass(frozen=True)
class School:
    name: str
    short_names: Tuple[str, ...]
    city: str
    district: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class SchoolMention:
    school: School
    start: int
    end: int


@lru_cache(maxsize=4)
def load_schools(path: Path = SCHOOLS_FILE) -> Tuple[School, ...]:
    with open(path, encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return tuple(
            School(
                name=row["name"].strip(),
                short_names=tuple(s.strip() for s in row["short_names"].split(";") if s.strip()),
                city=row["city"].strip(),
                district=row["district"].strip(),
                latitude=float(row["lat"]),
                longitude=float(row["lon"]),
            )
            for row in rows
        )


def _surface_forms(schools: Tuple[School, ...]) -> List[Tuple[str, School, bool]]:
    """(words, school, is_short) longest first, so "山东大学（威海）" wins over "山东大学"."""
    forms = [(s.name, s, False) for s in schools]
    forms += [(short, s, True) for s in schools for short in s.short_names]
    return sorted(forms, key=lambda form: -len(form[0]))


def find_school(text: str, schools: Optional[Tuple[School, ...]] = None) -> Optional[SchoolMention]:
    """The first Shandong school the text names, by official or short name."""
    text = str(text or "").replace("(", "（").replace(")", "）")
    found: Optional[SchoolMention] = None
    for words, school, is_short in _surface_forms(schools or load_schools()):
        start = text.find(words)
        while start >= 0:
            end = start + len(words)
            if not (is_short and text[end:end + 1] in _LONGER_NAME_NEXT):
                if found is None or start < found.start:
                    found = SchoolMention(school, start, end)
                break
            start = text.find(words, end)
    return found


def school_by_name(name: str) -> Optional[School]:
    """The school a slot or profile value names (official or short name), else None."""
    mention = find_school(name)
    return mention.school if mention else None
