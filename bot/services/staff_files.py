"""Reading the spreadsheets staff keep (CSV or XLSX): the one home of what every catalogue
import shares — encoding detection, rows of cells, header spellings, yes/no cells, row errors.

CSV may be UTF-8 with or without BOM, or GBK/GB18030 (what Excel on Chinese Windows saves);
the encoding is detected. Row numbers are as Excel shows them (the header is row 1).
Each catalogue (`bot/services/points/files.py`, `bot/services/job_fairs/files.py`,
`bot/services/experts/files.py`) keeps its own columns and row validation; reading a file
(`read_table_into`), writing an export (`write_table`) and importing the shipped sample into an
empty store at start-up (`load_sample_if_empty`) are shared here.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Protocol, Sequence, Tuple, TypeVar

from bot.services.csv_safety import SafeCsvWriter, neutralise_formula, restore_formula

# (field, export header, accepted header spellings)
Column = Tuple[str, str, Tuple[str, ...]]
Item = TypeVar("Item")
Report = TypeVar("Report", bound="FileReport")

TRUE_WORDS = {"1", "是", "true", "yes", "y", "启用", "有效", "正常", "开放"}
FALSE_WORDS = {"0", "否", "false", "no", "n", "停用", "无效", "关闭", "暂停"}


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
class FileReport:
    """What reading one staff file found; each import adds the list of what it read."""
    errors: List[RowError] = field(default_factory=list)
    rows: int = 0  # data rows read (blank rows not counted)
    encoding: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


class UnsupportedFileType(ValueError):
    """The file is neither CSV nor XLSX."""


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


def cell_text(value: object) -> str:
    """An XLSX cell as the text a CSV would hold (whole numbers without ".0")."""
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
            yield [cell_text(v) for v in row]
    finally:
        workbook.close()


def table_rows(path: Path) -> Tuple[Iterable[List[str]], str]:
    """(rows of cell texts, encoding or "xlsx"); raises UnsupportedFileType, OSError, UnicodeDecodeError."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path), "xlsx"
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv_rows(path.read_bytes())
    raise UnsupportedFileType(f"不支持的文件类型“{suffix}”，请用 CSV 或 XLSX")


def read_failure(exc: BaseException) -> RowError:
    """The whole-file error for an exception raised while reading a table."""
    if isinstance(exc, UnsupportedFileType):
        return RowError(0, "", str(exc))
    if isinstance(exc, UnicodeDecodeError):
        return RowError(0, "", "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")
    if isinstance(exc, (OSError, ValueError, KeyError)):
        return RowError(0, "", f"无法读取文件：{exc}")
    # openpyxl raises assorted errors on damaged workbooks
    return RowError(0, "", f"无法读取文件：{type(exc).__name__}: {exc}")


def header_positions(
    header: Sequence[str], columns: Sequence[Column], required: Sequence[str]
) -> Tuple[Dict[str, int], List[RowError]]:
    """Column index of each known field in the header row, and an error naming missing required ones."""
    lookup = {}
    for name, _, spellings in columns:
        for spelling in spellings:
            lookup[spelling.strip().lower()] = name
    positions: Dict[str, int] = {}
    for index, title in enumerate(header):
        name = lookup.get((title or "").strip().lstrip("\ufeff").lower())
        if name and name not in positions:
            positions[name] = index
    missing = [c for c in required if c not in positions]
    errors = []
    if missing:
        titles = {name: export for name, export, _ in columns}
        errors.append(RowError(1, "", "缺少必填列：" + "、".join(titles[m] for m in missing)))
    return positions, errors


def parse_flag(value: str, default: bool) -> Optional[bool]:
    """A yes/no cell: True/False, `default` when empty, None when it is neither."""
    value = value.strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    return None


def validate_table(
    rows: Iterable[List[str]],
    columns: Sequence[Column],
    required: Sequence[str],
    validate_row: Callable[[int, Dict[str, str]], Tuple[Optional[Item], List[RowError]]],
    id_of: Callable[[Item], str],
    on_row: Optional[Callable[[int], None]] = None,
) -> Tuple[List[Item], List[RowError], int]:
    """(valid items, errors, data rows read) of a table whose first row is the header.

    Blank rows are skipped, exported formula guards are undone, a repeated 编号 is an error of
    the later row, and `on_row(n)` is called after the n-th data row (for progress reports).
    """
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        return [], [RowError(0, "", "文件是空的")], 0
    positions, errors = header_positions(header, columns, required)
    if errors:
        return [], errors, 0
    items: List[Item] = []
    seen: Dict[str, int] = {}
    count = 0
    for row_number, row in enumerate(iterator, start=2):
        if not any((cell or "").strip() for cell in row):
            continue
        count += 1
        values = {
            name: (restore_formula(row[index].strip()) if index < len(row) and row[index] else "")
            for name, index in positions.items()
        }
        item, row_errors = validate_row(row_number, values)
        if item is not None and id_of(item) in seen:
            row_errors.append(RowError(row_number, "编号", f"编号“{id_of(item)}”与第{seen[id_of(item)]}行重复"))
        elif item is not None:
            seen[id_of(item)] = row_number
        errors.extend(row_errors)
        if item is not None and not row_errors:
            items.append(item)
        if on_row:
            on_row(count)
    if count == 0:
        errors.append(RowError(0, "", "文件里没有数据行"))
    return items, errors, count


def read_table_into(
    report: FileReport,
    path: Path,
    columns: Sequence[Column],
    required: Sequence[str],
    validate_row: Callable[[int, Dict[str, str]], Tuple[Optional[Item], List[RowError]]],
    id_of: Callable[[Item], str],
) -> List[Item]:
    """Read and validate a staff file, recording its encoding, rows and errors in `report`; the valid
    items (none when the file cannot be read: unreadable, unsupported or damaged is one clear error)."""
    try:
        rows, report.encoding = table_rows(path)
        items, report.errors, report.rows = validate_table(rows, columns, required, validate_row, id_of)
        return items
    except Exception as exc:
        report.errors.append(read_failure(exc))
        return []


def write_table(path: Path, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """Write a staff export as XLSX (by the file's suffix) or UTF-8-with-BOM CSV (Excel opens it
    as is), cells that a spreadsheet would run as formulas made inert; returns how many rows."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(list(headers))
        for row in rows:
            sheet.append([neutralise_formula(cell) for cell in row])
        book.save(path)
        return len(rows)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = SafeCsvWriter(handle)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(row)
    return len(rows)


class CatalogueStore(Protocol):
    """What a catalogue's store offers a sample import (points, job fairs, experts)."""

    async def count(self) -> int: ...

    async def upsert_many(self, items: Sequence[Any]) -> Any: ...


async def load_sample_if_empty(
    store: CatalogueStore, read_sample: Callable[[], Report], items_of: Callable[[Report], Sequence[Any]], what: str
) -> int:
    """Import a catalogue's shipped sample file when its store holds nothing (so staff edits
    survive a restart); returns how many items. A broken sample file is a ValueError naming `what`
    and its first errors; the file is read only when the store is empty."""
    if await store.count():
        return 0
    report = read_sample()
    if report.errors:
        raise ValueError(f"{what}数据有误：" + "; ".join(str(e) for e in report.errors[:5]))
    items = items_of(report)
    await store.upsert_many(items)
    return len(items)
