"""Staff job-fair files: CSV/XLSX import with row-numbered errors, export that imports back unchanged."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import SHANGHAI
from bot.services.job_fairs.files import (
    EXPORT_HEADERS,
    SAMPLE_FILE,
    parse_time,
    read_fairs_file,
    write_fairs_file,
)
from bot.services.job_fairs.model import FairKind
from bot.services.job_fairs.store import JobFairStore
from bot.services.staff_files import load_sample_if_empty

HEADER = ",".join(EXPORT_HEADERS)
GOOD = "f1,校园双选会,双选会,济南,历城区,某大学体育馆,2030-05-20 09:00,2030-05-20 12:00,应届生、离校未就业毕业生,某中心,带学生证,,,是,否"


def write(tmp_path: Path, *rows: str, name: str = "fairs.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes("\n".join([HEADER, *rows]).encode(encoding))
    return path


def test_a_good_row_reads_with_normalised_names(tmp_path):
    report = read_fairs_file(write(tmp_path, GOOD, encoding="gb18030"))
    assert report.ok and report.encoding == "gb18030"
    fair = report.fairs[0]
    assert (fair.city, fair.district, fair.kind) == ("济南市", "历城区", FairKind.DOUBLE_CHOICE)
    assert fair.starts_at == datetime(2030, 5, 20, 9, 0, tzinfo=SHANGHAI)
    assert fair.audience == frozenset({"应届生", "离校未就业毕业生"})


@pytest.mark.parametrize(
    "change, column",
    [
        (("f2", "f 2"), "编号"),
        (("双选会,济南", "舞会,济南"), "类型"),
        (("济南", "南京"), "城市"),
        (("历城区", "黄岛区"), "区县"),
        (("某大学体育馆", ""), "地点"),
        (("2030-05-20 09:00", "下周一"), "开始时间"),
        (("2030-05-20 12:00", "2030-05-20 08:00"), "结束时间"),
        (("2030-05-20 12:00", "2030-07-20 12:00"), "结束时间"),
        (("应届生、", "学生、"), "面向人群"),
        (("是,否", "也许,否"), "是否启用"),
        (("是,否", "是,是"), "名称"),  # a sample row must say 示例 in its title
    ],
)
def test_each_bad_cell_is_reported_with_its_row_and_column(tmp_path, change, column):
    report = read_fairs_file(write(tmp_path, GOOD, GOOD.replace("f1", "f2").replace(*change)))
    assert [f.id for f in report.fairs] == ["f1"]  # the good row; the file is still rejected
    assert [(e.row, e.column) for e in report.errors] == [(3, column)]
    assert not report.ok


def test_duplicates_missing_columns_empty_and_unsupported_files(tmp_path):
    dup = read_fairs_file(write(tmp_path, GOOD, GOOD))
    assert [str(e) for e in dup.errors] == ["第3行【编号】：编号“f1”与第2行重复"]
    missing = tmp_path / "missing.csv"
    missing.write_text("编号,名称\nf1,x\n", encoding="utf-8")
    assert "缺少必填列：类型、城市、开始时间、结束时间" in str(read_fairs_file(missing).errors[0])
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER + "\n\n", encoding="utf-8")
    assert str(read_fairs_file(empty).errors[0]) == "文件：文件里没有数据行"
    assert "不支持的文件类型" in str(read_fairs_file(tmp_path / "fairs.pdf").errors[0])
    assert "无法读取文件" in str(read_fairs_file(tmp_path / "absent.csv").errors[0])


def test_an_online_fair_needs_a_platform_url_or_way_to_join(tmp_path):
    online = "o1,线上专场,线上专场,青岛,,,2030-05-20 09:00,2030-05-22 17:00,,,,,,,"
    assert [e.column for e in read_fairs_file(write(tmp_path, online)).errors] == ["地点"]
    with_url = online.replace(",,,,,,,", ",,,https://example.org/fair,,,")
    report = read_fairs_file(write(tmp_path, with_url, name="b.csv"))
    assert report.ok and report.fairs[0].online and report.fairs[0].audience == frozenset({"不限"})


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_imports_back_unchanged_and_neutralises_formulas(tmp_path, suffix):
    fairs = read_fairs_file(SAMPLE_FILE).fairs
    risky = fairs[0].__class__(**{**fairs[0].__dict__, "id": "risky", "note": "=HYPERLINK(\"x\")"})
    path = tmp_path / f"out.{suffix}"
    assert write_fairs_file([*fairs, risky], path) == len(fairs) + 1
    again = read_fairs_file(path)
    assert again.ok, again.errors
    assert again.fairs == [*fairs, risky]
    if suffix == "csv":
        assert "'=HYPERLINK" in path.read_text(encoding="utf-8-sig")


def test_parse_time_accepts_staff_spellings_and_rejects_dates_alone():
    expected = datetime(2030, 5, 20, 9, 5, tzinfo=SHANGHAI)
    for text in ("2030-05-20 09:05", "2030/5/20 9:05", "2030年5月20日 09:05", "2030-05-20 09:05:00",
                 "2030-05-20T09:05", "2030-05-20T01:05:00+00:00"):
        assert parse_time(text) == expected, text
    assert parse_time("2030-05-20") is None and parse_time("2030-02-30 09:00") is None
    assert parse_time("") is None


def test_the_shipped_sample_is_valid():
    report = read_fairs_file(SAMPLE_FILE)
    assert report.ok, report.errors
    assert all(f.ends_at - f.starts_at < timedelta(days=7) for f in report.fairs)


async def test_a_broken_sample_is_refused_whole_and_read_only_into_an_empty_store(redis, settings, tmp_path):
    """The shared start-up import (bot/services/staff_files.py), on a sample a typo broke."""
    store = JobFairStore(redis, settings)
    broken = write(tmp_path, GOOD, GOOD.replace("f1,", "f2,").replace("2030-05-20 09:00", "下周三上午"))
    with pytest.raises(ValueError, match="示例招聘会数据有误：第3行【开始时间】"):
        await load_sample_if_empty(store, lambda: read_fairs_file(broken), lambda r: r.fairs, "示例招聘会")
    assert await store.count() == 0
    good = write(tmp_path, GOOD, name="good.csv")
    assert await load_sample_if_empty(store, lambda: read_fairs_file(good), lambda r: r.fairs, "示例招聘会") == 1
    # a store with data: the (broken) file is not even read
    assert await load_sample_if_empty(store, lambda: read_fairs_file(broken), lambda r: r.fairs, "示例招聘会") == 0

