"""The expert-pool staff CLI: import validates all or nothing and creates the consultation slots;
export round-trips as CSV and XLSX."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from bot.cli.experts import main
from bot.clock import SHANGHAI, FrozenClock, system_clock
from bot.services.experts.files import EXPORT_HEADERS, SAMPLE_FILE, read_experts_file


def _run(capsys, *argv: str, clock=system_clock):
    code = main(list(argv), clock=clock)
    out = capsys.readouterr()
    return code, out.out.strip(), out.err.strip()


def _row(expert_id: str, patterns: str) -> str:
    return f"{expert_id},测试老师{expert_id},市级,烟台,,金融,简历,简介,{patterns},线下,测试地点,是,否"


def _file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "experts.csv"
    path.write_text("\n".join([",".join(EXPORT_HEADERS), *rows]), encoding="utf-8")
    return path


def _coming_monday_noon() -> datetime:
    today = system_clock().date()
    return datetime.combine(today + timedelta(days=7 - today.weekday()), time(12), SHANGHAI)


def test_import_then_export_round_trip(settings, capsys, tmp_path):
    clock = FrozenClock(_coming_monday_noon())
    code, out, _ = _run(capsys, "import", str(_file(tmp_path, _row("y1", "周一 09:00-09:45"))), clock=clock)
    # one session a week in the 4 weeks from today: today's 09:00 has passed at noon, 3 Mondays are left
    assert code == 0 and out == "导入完成（utf-8）：1 位专家，新增 1，更新 0；新建咨询时段 3 个。", out
    assert _run(capsys, "import", str(SAMPLE_FILE), clock=clock)[0] == 0
    for suffix in ("xlsx", "csv"):
        exported = tmp_path / f"out.{suffix}"
        code, out, _ = _run(capsys, "export", str(exported), clock=clock)
        assert code == 0 and out == f"已导出 {len(read_experts_file(SAMPLE_FILE).experts) + 1} 位专家到 {exported}"
        assert {e.id for e in read_experts_file(exported).experts} == {e.id for e in read_experts_file(SAMPLE_FILE).experts} | {"y1"}


def test_a_bad_file_is_rejected_whole_with_row_numbers(settings, capsys, tmp_path):
    path = _file(tmp_path, _row("ok", "周一 09:00-09:45"), _row("bad", "每周一上午"))
    code, out, err = _run(capsys, "import", str(path))
    assert code == 1 and "第3行【咨询时间】" in err and "未导入任何数据" in err
    code, out, _ = _run(capsys, "export", str(tmp_path / "empty.csv"))
    assert (code, out) == (0, f"已导出 0 位专家到 {tmp_path / 'empty.csv'}")


def test_a_missing_file_gets_exit_code_2(settings, capsys, tmp_path):
    assert _run(capsys, "import", str(tmp_path / "nope.csv"))[0] == 2
