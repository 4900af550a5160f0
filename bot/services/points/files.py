"""Reading and writing service-point files as staff keep them (CSV or XLSX).

CSV may be UTF-8 with or without BOM, or GBK/GB18030 (what Excel on Chinese Windows
saves); the encoding is detected. Every row is validated and errors carry the row number
as Excel shows it (the header is row 1). A file with any error is rejected as a whole:
the caller only writes `report.points` when `report.errors` is empty.

Export writes UTF-8 with BOM (so Excel opens it correctly) with the same Chinese headers,
and an exported file imports back unchanged. `load_sample_if_empty` fills an empty store
with the shipped sample file at gateway startup.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

from bot.services.csv_safety import SafeCsvWriter
from bot.services.geo import (
    DISTRICTS,
    haversine_m,
    in_shandong,
    normalize_city,
    normalize_district,
)
from bot.services.points.hours import OpeningHours
from bot.services.points.model import PointType, ProgressCallback, ServicePoint, split_list
from bot.services.points.store import ServicePointStore
from bot.services.staff_files import (  # noqa: F401  detect_encoding, RowError: names importers use
    Column,
    FileReport,
    RowError,
    detect_encoding,
    load_sample_if_empty as load_sample,
    parse_flag,
    read_failure,
    table_rows,
    validate_table,
)
from bot.settings import PROJECT_ROOT

SAMPLE_FILE = PROJECT_ROOT / "data" / "service_points.csv"

# (field, export header, accepted header spellings)
COLUMNS: Tuple[Column, ...] = (
    ("id", "编号", ("id", "编号", "ID", "站点编号")),
    ("name", "名称", ("name", "名称", "站点名称", "服务点名称")),
    ("type", "类型", ("type", "类型", "站点类型", "服务点类型")),
    ("city", "城市", ("city", "城市", "地市", "市")),
    ("district", "区县", ("district", "区县", "县区", "县（市、区）", "县(市、区)")),
    ("address", "地址", ("address", "地址", "详细地址")),
    ("latitude", "纬度", ("latitude", "lat", "纬度")),
    ("longitude", "经度", ("longitude", "lon", "lng", "经度")),
    ("hours", "开放时间", ("hours", "开放时间", "营业时间", "服务时间", "办公时间")),
    ("phone", "电话", ("phone", "电话", "联系电话")),
    ("services", "服务内容", ("services", "服务内容", "服务项目")),
    ("audience", "服务对象", ("audience", "服务对象", "面向人群")),
    ("active", "是否启用", ("active", "是否启用", "启用", "状态")),
    ("sample", "示例数据", ("sample", "示例数据", "示例")),
    ("note", "备注", ("note", "备注")),
)
REQUIRED = ("id", "name", "type", "city", "district", "address", "latitude", "longitude")
EXPORT_HEADERS = [header for _, header, _ in COLUMNS]

_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PHONE_RE = re.compile(r"^[0-9\-－ ()（）+转,，/、]{3,60}$")
# A point farther than this from its county's seat is almost surely a typo or another datum.
MAX_KM_FROM_SEAT = 100.0


@dataclass
class ImportReport(FileReport):
    points: List[ServicePoint] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def read_points_file(
    path: Union[str, Path],
    progress: Optional[ProgressCallback] = None,
    progress_every: int = 1000,
) -> ImportReport:
    """Parse and validate a CSV/XLSX file of service points (nothing is written)."""
    path = Path(path)
    report = ImportReport()
    try:
        rows, report.encoding = table_rows(path)
        return _validate_rows(rows, report, progress, progress_every)
    except Exception as exc:  # unreadable, unsupported or damaged file: one clear error
        report.errors.append(read_failure(exc))
    return report


def _validate_rows(
    rows: Iterable[List[str]],
    report: ImportReport,
    progress: Optional[ProgressCallback],
    progress_every: int,
) -> ImportReport:
    def tick(done: int) -> None:
        if progress and done % progress_every == 0:
            progress(done, 0, "校验")

    report.points, errors, report.rows = validate_table(
        rows, COLUMNS, REQUIRED, validate_row, lambda point: point.id, tick
    )
    report.errors.extend(errors)
    if progress:
        progress(report.rows, report.rows, "校验")
    return report


def _number(value: str) -> Optional[float]:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number else None  # NaN


def validate_row(row: int, v: Dict[str, str]) -> Tuple[Optional[ServicePoint], List[RowError]]:
    """One data row -> a point, or the list of what is wrong with it."""
    errors: List[RowError] = []

    def err(column: str, message: str) -> None:
        errors.append(RowError(row, column, message))

    point_id = v.get("id", "")
    if not point_id:
        err("编号", "不能为空")
    elif not _ID_RE.match(point_id):
        err("编号", f"“{point_id}”只能含字母、数字、- 和 _（最长64位）")
    name = v.get("name", "")
    if not name:
        err("名称", "不能为空")
    elif len(name) > 80:
        err("名称", "超过80个字")
    point_type: Optional[PointType] = None
    try:
        point_type = PointType.parse(v.get("type", ""))
    except ValueError:
        err("类型", f"“{v.get('type', '')}”不是有效类型，可选：" + "、".join(t.label for t in PointType))
    city = normalize_city(v.get("city", ""))
    if not city:
        err("城市", f"“{v.get('city', '')}”不是山东省的地级市")
    district: Optional[str] = None
    if city:
        raw_district = v.get("district", "")
        if not raw_district:
            err("区县", "不能为空")
        else:
            district = normalize_district(city, raw_district)
            if not district:
                err("区县", f"“{raw_district}”不是{city}的县级行政区")
    address = v.get("address", "")
    if not address:
        err("地址", "不能为空")
    elif len(address) > 200:
        err("地址", "超过200个字")
    lat, lon = _number(v.get("latitude", "")), _number(v.get("longitude", ""))
    if lat is None:
        err("纬度", f"“{v.get('latitude', '')}”不是数字")
    if lon is None:
        err("经度", f"“{v.get('longitude', '')}”不是数字")
    if lat is not None and lon is not None:
        if not in_shandong(lat, lon):
            hint = "，经纬度可能填反了" if in_shandong(lon, lat) else ""
            err("纬度", f"坐标({lat}, {lon})不在山东省范围内{hint}")
        elif city and district:
            seat = DISTRICTS[(city, district)]
            km = haversine_m(lat, lon, seat.lat, seat.lon) / 1000.0
            if km > MAX_KM_FROM_SEAT:
                err("纬度", f"坐标离{district}驻地{km:.0f}公里，请核对（应为GCJ-02坐标）")
    hours = v.get("hours", "")
    if hours:
        try:
            OpeningHours.parse(hours)
        except ValueError as exc:
            err("开放时间", str(exc))
    phone = v.get("phone", "")
    if phone and (not _PHONE_RE.match(phone) or sum(c.isdigit() for c in phone) < 3):
        err("电话", f"“{phone}”不像电话号码")
    active = parse_flag(v.get("active", ""), True)
    if active is None:
        err("是否启用", f"“{v.get('active')}”请填 是 或 否")
    sample = parse_flag(v.get("sample", ""), False)
    if sample is None:
        err("示例数据", f"“{v.get('sample')}”请填 是 或 否")
    if errors:
        return None, errors
    assert point_type and city and district and lat is not None and lon is not None
    return (
        ServicePoint(
            id=point_id,
            name=name,
            type=point_type,
            city=city,
            district=district,
            address=address,
            latitude=lat,
            longitude=lon,
            hours=hours,
            phone=phone,
            services=split_list(v.get("services", "")),
            audience=v.get("audience", ""),
            active=bool(active),
            sample=bool(sample),
            note=v.get("note", ""),
        ),
        [],
    )


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def point_row(point: ServicePoint) -> List[str]:
    return [
        point.id,
        point.name,
        point.type.label,
        point.city,
        point.district,
        point.address,
        f"{point.latitude:.6f}",
        f"{point.longitude:.6f}",
        point.hours,
        point.phone,
        "、".join(point.services),
        point.audience,
        "是" if point.active else "否",
        "是" if point.sample else "否",
        point.note,
    ]


def write_points_csv(points: Iterable[ServicePoint], path: Union[str, Path]) -> int:
    """Write points as UTF-8-with-BOM CSV (Excel-friendly); returns how many rows."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = SafeCsvWriter(handle)
        writer.writerow(EXPORT_HEADERS)
        for point in points:
            writer.writerow(point_row(point))
            count += 1
    return count


async def load_sample_if_empty(store: ServicePointStore) -> int:
    """Import the shipped sample points when the index holds none; returns how many."""
    return await load_sample(
        store, lambda: read_points_file(SAMPLE_FILE), lambda report: report.points, "样例服务点"
    )
