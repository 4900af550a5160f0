"""青年求职能力实训营 (issue 7) through the whole stack: gateway, trained Rasa, action server.

Information from the cohort file, a full enrolment conversation, a refused duplicate, "报名"
after a real campaign push (campaign → worker → push → fake WeChat API → this user), 退订, and
"我35了还能报吗" answered from the eligibility rules before any personal data is asked.
"""
from __future__ import annotations

import random
import re
import uuid
from datetime import date

import pytest

from bot.services.camp import EnrollmentStore, last_pushed_cohort, load_catalogue
from bot.services.campaigns.store import CampaignStore, Segment
from bot.services.eligibility import check_eligibility, load_rules
from bot.services.push import PushPreferences

pytestmark = pytest.mark.stack

# The stack reads the shipped sample cohorts, which move with the calendar (data/camp_cohorts.yml:
# `sample: true`); the tests read the same file, as of the same day, through the settings.
CITY, COHORT_ID = "潍坊", "wf-2027-01"
# Graduated last summer, whatever the year the suite runs in: a 离校未就业毕业生 every cohort takes.
LAST_YEAR = str(date.today().year - 1)


def current_catalogue(settings):
    return load_catalogue(settings.camp_cohorts_file, date.today())


def random_phone() -> str:
    return "139" + "".join(random.choice("0123456789") for _ in range(8))


async def enrol(user, phone: str) -> str:
    """The whole enrolment form; returns the confirmation reply."""
    reply = await user.say("我想报名实训营")
    assert "姓名" in reply, user.transcript
    assert "档案" in reply  # the one-line consent notice
    assert "手机号" in await user.say("张晓明")
    reply = await user.say(phone)
    assert "1. 在校生" in reply and "3. 离校未就业毕业生" in reply, user.transcript
    assert "毕业" in await user.say("3"), user.transcript
    assert "学校" in await user.say(LAST_YEAR), user.transcript
    assert "专业" in await user.say("山东理工大学"), user.transcript
    assert "城市" in await user.say("计算机科学与技术"), user.transcript
    reply = await user.say(CITY)
    assert "请选择期次" in reply, user.transcript
    first = reply.splitlines()[1]
    assert first.startswith("1. ") and "潍坊" in first, reply
    return await user.say("1")


async def test_camp_information_comes_from_the_cohort_data(chat):
    user = chat()
    reply = await user.say("实训营是什么")
    catalogue = current_catalogue(user.services.settings)
    assert catalogue.name in reply and catalogue.summary in reply, user.transcript
    # every cohort still taking enrolments, with its dates and place, from data/camp_cohorts.yml
    for cohort in catalogue.open_cohorts(date.today()):
        assert cohort.label in reply, (cohort.id, reply)
    assert "免费" in reply and "招收对象" in reply, reply
    assert "抱歉" not in reply

    # with the city known (the profile), the details of that city's cohort: venue, schedule
    await user.services.profiles.update(user.openid, {"city": CITY})
    reply = await user.say("实训营在哪里上课")
    cohort = catalogue.get(COHORT_ID)
    assert cohort.venue in reply and cohort.contact in reply, user.transcript


async def test_full_enrolment_then_duplicate_refused(chat):
    user = chat()
    phone = random_phone()
    confirmation = await enrol(user, phone)
    assert "报名成功" in confirmation, user.transcript
    code = re.search(r"报名编号：(\w+)", confirmation).group(1)
    assert code.startswith("WF")

    store = EnrollmentStore(user.services.redis, user.services.settings)
    record = await store.find(user.openid, COHORT_ID)
    assert record is not None and record["code"] == code
    assert record["phone"] == phone and record["name"] == "张晓明"
    assert record["identity"] == "离校未就业毕业生" and record["graduation_year"] == LAST_YEAR
    assert record["school"] == "山东理工大学" and record["city"] == CITY

    profile = await user.services.profiles.get(user.openid)
    assert profile["name"] == "张晓明" and profile["phone"] == phone
    assert profile["identity"] == "离校未就业毕业生" and profile["major"] == "计算机科学与技术"
    assert profile.get("consent_at")

    # Again: the profile prefills everything, and the cohort joined is no longer offered.
    reply = await user.say("我要报名实训营")
    assert "已为您带入" in reply and "张晓明" in reply, user.transcript
    # the facts were given in this conversation's first enrolment: neither asked nor shown back again
    assert "姓名" not in reply and "身份" not in reply and "对吗" not in reply, user.transcript
    # the list says what is held, then offers only the others
    joined = current_catalogue(user.services.settings).get(COHORT_ID)
    held, _, offered = reply.partition("回复序号")
    assert offered and f"您已报名{joined.title}" in held, user.transcript
    assert joined.label not in offered, reply
    assert "已退出" in await user.say("取消"), user.transcript
    assert await store.find(user.openid, COHORT_ID) == record

    # The same phone from another WeChat account is refused too.
    other = chat()
    reply = await enrol(other, phone)
    assert "同一手机号每期只能报名一次" in reply, other.transcript
    assert await store.find(other.openid, COHORT_ID) is None


async def test_enrol_reply_after_a_campaign_push_prefills_the_cohort(no_quiet_hours, chat):
    user = chat()
    services = user.services
    tag = "camp-test-" + uuid.uuid4().hex[:8]  # the segment selects only this test's user
    await services.profiles.update(
        user.openid,
        {"identity": "离校未就业毕业生", "graduation_year": LAST_YEAR, "city": CITY, "tags": tag},
    )
    await user.say("你好")  # opens the 48-hour customer-service window

    campaign = await CampaignStore(services.redis, services.settings).create(
        COHORT_ID, Segment(tags=(tag,)), "潍坊青年求职能力实训营开始报名啦！回复“报名”即可报名。"
    )
    outcome = await services.campaigns.run(campaign.id)
    assert outcome.status == "done" and outcome.sent == 1, outcome
    assert any("回复“报名”" in text for text in await user.pushed())
    assert await last_pushed_cohort(services.redis, services.settings, user.openid) == COHORT_ID
    report = await services.campaigns.store.report(campaign.id)
    assert report.sent == 1 and report.failed_total == 0

    reply = await user.say("报名")
    cohort = current_catalogue(services.settings).get(COHORT_ID)
    assert f"为您报名{cohort.label}" in reply, user.transcript
    # the profile's facts are shown back once (actions/profile_confirm.py), not asked
    assert f"您是{LAST_YEAR}届离校未就业毕业生" in reply and "对吗" in reply, user.transcript
    assert "姓名" in await user.say("对"), user.transcript
    await user.say("李红")
    assert "学校" in await user.say(random_phone()), user.transcript  # identity, year, city known
    await user.say("青岛大学")
    reply = await user.say("汉语言文学")
    # the cohort came from the push: no cohort question, straight to the confirmation
    assert "报名成功" in reply and "请选择期次" not in reply, user.transcript
    record = await EnrollmentStore(services.redis, services.settings).find(user.openid, COHORT_ID)
    assert record and record["name"] == "李红"


async def test_unsubscribe_opts_out_and_a_later_campaign_skips_the_user(no_quiet_hours, chat):
    user = chat()
    services = user.services
    tag = "camp-test-" + uuid.uuid4().hex[:8]
    await services.profiles.update(
        user.openid,
        {"identity": "离校未就业毕业生", "graduation_year": LAST_YEAR, "city": CITY, "tags": tag},
    )
    await user.say("你好")
    reply = await user.say("退订")
    assert "已为您退订" in reply, user.transcript
    assert await PushPreferences(services.redis, services.settings).is_opted_out(user.openid)

    campaign = await CampaignStore(services.redis, services.settings).create(
        COHORT_ID, Segment(tags=(tag,), eligible_only=False), "实训营开始报名啦！回复“报名”即可报名。"
    )
    outcome = await services.campaigns.run(campaign.id)
    assert outcome.status == "done" and outcome.sent == 0
    report = await services.campaigns.store.report(campaign.id)
    assert report.sent == 0 and report.skipped_total == 1, report
    assert "opted_out" in " ".join(report.skipped), report
    assert await user.pushed() == []


async def test_my_enrolments_listed_and_cancelled_by_number_promote_the_waitlist(chat):
    user = chat()
    confirmation = await enrol(user, random_phone())
    code = re.search(r"报名编号：(\w+)", confirmation).group(1)
    store = user.services.enrolments
    cohort = current_catalogue(user.services.settings).get(COHORT_ID)
    # the other seats go to others; one more applicant waits for a seat
    for _ in range(cohort.capacity - (await store.counts(COHORT_ID))["enrolled"]):
        assert (await store.enroll("o" + uuid.uuid4().hex[:20], cohort, {"phone": random_phone()})).status == "enrolled"
    waiting_openid = "o" + uuid.uuid4().hex[:20]
    waiting = await store.enroll(waiting_openid, cohort, {"phone": random_phone()})
    assert waiting.status == "waitlisted"

    reply = await user.say("我的报名")
    assert "1. 【实训营】" in reply and cohort.label in reply and code in reply, user.transcript
    reply = await user.say("取消报名")
    assert "1. 【实训营】" in reply and code in reply, user.transcript
    reply = await user.say("1")
    assert "已取消实训营报名" in reply and code in reply, user.transcript
    assert await store.find(user.openid, COHORT_ID) is None
    assert (await store.find(waiting_openid, COHORT_ID))["status"] == "enrolled"
    assert "没有预约或实训营报名" in await user.say("我的报名"), user.transcript


def _said_yes(line: str, title: str) -> bool:
    """Whether a per-group line of an eligibility answer puts `title` among the cohorts that take."""
    return re.search(rf"(各期|{re.escape(title)}[^；]*)可报", line) is not None


async def test_may_i_join_is_answered_before_any_personal_data(chat):
    """Asked as users ask, with an age and nothing else: a direct answer with the reason, no form."""
    user = chat()
    settings, today, rules = user.services.settings, date.today(), load_rules()
    cohorts = current_catalogue(settings).open_cohorts(today)
    youth = next(g for g in rules.groups.values() if g.max_age is not None)
    at_35 = [c for c in cohorts if check_eligibility({"identity": youth.identities[0], "age": 35}, c, today).eligible]
    anyone_at_35 = any(
        check_eligibility({"identity": i, "age": 35, "graduation_year": y}, c, today).eligible
        for i in rules.identities for y in range(today.year - 3, today.year + 2) for c in cohorts
    )

    reply = await user.say("俺35了还能报实训营不")
    head = reply.splitlines()[0]
    assert head.startswith("按您的情况（35岁）："), user.transcript
    assert ("能报" in head and "暂不能" not in head) == anyone_at_35, user.transcript
    line = next(l for l in reply.splitlines() if l.startswith(f"· {youth.label}："))
    assert [c.id for c in cohorts if _said_yes(line, c.title)] == [c.id for c in at_35], line
    assert "姓名" not in reply and "手机" not in reply and "档案" not in reply, user.transcript
    assert "name" not in await user.services.profiles.get(user.openid)

    # the identity given next completes the age said before: yes or no for each cohort, and why
    reply = await user.say("我是失业青年")
    assert ("可以报名" in reply) == bool(at_35), user.transcript
    assert all(c.title in reply for c in at_35), user.transcript

    # and "报名" then asks neither again, nor shows back what the answer just said: after the
    # name and the number, the city
    reply = await user.say("报名")
    assert "姓名" in reply and "对吗" not in reply, user.transcript
    assert "手机号" in await user.say("张晓明"), user.transcript
    reply = await user.say(random_phone())
    assert "城市" in reply and "身份" not in reply and "周岁" not in reply, user.transcript
    assert "确定放弃吗" in await user.say("取消"), user.transcript  # answers were given
    assert "已退出" in await user.say("放弃"), user.transcript


async def test_a_graduate_asking_in_passing_gets_yes_or_no_with_the_reason(chat):
    user = chat()
    today = date.today()
    cohorts = current_catalogue(user.services.settings).open_cohorts(today)
    graduate = {"identity": "离校未就业毕业生", "graduation_year": today.year - 2, "education": "大专"}
    taking = [c for c in cohorts if check_eligibility(graduate, c, today).eligible]
    reply = await user.say("大专毕业两年了能参加实训营不")
    assert reply.startswith(f"按您的情况（大专、{today.year - 2}年毕业）："), user.transcript
    assert ("可以报名" in reply) == bool(taking) and "前提是您目前未就业" in reply, user.transcript
    assert "姓名" not in reply and "手机" not in reply, user.transcript

    other = chat()
    reply = await other.say("我在职，能报实训营吗")
    assert "暂不能报名" in reply and "不在招收范围" in reply and "转人工" in reply, other.transcript
