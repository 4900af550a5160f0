"""Importing and exporting service-point files (CSV in GBK/UTF-8/BOM, XLSX) into real Redis."""
from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import List

import pytest
import redis as sync_redis

from bot.cli import points as points_cli
from bot.services.geo import CITIES
from bot.services.points.files import (
    EXPORT_HEADERS,
    SAMPLE_FILE,
    detect_encoding,
    read_points_file,
    write_points_csv,
)
from bot.services.points.model import PointType
from bot.services.points.query import PointQuery
from bot.services.points.store import ServicePointStore
from tests.conftest import TEST_REDIS_URL

HEADER = ["编号", "名称", "类型", "城市", "区县", "地址", "纬度", "经度", "开放时间", "电话", "服务内容"]
GOOD_ROWS = [
    ["T-001", "历下区公共就业和人才服务中心", "公共就业和人才服务机构", "济南", "历下区", "解放路1号", "36.666", "117.08", "周一至周五 09:00-17:00", "0531-12333", "职业指导、招聘信息"],
    ["T-002", "黄岛零工市场", "零工市场", "青岛市", "黄岛", "长江路2号", "35.96", "120.20", "每天 05:30-11:00", "0532-12333", "零工对接"],
    ["T-003", "莱芜职业指导工作室", "县级职业指导工作室", "济南市", "莱芜", "凤城大街3号", "36.21", "117.66", "", "", "职业指导"],
]


def write_csv(path: Path, rows: List[List[str]], encoding: str, header: List[str] = HEADER) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def all_keys(settings) -> List[str]:
    client = sync_redis.from_url(TEST_REDIS_URL, decode_responses=True)
    try:
        return sorted(client.scan_iter(f"{settings.redis_key_prefix}:points:*"))
    finally:
        client.close()


@pytest.mark.parametrize("encoding, expected", [("gbk", "gb18030"), ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8")])
async def test_import_csv_in_each_encoding(tmp_path, redis, settings, encoding, expected):
    path = write_csv(tmp_path / "points.csv", GOOD_ROWS, encoding)
    assert detect_encoding(path.read_bytes()) == expected
    report = read_points_file(path)
    assert report.errors == [] and report.encoding == expected
    store = ServicePointStore(redis, settings)
    result = await store.upsert_many(report.points)
    assert result.created == 3
    laiwu = await store.get("T-003")
    # Short and old names are normalised to today's official units.
    assert (laiwu.city, laiwu.district, laiwu.type) == ("济南市", "莱芜区", PointType.STUDIO_COUNTY)
    assert (await store.get("T-002")).district == "黄岛区"
    assert (await store.get("T-001")).name == "历下区公共就业和人才服务中心"
    hits = (await store.search(PointQuery(city="青岛市", district="黄岛区"))).hits
    assert [h.point.id for h in hits] == ["T-002"]


def test_bad_rows_are_reported_with_row_numbers_and_nothing_is_imported(tmp_path, settings, capsys):
    rows = [
        GOOD_ROWS[0],
        ["T-010", "", "零工市场", "济南", "历下区", "路1号", "36.6", "117.0", "", "", ""],  # row 3: no name
        ["T-011", "某站", "咖啡馆", "济南", "历下区", "路1号", "36.6", "117.0", "", "", ""],  # row 4: type
        ["T-012", "某站", "零工市场", "北京", "朝阳区", "路1号", "36.6", "117.0", "", "", ""],  # row 5: city
        ["T-013", "某站", "零工市场", "济南", "历下区", "路1号", "117.0", "36.6", "", "", ""],  # row 6: swapped
        GOOD_ROWS[1],
        ["T-001", "重复", "零工市场", "济南", "历下区", "路1号", "36.6", "117.0", "", "", ""],  # row 8: dup id
        ["T-014", "某站", "零工市场", "济南", "黄岛区", "路1号", "36.6", "117.0", "随时", "", ""],  # row 9: 2 errors
    ]
    path = write_csv(tmp_path / "bad.csv", rows, "gbk")
    report = read_points_file(path)
    rows_with_errors = sorted({e.row for e in report.errors})
    assert rows_with_errors == [3, 4, 5, 6, 8, 9]
    messages = [str(e) for e in report.errors]
    assert any(m.startswith("第6行") and "填反" in m for m in messages)
    assert any(m.startswith("第8行") and "第2行重复" in m for m in messages)
    assert any(m.startswith("第9行【区县】") for m in messages)
    assert any(m.startswith("第9行【开放时间】") for m in messages)

    # Through the staff command: rejected as a whole, nothing written.
    assert points_cli.main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "未导入任何数据" in err and "第3行" in err and "第9行" in err
    assert all_keys(settings) == []


def test_bad_file_leaves_existing_data_untouched(tmp_path, settings, capsys):
    good = write_csv(tmp_path / "good.csv", GOOD_ROWS, "utf-8-sig")
    assert points_cli.main(["import", str(good)]) == 0
    before = {k: None for k in all_keys(settings)}
    changed = [GOOD_ROWS[0][:1] + ["改名了"] + GOOD_ROWS[0][2:], ["T-099", "x", "零工市场", "济南", "历下区", "路", "abc", "117", "", "", ""]]
    bad = write_csv(tmp_path / "bad.csv", changed, "utf-8-sig")
    assert points_cli.main(["import", str(bad)]) == 1
    assert set(all_keys(settings)) == set(before)
    client = sync_redis.from_url(TEST_REDIS_URL, decode_responses=True)
    try:
        name = client.hget(f"{settings.redis_key_prefix}:points:item:T-001", "name")
    finally:
        client.close()
    assert name == "历下区公共就业和人才服务中心"


def test_missing_required_columns_and_unknown_file_types(tmp_path):
    path = write_csv(tmp_path / "cols.csv", [["1", "x"]], "utf-8", header=["编号", "名称"])
    report = read_points_file(path)
    assert len(report.errors) == 1 and report.errors[0].row == 1 and "类型" in report.errors[0].message
    other = tmp_path / "points.pdf"
    other.write_bytes(b"%PDF")
    assert not read_points_file(other).ok
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert not read_points_file(empty).ok


async def test_xlsx_import_with_numeric_cells(tmp_path, redis, settings):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ID", "站点名称", "站点类型", "地市", "县区", "详细地址", "纬度", "经度", "营业时间", "联系电话"])
    sheet.append([101, "芝罘区社区就业驿站", "社区就业驿站", "烟台", "芝罘区", "南大街5号", 37.54, 121.40, "周一至周五 08:30-17:30", 12333])
    sheet.append([None] * 10)  # blank rows are skipped
    sheet.append(["102", "寿光零工市场", "零工市场", "潍坊市", "寿光市", "农圣街6号", 36.86, 118.79, "每天 05:30-11:00", "0536-12333"])
    path = tmp_path / "points.xlsx"
    workbook.save(path)

    report = read_points_file(path)
    assert report.errors == [] and report.rows == 2
    store = ServicePointStore(redis, settings)
    await store.upsert_many(report.points)
    first = await store.get("101")
    assert (first.city, first.district, first.phone, first.latitude) == ("烟台市", "芝罘区", "12333", 37.54)
    assert (await store.get("102")).type is PointType.GIG_MARKET


def test_xlsx_with_a_bad_row_is_rejected_with_its_row_number(tmp_path, settings):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(GOOD_ROWS[0])
    sheet.append(["T-2", "站", "零工市场", "济南", "历下区", "路", 36.6, 200, "", "", ""])
    path = tmp_path / "bad.xlsx"
    workbook.save(path)
    report = read_points_file(path)
    assert [e.row for e in report.errors] == [3]
    assert points_cli.main(["import", str(path)]) == 1
    assert all_keys(settings) == []


def test_upsert_by_id_export_and_reimport_round_trip(tmp_path, settings, capsys):
    first = write_csv(tmp_path / "a.csv", GOOD_ROWS, "gbk")
    assert points_cli.main(["import", str(first)]) == 0
    renamed = [GOOD_ROWS[1][:1] + ["黄岛区零工市场（新址）"] + GOOD_ROWS[1][2:]]
    second = write_csv(tmp_path / "b.csv", renamed, "utf-8")
    assert points_cli.main(["import", str(second)]) == 0
    assert "新增 0，更新 1" in capsys.readouterr().out

    exported = tmp_path / "export.csv"
    assert points_cli.main(["export", str(exported)]) == 0
    raw = exported.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == EXPORT_HEADERS and len(rows) == 4
    assert {r[1] for r in rows[1:]} == {GOOD_ROWS[0][1], "黄岛区零工市场（新址）", GOOD_ROWS[2][1]}
    reread = read_points_file(exported)
    assert reread.errors == [] and len(reread.points) == 3
    again = tmp_path / "again.csv"
    write_points_csv(reread.points, again)
    assert again.read_bytes() == raw  # export -> import -> export is stable


def test_progress_is_reported_on_large_files(tmp_path, settings, capsys):
    rows = [
        [f"B-{i:05d}", f"批量站点{i}", "社区就业驿站", "济南", "历下区", f"路{i}号", f"{36.60 + i * 1e-5:.6f}", "117.05", "", "", ""]
        for i in range(2500)
    ]
    path = write_csv(tmp_path / "big.csv", rows, "utf-8")
    calls = []
    report = read_points_file(path, progress=lambda done, total, phase: calls.append((done, phase)), progress_every=1000)
    assert report.ok and [c for c in calls if c[1] == "校验"] == [(1000, "校验"), (2000, "校验"), (2500, "校验")]
    assert points_cli.main(["import", str(path), "--progress-every", "1000"]) == 0
    err = capsys.readouterr().err
    assert "写入：1000/2500" in err and "写入：2500/2500" in err
    client = sync_redis.from_url(TEST_REDIS_URL, decode_responses=True)
    try:
        assert client.zcard(f"{settings.redis_key_prefix}:points:geo") == 2500
    finally:
        client.close()


def test_sample_data_covers_every_city_with_several_types():
    report = read_points_file(SAMPLE_FILE)
    assert report.errors == []
    per_city = Counter(p.city for p in report.points)
    assert set(per_city) == set(CITIES) and min(per_city.values()) >= 4
    for city in CITIES:
        kinds = {p.type for p in report.points if p.city == city}
        assert len(kinds) >= 4, city
    assert {p.type for p in report.points} == set(PointType)
    assert all(p.sample and "示例" in p.note for p in report.points)
    assert all(p.opening_hours is not None for p in report.points)
    assert len({p.id for p in report.points}) == len(report.points)


def test_load_sample_command(settings, capsys):
    assert points_cli.main(["load-sample"]) == 0
    assert points_cli.main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "济南市\t14" in out and "菏泽市\t9" in out
