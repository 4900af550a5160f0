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

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from bot.services.csv_safety import SafeCsvWriter, restore_formula
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
from bot.settings import PROJECT_ROOT

SAMPLE_FILE = PROJECT_ROOT / "data" / "service_points.csv"

# (field, export header, accepted header spellings)
COLUMNS: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = (
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
_TRUE = {"1", "是", "true", "yes", "y", "启用", "有效", "正常", "开放"}
_FALSE = {"0", "否", "false", "no", "n", "停用", "无效", "关闭", "暂停"}
# A point farther than this from its county's seat is almost surely a typo or another datum.
MAX_KM_FROM_SEAT = 100.0


@dataclass(frozen=True)
class RowError:
    row: int  # as Excel numbers it: header = 1, first data row = 2; 0 = the whole file
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        col = f"【{self.column}】" if self.column else ""
        return f"{where}{col}：{self.message}"


@dataclass
class ImportReport:
    points: List[ServicePoint] = field(default_factory=list)
    errors: List[RowError] = field(default_factory=list)
    rows: int = 0  # data rows read (blank rows not counted)
    encoding: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def detect_encoding(data: bytes) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030' (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    data.decode("gb18030")  # raises UnicodeDecodeError if it is not GBK either
    return "gb18030"


def _csv_rows(data: bytes) -> Tuple[Iterator[List[str]], str]:
    encoding = detect_encoding(data)
    text = data.decode(encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), encoding


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(path: Path) -> Iterator[List[str]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in row]
    finally:
        workbook.close()


def read_points_file(
    path: Union[str, Path],
    progress: Optional[ProgressCallback] = None,
    progress_every: int = 1000,
) -> ImportReport:
    """Parse and validate a CSV/XLSX file of service points (nothing is written)."""
    path = Path(path)
    report = ImportReport()
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            rows: Iterable[List[str]] = _xlsx_rows(path)
            report.encoding = "xlsx"
        elif suffix in (".csv", ".txt", ".tsv"):
            rows, report.encoding = _csv_rows(path.read_bytes())
        else:
            report.errors.append(RowError(0, "", f"不支持的文件类型“{suffix}”，请用 CSV 或 XLSX"))
            return report
        return _validate_rows(rows, report, progress, progress_every)
    except UnicodeDecodeError:
        report.errors.append(RowError(0, "", "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV"))
    except (OSError, ValueError, KeyError) as exc:  # unreadable/corrupt file
        report.errors.append(RowError(0, "", f"无法读取文件：{exc}"))
    except Exception as exc:  # openpyxl raises assorted errors on damaged workbooks
        report.errors.append(RowError(0, "", f"无法读取文件：{type(exc).__name__}: {exc}"))
    return report


def _header_map(header: Sequence[str]) -> Tuple[Dict[str, int], List[RowError]]:
    lookup = {}
    for name, _, spellings in COLUMNS:
        for spelling in spellings:
            lookup[spelling.strip().lower()] = name
    positions: Dict[str, int] = {}
    for index, title in enumerate(header):
        name = lookup.get((title or "").strip().lstrip("\ufeff").lower())
        if name and name not in positions:
            positions[name] = index
    missing = [c for c in REQUIRED if c not in positions]
    errors = []
    if missing:
        titles = {name: export for name, export, _ in COLUMNS}
        errors.append(
            RowError(1, "", "缺少必填列：" + "、".join(titles[m] for m in missing))
        )
    return positions, errors


def _validate_rows(
    rows: Iterable[List[str]],
    report: ImportReport,
    progress: Optional[ProgressCallback],
    progress_every: int,
) -> ImportReport:
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        report.errors.append(RowError(0, "", "文件是空的"))
        return report
    positions, errors = _header_map(header)
    if errors:
        report.errors.extend(errors)
        return report
    seen: Dict[str, int] = {}
    for row_number, row in enumerate(iterator, start=2):
        if not any((cell or "").strip() for cell in row):
            continue
        report.rows += 1
        values = {
            name: (restore_formula(row[index].strip()) if index < len(row) and row[index] else "")
            for name, index in positions.items()
        }
        point, row_errors = validate_row(row_number, values)
        if point is not None:
            first = seen.get(point.id)
            if first is not None:
                row_errors.append(RowError(row_number, "编号", f"编号“{point.id}”与第{first}行重复"))
            else:
                seen[point.id] = row_number
        if row_errors:
            report.errors.extend(row_errors)
        elif point is not None:
            report.points.append(point)
        if progress and report.rows % progress_every == 0:
            progress(report.rows, 0, "校验")
    if report.rows == 0:
        report.errors.append(RowError(0, "", "文件里没有数据行"))
    if progress:
        progress(report.rows, report.rows, "校验")
    return report


def _flag(value: str, default: bool) -> Optional[bool]:
    value = value.strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


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
    active = _flag(v.get("active", ""), True)
    if active is None:
        err("是否启用", f"“{v.get('active')}”请填 是 或 否")
    sample = _flag(v.get("sample", ""), False)
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
    if await store.count():
        return 0
    report = read_points_file(SAMPLE_FILE)
    if report.errors:
        raise ValueError("样例服务点数据有误：" + "; ".join(str(e) for e in report.errors[:5]))
    await store.upsert_many(report.points)
    return len(report.points)
