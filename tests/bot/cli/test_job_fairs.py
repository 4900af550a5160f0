"""The job-fair staff CLI: import validates all or nothing, export round-trips, list shows upcoming fairs."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.cli.job_fairs import main
from bot.clock import FrozenClock, system_clock
from bot.services.job_fairs.files import EXPORT_HEADERS, SAMPLE_FILE, read_fairs_file


def _run(capsys, *argv: str, clock=system_clock):
    code = main(list(argv), clock=clock)
    out = capsys.readouterr()
    return code, out.out.strip(), out.err.strip()


def _fair_row(fair_id: str, start: str, end: str) -> str:
    return f"{fair_id},测试招聘会{fair_id},线下招聘会,青岛,市南区,测试场馆,{start},{end},不限,测试中心,免费入场,,,是,否"


def test_import_list_export_round_trip(settings, capsys, tmp_path):
    clock = FrozenClock(system_clock())
    start = clock() + timedelta(days=2)
    fmt = "%Y-%m-%d %H:%M"
    path = tmp_path / "fairs.csv"
    path.write_text("\n".join([",".join(EXPORT_HEADERS),
                               _fair_row("q1", start.strftime(fmt), (start + timedelta(hours=3)).strftime(fmt))]),
                    encoding="utf-8")
    assert _run(capsys, "import", str(path), clock=clock)[:2] == (0, "导入完成（utf-8）：1 场，新增 1，更新 0。")
    code, out, err = _run(capsys, "list", "--city", "青岛", clock=clock)
    assert code == 0 and out.startswith("q1\t") and "测试招聘会q1" in out and err == "共 1 场"
    assert _run(capsys, "import", str(SAMPLE_FILE), clock=clock)[0] == 0
    exported = tmp_path / "out.xlsx"
    code, out, _ = _run(capsys, "export", str(exported), clock=clock)
    assert code == 0 and out == f"已导出 {len(read_fairs_file(SAMPLE_FILE).fairs) + 1} 场到 {exported}"
    assert {f.id for f in read_fairs_file(exported).fairs} == {f.id for f in read_fairs_file(SAMPLE_FILE).fairs} | {"q1"}


def test_a_bad_file_is_rejected_whole_with_row_numbers(settings, capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([",".join(EXPORT_HEADERS), _fair_row("ok", "2030-05-20 09:00", "2030-05-20 12:00"),
                               _fair_row("bad", "明天上午", "2030-05-20 12:00")]), encoding="utf-8")
    code, out, err = _run(capsys, "import", str(path))
    assert code == 1 and "第3行【开始时间】" in err and "未导入任何数据" in err
    code, out, err = _run(capsys, "list", "--days", "3650")
    assert (code, out, err) == (0, "", "共 0 场")


def test_mistakes_get_exit_code_2(settings, capsys, tmp_path):
    assert _run(capsys, "import", str(tmp_path / "absent.csv"))[0] == 2
    code, _, err = _run(capsys, "list", "--city", "南京")
    assert code == 2 and "不是山东省的地级市" in err
    assert _run(capsys, "list", "--days", "0")[0] == 2
    assert _run(capsys, "export", str(tmp_path / "no-such-dir" / "x.csv"))[0] == 2
