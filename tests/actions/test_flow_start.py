"""A message NLU could not place that names a flow starts that flow (actions/flow_start.py), from
the fallback and from the knowledge answer; one that names none is answered as before."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionCoreFallback
from actions.flow_start import as_meant, enrol_camp_named_before, named_flow
from actions.service_points import ActionFindServicePoint
from tests.helpers.action_tracker import bot_said, make_tracker


@pytest.mark.parametrize("text, start", [
    ("我今年22，高中毕业后一直打零工，现在没活干了，想参加实训营", "action_camp_enroll_start"),
    ("俺是去年毕业的，实训营报个名", "action_camp_enroll_start"),
    ("我在青岛理工读书，大四了，报个实训营", "action_camp_enroll_start"),
    ("我大专毕业在家待着，想约个老师做职业规划指导", "workshop_booking_form"),
    ("我前年中专毕业的，一直没找着活，想约一下职业规划", "workshop_booking_form"),
    ("我之前报了几期来着", "action_my_bookings"),
    ("我前年毕业的一直没找着工作，你们那个实训营我能报不", "action_camp_info"),  # may I? before enrolling
    ("我现在上着班呢，实训营让参加吗", "action_camp_info"),
    ("我这情况能报实训营吗", "action_camp_info"),
    ("俺前年毕业的 一直闲着 听人说有个训练营 俺想报", "action_camp_enroll_start"),  # the wish after the name
    ("最近老失眠 工作也没着落 想找个老师谈谈面试的事", "workshop_booking_form"),
    ("不想退了 还是订阅吧 有新课告诉俺", "action_subscribe"),
    ("实训营俺想报 能报不", "action_camp_info"),
    ("俺刚约的那个在哪能查到", "action_my_bookings"),
    ("有没有求职辅导啊 找个老师给俺看看 俺老是找不着活", "workshop_booking_form"),  # a teacher asked to look
    ("能不能找老师帮我瞅瞅 写的行不行", "workshop_booking_form"),
    ("俺想找老师瞅瞅简历中不中", "workshop_booking_form"),
    ("想找个老师陪我练一练面试 老是紧张", "workshop_booking_form"),  # someone to practise with
    ("能不能找老师帮俺练练面试 下周二有空", "workshop_booking_form"),
    ("恁这能约职业规化不 俺不知道学了这个专业以后干啥", "workshop_booking_form"),  # with a pinyin slip  # a wish that is a question: answered before enrolling  # the bot's own 回复“订阅” in other words
])
def test_a_wish_named_in_a_long_message_names_its_flow(text, start):
    assert named_flow(text, "nlu_fallback") == start


@pytest.mark.parametrize("text, intent", [
    ("实训营是干什么的", "nlu_fallback"),  # a question about the camp, not a wish to join
    ("失业金怎么领", "nlu_fallback"),
    ("想参加实训营", "enroll_camp"),  # NLU placed it: its own rule starts it
    ("实训营都教些啥，能学到东西不", "nlu_fallback"),  # about the camp, not whether one may join
    ("取消订阅", "nlu_fallback"),
    ("咋订阅啊？", "nlu_fallback"),
    ("老师给我看看成绩单咋弄", "nlu_fallback"),  # nobody is asked to look at the user's things
    ("模拟面试有啥用", "nlu_fallback"),  # a question about practising, nobody asked for
    ("面试前自己在家咋练练", "nlu_fallback"),
])
def test_no_flow_is_named_by_questions_or_messages_nlu_placed(text, intent):
    assert named_flow(text, intent) is None


async def test_the_fallback_starts_the_named_flow_and_keeps_the_turn():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("我22了，初中毕业，没活干，想去报名实训营试试", "nlu_fallback")
    events = await ActionCoreFallback().run(dispatcher, tracker, {})
    assert events == [{"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"}]
    assert dispatcher.messages == []


async def test_the_fallback_after_the_named_flow_ran_in_the_same_turn_adds_nothing():
    # "俺还是订阅吧 有新的告诉俺" unplaced: the knowledge answer started 订阅, then the policies guessed the fallback
    text = "俺还是订阅吧 有新的告诉俺"
    latest = {"text": text, "intent": {"name": "nlu_fallback"}, "entities": []}
    events = [{"event": "user", "text": text, "parse_data": latest},
              {"event": "action", "name": "action_knowledge_answer"}, {"event": "action", "name": "action_subscribe"}]
    tracker = Tracker("oTestUser0002", {}, latest, events, False, None, {}, "action_subscribe")
    dispatcher = CollectingDispatcher()
    assert await ActionCoreFallback().run(dispatcher, tracker, {}) == []
    assert dispatcher.messages == []


async def test_a_search_nlu_guessed_for_a_message_that_names_another_flow_starts_that_flow():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("你好，我是烟台大学的，明年毕业，人在烟台，想报名实训营", "find_service_point")
    events = await ActionFindServicePoint().run(dispatcher, tracker, {})
    assert events == [{"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"}]


@pytest.mark.parametrize("text, after, starts", [
    ("行，那给我报上", "action_camp_info", True),
    ("那就报一个吧", "action_camp_info", True),
    ("报线上的", "action_camp_info", True),  # a cohort chosen in words
    ("报线上的", "action_find_job", False),
    ("行，那给我报上", "action_find_job", False),  # no camp answer just before: nothing to say yes to
    ("报名要交钱吗", "action_camp_info", False),  # a question, not a yes
    ("不报了", "action_camp_info", False),
])
async def test_a_short_yes_to_enrol_after_the_camp_answer_starts_the_enrolment(text, after, starts):
    earlier = [{"event": "user", "text": "应届生能参加吗"}, {"event": "action", "name": after}, {"event": "action", "name": "action_listen"}]
    dispatcher = CollectingDispatcher()
    events = await ActionCoreFallback().run(dispatcher, make_tracker(text, "nlu_fallback", events=earlier), {})
    followup = {"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"}
    assert (followup in events) == starts


async def test_a_booking_started_from_an_unplaced_message_keeps_the_topic_it_names():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("我前年中专毕业的，一直没找着活，想约一下职业规划", "nlu_fallback")
    events = await ActionCoreFallback().run(dispatcher, tracker, {})
    assert events[0] == {"event": "slot", "timestamp": None, "name": "booking_topic", "value": "职业规划"}
    assert events[-1]["name"] == "workshop_booking_form"


@pytest.mark.parametrize("text, follows", [
    ("我都毕业3年了还行吗", True),
    ("那我25了能报不", True),
    ("我都毕业3年了", False),  # no question
    ("失业金咋领", False),  # no fact about the user
])
def test_a_question_about_oneself_right_after_the_camp_answer_is_about_the_camp(text, follows):
    from datetime import date

    from actions.flow_start import camp_follow_up
    from bot.services.eligibility import load_rules
    from bot.services.profile_facts import fact_entities
    from tests.helpers.action_tracker import bot_said

    found = fact_entities(text, date(2026, 12, 5), load_rules())
    after_camp = make_tracker(text, "nlu_fallback", entities=found, events=bot_said("action_camp_info", "实训营是干啥的"))
    events = camp_follow_up(after_camp)
    assert (events is not None and events[0]["name"] == "action_camp_info") == follows
    elsewhere = make_tracker(text, "nlu_fallback", entities=found, events=bot_said("action_find_service_point", "附近"))
    assert camp_follow_up(elsewhere) is None


def test_a_camp_wish_with_fillers_names_the_enrolment():
    text = "嗯 那个 我就是说 我今年二十二了 去年从青科大毕业的 一直没找着工作 那个实训营我想报一下"
    assert named_flow(text, "nlu_fallback") == "action_camp_enroll_start"


@pytest.mark.parametrize("text", ["俺给俺闺女报个实训营，她今年21，在菏泽，没上班", "帮我家孩子报个名", "行 那就给她报上 她叫王小雨"])
def test_an_enrolment_asked_for_someone_else_starts_the_enrolment(text):
    from actions.flow_start import asks_to_be_enrolled

    assert asks_to_be_enrolled(text)


def test_other_ways_asked_right_after_a_reply_that_listed_them_lists_them_again():
    from actions.flow_start import other_ways_again
    listed = "按您的情况（40岁）：暂不符合。\n如果不符合条件，也可以考虑：\n· 预约职业指导课\n· 空中课堂免费在线课程"
    earlier = [{"event": "bot", "text": listed}]
    asked = make_tracker("那俺还能干点啥呀", "nlu_fallback", events=earlier)
    assert other_ways_again(asked) == "您可以考虑这些：\n· 预约职业指导课\n· 空中课堂免费在线课程"
    assert other_ways_again(make_tracker("那俺还能干点啥呀", "nlu_fallback")) is None  # nothing listed before
    assert other_ways_again(make_tracker("失业金咋领", "nlu_fallback", events=earlier)) is None


@pytest.mark.parametrize("typed, meant", [("俺下礼拜有个面适", "俺下礼拜有个面试"), ("帮俺瞅瞅简厉", "帮俺瞅瞅简历")])
def test_pinyin_slips_in_a_flow_word_are_read_as_meant(typed, meant):
    assert as_meant(typed) == meant


@pytest.mark.parametrize("text", [
    "我是山东大学威海校区大四的 明年夏天毕业 想参加求职能力实训营 有线上的吗",  # a wish asked as a question
    "俺是青岛理工大三的 能参加恁们那个求职能力实训营不",  # the camp's full name between
])
def test_a_camp_question_the_knowledge_base_cannot_place_gets_the_camp_answer(text):
    assert named_flow(text, "inform") == "action_camp_info"


@pytest.mark.parametrize("text", ["实训营这个咋报名啊 俺瞅瞅", "俺想上实训营 咋弄"])
def test_asking_how_to_join_the_camp_starts_the_enrolment(text):
    from actions.flow_start import asks_to_be_enrolled

    assert named_flow(text, "nlu_fallback") == "action_camp_enroll_start"
    assert asks_to_be_enrolled(text)


def test_what_one_can_learn_now_right_after_the_alternatives_lists_them_again():
    from actions.flow_start import other_ways_again
    listed = "按您的情况：很抱歉，暂不能报名。\n您可以考虑：\n· 空中课堂免费在线课程"
    asked = make_tracker("那俺现在能先学点啥", "ask_policy", events=[{"event": "bot", "text": listed}])
    assert other_ways_again(asked) == "您可以考虑这些：\n· 空中课堂免费在线课程"


@pytest.mark.parametrize("text, after, starts", [
    ("中 那俺给她报上 她叫刘欣怡 俺们在青岛", "action_camp_info", True),  # a sign-up with facts for the form
    ("中 那俺给她报上 她叫刘欣怡 俺们在青岛", "action_find_job", False),
    ("给我报上", "action_camp_enroll_start", True),
])
async def test_a_request_to_sign_up_after_the_camp_answer_starts_the_enrolment(text, after, starts):
    events = await ActionCoreFallback().run(CollectingDispatcher(), make_tracker(text, "nlu_fallback", events=bot_said(after)), {})
    followup = {"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"}
    assert (followup in events) == starts


async def test_a_sign_up_read_as_my_bookings_after_the_camp_answer_starts_the_enrolment(action_runtime):
    from actions.booking.manage import ActionMyBookings

    dispatcher = CollectingDispatcher()
    events = await ActionMyBookings().run(dispatcher, make_tracker("给我报上", "my_bookings", events=bot_said("action_camp_info")), {})
    assert events == [{"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"}]
    assert dispatcher.messages == []
    listed = await ActionMyBookings().run(CollectingDispatcher(), make_tracker("我的报名", "my_bookings", events=bot_said("action_camp_info")), {})
    assert {"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"} not in listed


def _after(user_said: str, bot_said: str, action: str = "action_core_fallback") -> list:
    return [{"event": "user", "text": user_said}, {"event": "action", "name": action},
            {"event": "bot", "text": bot_said}, {"event": "action", "name": "action_listen"}]


async def test_a_sign_up_for_her_right_after_the_camp_was_named_starts_the_enrolment():
    """"中 给她报上吧" after "俺闺女…听说恁这有个求职实训营": the camp is what she is to be signed up for."""
    earlier = _after("俺闺女在青岛科技大学上大四 听说恁这有个求职实训营", "好的，记下了（青岛市）")
    events = await ActionCoreFallback().run(CollectingDispatcher(), make_tracker("中 给她报上吧", "nlu_fallback", events=earlier), {})
    assert {"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"} in events
    unrelated = _after("附近有招聘会吗", "青岛市近30天招聘会共1场")
    assert enrol_camp_named_before(make_tracker("中 给她报上吧", "nlu_fallback", events=unrelated)) is None


@pytest.mark.parametrize("text", ["报线上的", "就报济南那期", "报线上那期吧"])
async def test_a_cohort_named_right_after_the_camp_answer_starts_the_enrolment(text):
    earlier = _after("俺大四了 有线上的吗", "按您的情况（在校生）：可以报名。\n回复“报名”即可报名实训营。", "action_camp_info")
    events = await ActionCoreFallback().run(CollectingDispatcher(), make_tracker(text, "nlu_fallback", events=earlier), {})
    assert {"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"} in events


async def test_a_fact_corrected_with_no_form_open_is_said_back_as_corrected():
    earlier = _after("我前年毕业的 本科 德州学院", "好的，记下了：您是2024届离校未就业毕业生")
    tracker = make_tracker("不对不对 说错了 是去年毕业 2025年的", "deny", events=earlier)
    tracker.events.append({"event": "slot", "name": "camp_grad_year", "value": "2025"})
    dispatcher = CollectingDispatcher()
    await ActionCoreFallback().run(dispatcher, tracker, {})
    said = dispatcher.messages[0]["text"]
    assert said.startswith("好的，已改过来了") and "2025" in said and "不办了" not in said
