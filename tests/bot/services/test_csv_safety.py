"""One spreadsheet formula neutraliser for every CSV export, the points export included."""
from __future__ import annotations

import csv
import io

import pytest

from bot.services.csv_safety import neutralise_formula, restore_formula
from bot.services.points.files import read_points_file, write_points_csv
from bot.settings import PROJECT_ROOT
from tests.bot.services.test_service_points_import import GOOD_ROWS, write_csv


@pytest.mark.parametrize(
    "value,cell",
    [
        ("=1+1", "'=1+1"), ("+8613800138000", "'+8613800138000"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"), ("\r=cmd", "'\r=cmd"), ("张三", "张三"), ("a=b", "a=b"), ("", ""), (None, ""), (42, "42"),
    ],
)
def test_formula_cells_get_a_leading_apostrophe_and_come_back_on_import(value, cell):
    assert neutralise_formula(value) == cell
    assert restore_formula(cell) == ("" if value is None else str(value))


def test_an_apostrophe_the_user_typed_stays():
    assert restore_formula("'张三") == "'张三"


def test_the_points_export_is_neutralised_and_round_trips(tmp_path):
    evil = '=HYPERLINK("http://evil.example","点我")'
    source = write_csv(tmp_path / "in.csv", [GOOD_ROWS[0][:1] + [evil] + GOOD_ROWS[0][2:]], "utf-8")
    points = read_points_file(source).points
    assert [p.name for p in points] == [evil]
    exported = tmp_path / "out.csv"
    write_points_csv(points, exported)
    rows = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    assert rows[1][1] == "'" + evil
    assert [p.name for p in read_points_file(exported).points] == [evil]


def test_every_csv_export_in_the_code_goes_through_the_one_safe_writer():
    """Only bot/services/csv_safety.py builds a csv.writer; every export uses its SafeCsvWriter."""
    home = PROJECT_ROOT / "bot" / "services" / "csv_safety.py"
    sources = {p: p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "bot").rglob("*.py")}
    assert [p for p, text in sources.items() if "csv.writer(" in text] == [home]
    assert len([p for p, text in sources.items() if "SafeCsvWriter(" in text and p != home]) >= 3
