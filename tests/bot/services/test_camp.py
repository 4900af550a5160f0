"""Cohorts, camp information and enrolment on real Redis."""
from __future__ import annotations

import asyncio
import csv
import io
import re
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
import yaml

from bot.clock import SHANGHAI, FrozenClock
from bot.services.eligibility import check_eligibility, load_rules
from bot.settings import DEFAULT_CAMP_COHORTS_FILE, PROJECT_ROOT, load_settings
from bot.services.camp import (
    MORE_COHORTS,
    EnrollmentStore,
    camp_info_text,
    load_catalogue,
)

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)


def sample_catalogue():
    """The shipped sample as of NOW: its dates as written (its earliest deadline is still ahead)."""
    return load_catalogue(DEFAULT_CAMP_COHORTS_FILE, NOW.date())


def test_sample_cohorts_cover_several_cities_and_all_fields():
    catalogue = sample_catalogue()
    assert len(catalogue.cities()) >= 4
    assert any(c.online for c in catalogue.cohorts)
    for c in catalogue.cohorts:
        assert c.fee == "免费" and c.capacity > 0 and c.certificate and c.contact
        assert c.start <= c.end and c.enroll_deadline <= c.start


@pytest.mark.parametrize("city", [None, "济南", "青岛", "临沂", "日照", "菏泽"])
def test_info_text_fits_wechat_and_is_local(city):
    catalogue = sample_catalogue()
    text = camp_info_text(catalogue, NOW.date(), city)
    assert len(text.encode("utf-8")) <= 2048
    for word in ("免费", "证书", "招收对象", "失业青年"):
        assert word in text
    if city == "济南":
        assert "泺源大街" in text and "延安三路" not in text  # Jinan's venue, not Qingdao's
        assert "线上第4期" in text
    if city == "日照":  # no local cohort: offered the online one
        assert "暂无线下期次" in text and "线上第4期" in text


def test_info_text_trims_long_catalogues_on_a_line_boundary():
    catalogue = sample_catalogue()
    many = replace(catalogue, cohorts=[replace(c, id=f"{c.id}-{i}") for i in range(20) for c in catalogue.cohorts])
    text = camp_info_text(many, NOW.date(), "济南")
    assert len(text.encode("utf-8")) <= 2048 and text.endswith(MORE_COHORTS)


def test_closed_cohorts_are_not_offered():
    catalogue = sample_catalogue()
    after = date(2026, 12, 11)  # Linyi (12-03) and Jinan (12-10) closed
    ids = {c.id for c in catalogue.open_cohorts(after)}
    assert "ly-2026-12" not in ids and "jn-2026-12" not in ids and "online-2026-12" in ids


async def test_duplicate_by_openid_or_phone_refused(redis, settings):
    store = EnrollmentStore(redis, settings, FrozenClock(NOW))
    cohort = sample_catalogue().get("jn-2026-12")
    first = await store.enroll("o-a", cohort, {"name": "张三", "phone": "13800138000"})
    assert first.status == "enrolled" and first.code.startswith("JN")
    again = await store.enroll("o-a", cohort, {"name": "张三", "phone": "13900139000"})
    assert (again.status, again.code) == ("duplicate_openid", first.code)
    by_phone = await store.enroll("o-b", cohort, {"name": "李四", "phone": "+86 138 0013 8000"})
    assert (by_phone.status, by_phone.code) == ("duplicate_phone", first.code)
    # another cohort is fine for the same person
    other = await store.enroll("o-a", sample_catalogue().get("online-2026-12"), {"name": "张三", "phone": "13800138000"})
    assert other.status == "enrolled"
    assert (await store.counts("jn-2026-12")) == {"enrolled": 1, "waitlisted": 0}


async def test_closed_cohort_refused(redis, settings):
    store = EnrollmentStore(redis, settings, FrozenClock(datetime(2026, 12, 11, 9, tzinfo=SHANGHAI)))
    result = await store.enroll("o-a", sample_catalogue().get("jn-2026-12"), {"phone": "13800138000"})
    assert result.status == "closed"


async def test_capacity_is_atomic_with_waitlist_and_promotion(redis, settings):
    store = EnrollmentStore(redis, settings, FrozenClock(NOW))
    cohort = replace(sample_catalogue().get("yt-2027-01"), capacity=10)
    results = await asyncio.gather(
        *(store.enroll(f"o-{i}", cohort, {"name": "王五", "phone": f"1390000{i:04d}"}) for i in range(60))
    )
    enrolled = [r for r in results if r.status == "enrolled"]
    waitlisted = sorted(r.position for r in results if r.status == "waitlisted")
    assert len(enrolled) == 10 and sorted(r.position for r in enrolled) == list(range(1, 11))
    assert waitlisted == list(range(1, 51))
    assert len({r.code for r in results}) == 60
    # a cancelled seat goes to the head of the waitlist
    head = next(r for r in results if r.status == "waitlisted" and r.position == 1)
    cancelled_openid = next(f"o-{i}" for i, r in enumerate(results) if r.status == "enrolled")
    promoted = await store.cancel(cancelled_openid, cohort.id)
    assert promoted == head.code
    assert (await store.counts(cohort.id)) == {"enrolled": 10, "waitlisted": 49}
    # the cancelled person may enrol again (goes to the back of the waitlist)
    back = await store.enroll(cancelled_openid, cohort, {"phone": "13911112222"})
    assert back.status == "waitlisted" and back.position == 50


async def test_export_csv_has_bom_and_all_enrolments(redis, settings):
    store = EnrollmentStore(redis, settings, FrozenClock(NOW))
    cohort = replace(sample_catalogue().get("wf-2027-01"), capacity=1)
    await store.enroll("o-1", cohort, {"name": "赵六", "phone": "13700000001", "school": "山东大学", "major": "=cmd"})
    await store.enroll("o-2", cohort, {"name": "钱七", "phone": "13700000002", "identity": "失业青年", "age": "22"})
    data = await store.export_csv(cohort.id)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["报名编号", "状态", "候补顺位", "姓名"]
    body = {r[3]: r for r in rows[1:]}
    assert body["赵六"][1] == "已录取" and body["钱七"][1] == "候补" and body["钱七"][2] == "1"
    assert body["赵六"][9] == "'=cmd"  # no spreadsheet formula injection


def test_the_cohorts_file_comes_from_the_settings(tmp_path, monkeypatch):
    real = tmp_path / "cohorts.yml"
    raw = yaml.safe_load(DEFAULT_CAMP_COHORTS_FILE.read_text(encoding="utf-8"))
    raw.pop("sample")
    real.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("CAMP_COHORTS_FILE", str(real))
    catalogue = load_catalogue(load_settings().camp_cohorts_file, NOW.date())
    assert catalogue is load_catalogue(real, NOW.date())
    assert [c.id for c in catalogue.cohorts] == [c.id for c in sample_catalogue().cohorts]
    monkeypatch.delenv("CAMP_COHORTS_FILE")
    assert load_catalogue(load_settings().camp_cohorts_file, NOW.date()) is sample_catalogue()


@pytest.mark.parametrize("days_later", [0, 6, 7, 30, 365, 3 * 365 + 17])
def test_sample_cohorts_move_with_the_calendar_and_real_ones_do_not(tmp_path, days_later):
    """The shipped sample never runs out of open cohorts (make run in any year), keeps its weekdays,
    lengths and order, and stays put for a week at a time; a file without `sample: true` is used as
    written, so real cohorts close when their deadline passes."""
    written = sample_catalogue()
    first = min(written.cohorts, key=lambda c: c.enroll_deadline)
    today = first.enroll_deadline + timedelta(days=days_later)
    moved = load_catalogue(DEFAULT_CAMP_COHORTS_FILE, today)
    assert [c.id for c in moved.cohorts] == [c.id for c in written.cohorts]
    assert moved.open_cohorts(today), today
    assert min(c.enroll_deadline for c in moved.cohorts) >= today
    assert min(c.enroll_deadline for c in moved.cohorts) < today + timedelta(days=7)
    for old, new in zip(written.cohorts, moved.cohorts):
        shift = new.start - old.start
        assert shift.days % 7 == 0 and shift.days >= 0
        assert (new.end - old.end, new.enroll_deadline - old.enroll_deadline) == (shift, shift)
    assert load_catalogue(DEFAULT_CAMP_COHORTS_FILE, today + timedelta(days=1)).cohorts[0].start in (
        moved.cohorts[0].start, moved.cohorts[0].start + timedelta(weeks=1)
    )

    raw = yaml.safe_load(DEFAULT_CAMP_COHORTS_FILE.read_text(encoding="utf-8"))
    raw.pop("sample")
    real = tmp_path / "real.yml"
    real.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    as_written = load_catalogue(real, today)
    assert [c.start for c in as_written.cohorts] == [c.start for c in written.cohorts]
    if days_later > 0:
        assert first.id not in {c.id for c in as_written.open_cohorts(today)}


# -- the camp text and the eligibility rules cannot disagree ---------------------------------------


def _audiences_in_text(text: str, cohorts) -> dict:
    """Cohort id -> the "who may join" text the camp information gives for it."""
    single = re.search(r"招收对象：(.+)。", text)
    if single:
        return {c.id: single.group(1) for c in cohorts}
    found = {}
    for line in text.split("招收对象（各期不同）：\n", 1)[1].splitlines():
        if not line.startswith("· "):
            break
        titles, who = line[2:].split("：", 1)
        found.update({c.id: who for c in cohorts if c.title in titles.split("、")})
    return found


def _probe_identity(rules, group):
    """An identity only this group takes: whether it gets in tells about this group alone."""
    return next(i for i in group.identities if [g.key for g in rules.groups.values() if i in g.identities] == [group.key])


def _stated_limits(who: str, label: str):
    """What the text says of one target group: None when not named, else the limit in words."""
    match = re.search(rf"{re.escape(label)}（([^）]*)）", who)
    return match.group(1) if match else None


@pytest.mark.parametrize("days", [0, 100, 200, 300])
@pytest.mark.parametrize("city", [None, "青岛", "潍坊", "菏泽"])
def test_camp_text_and_eligibility_rules_agree_for_every_cohort(days, city):
    """The ages, graduation windows and target groups the camp text states for each cohort are the
    ones `check_eligibility` applies: probed with one applicant per group, age and year."""
    today = date.today() + timedelta(days=days)
    rules = load_rules()
    catalogue = load_catalogue(DEFAULT_CAMP_COHORTS_FILE, today)
    cohorts = catalogue.open_cohorts(today, city)
    text = camp_info_text(catalogue, today, city)
    audiences = _audiences_in_text(text, cohorts)
    assert set(audiences) == {c.id for c in cohorts}, text
    for cohort in cohorts:
        for group in rules.groups.values():
            stated = _stated_limits(audiences[cohort.id], group.label)
            identity = _probe_identity(rules, group)

            def admits(**facts) -> bool:
                return check_eligibility({"identity": identity, **facts}, cohort, today, rules=rules).eligible

            if stated is None:  # not named: nobody of this group gets in
                assert not any(admits(age=a, graduation_year=y) for a in (18, 22) for y in range(today.year - 3, today.year + 3))
            elif m := re.fullmatch(r"(\d+)–(\d+)周岁", stated):
                low, high = int(m.group(1)), int(m.group(2))
                assert [a for a in range(10, 61) if admits(age=a)] == list(range(low, high + 1)), (cohort.id, stated)
            elif m := re.fullmatch(r"毕业(\d+)年内", stated):
                years = int(m.group(1))
                past = range(today.year - 10, today.year)  # surely left school
                assert [y for y in past if admits(graduation_year=y)] == [y for y in past if today.year - y <= years]
            elif m := re.fullmatch(r"(\d{4})年毕业", stated):
                years = range(today.year - 3, today.year + 5)
                assert [y for y in years if admits(graduation_year=y)] == [int(m.group(1))], (cohort.id, stated)
            else:
                pytest.fail(f"unreadable limit {stated!r} for {group.label}")
    # no other age or window anywhere in the camp text (the summary, the cohort details)
    labels = [g.label for g in rules.groups.values()]
    audience_lines = [l for l in text.splitlines() if l.startswith("招收对象") or any(f"：{x}" in l for x in labels)]
    outside = "\n".join(l for l in text.splitlines() if l not in audience_lines)
    assert not re.search(r"\d+\s*周?岁|毕业\d+年", outside), outside


def test_camp_texts_in_the_domain_state_no_limits():
    """The domain's camp responses leave ages and windows to the generated text."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    camp = [r[0]["text"] for name, r in domain["responses"].items() if "camp" in name]
    assert camp and not [t for t in camp if re.search(r"\d+\s*周?岁|毕业\d+年内", t)]
    raw = yaml.safe_load(DEFAULT_CAMP_COHORTS_FILE.read_text(encoding="utf-8"))
    assert not re.search(r"\d+\s*周?岁|毕业\d+年", raw["camp"]["summary"])
