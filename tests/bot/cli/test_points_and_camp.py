"""The service-point and camp staff CLIs on the test's Redis (through bot/cli/redis_run.py): points
import all or nothing, load the sample, count and export; a cohort's enrolments export as CSV."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import bot.cli.camp
import bot.cli.points
from bot.cli.redis_run import run_with_redis
from bot.clock import SHANGHAI, FrozenClock
from bot.services.camp import EnrollmentStore, load_catalogue
from bot.services.points.files import EXPORT_HEADERS, SAMPLE_FILE, read_points_file
from bot.settings import DEFAULT_CAMP_COHORTS_FILE

SAMPLE = read_points_file(SAMPLE_FILE).points


def _run(capsys, main, *argv: str):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out.strip(), out.err.strip()


def test_points_load_sample_stats_and_export_round_trip(settings, capsys, tmp_path):
    code, out, _ = _run(capsys, bot.cli.points.main, "load-sample")
    assert (code, out) == (0, f"导入完成（utf-8-sig）：{len(SAMPLE)} 条，新增 {len(SAMPLE)}，更新 0。")
    code, out, _ = _run(capsys, bot.cli.points.main, "stats")
    assert code == 0 and "济南市\t" in out and "青岛市\t" in out
    exported = tmp_path / "points.csv"
    code, out, _ = _run(capsys, bot.cli.points.main, "export", str(exported))
    assert code == 0 and out.startswith("已导出 ")
    assert {p.id for p in read_points_file(exported).points} == {p.id for p in SAMPLE}
    assert _run(capsys, bot.cli.points.main, "import", str(exported))[:2] == (
        0, f"导入完成（utf-8-sig）：{len(SAMPLE)} 条，新增 0，更新 {len(SAMPLE)}。"
    )


def test_a_bad_points_file_writes_nothing(settings, capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(",".join(EXPORT_HEADERS) + "\nX-1,某驿站,社区就业驿站,南京,,某路1号,abc,117.0,,,,,是,否,\n",
                    encoding="utf-8")
    code, _, err = _run(capsys, bot.cli.points.main, "import", str(path))
    assert code == 1 and "第2行" in err and "未导入任何数据" in err
    assert _run(capsys, bot.cli.points.main, "import", str(tmp_path / "absent.csv"))[0] == 2
    code, out, _ = _run(capsys, bot.cli.points.main, "stats")
    assert code == 0 and "济南市\t0" in out and all(line.endswith("\t0") for line in out.split("\n") if line)


def test_camp_export_writes_the_cohorts_enrolments(settings, capsys, tmp_path):
    now = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)  # the sample's dates as written, via FrozenClock
    cohort = replace(load_catalogue(DEFAULT_CAMP_COHORTS_FILE, now.date()).get("wf-2027-01"), capacity=5)

    async def enrol(redis, settings):
        await EnrollmentStore(redis, settings, FrozenClock(now)).enroll("o-cli", cohort, {"name": "孙八", "phone": "13700000008"})

    run_with_redis(enrol)
    path = tmp_path / "cohort.csv"
    code, out, _ = _run(capsys, bot.cli.camp.main, "export", cohort.id, str(path))
    assert (code, out) == (0, f"wrote {path}")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and "孙八" in path.read_text(encoding="utf-8-sig")
