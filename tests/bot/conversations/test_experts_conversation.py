"""Issue 25 item 3 through the whole stack: find an expert in the user's words, book a one-to-one
consultation with the first one, and see it under "我的预约".

What the replies claim is checked against the pool and the bookings in Redis
(`user.services.experts`, `user.services.booking`).
"""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.stack

_CODE = re.compile(r"预约码[：:]\s*([A-Z0-9]{4,12})")
_LISTED = re.compile(r"^(\d+)\. (.+?)｜(.+?)｜(.+)$", re.M)
_OFFER = re.compile(r"^(\d+)\. (.+?)｜(.+?)｜(.+?)｜(.+)$", re.M)


async def test_an_internet_expert_found_booked_and_listed(chat):
    user = chat()
    reply = await user.say("请问你们有没有懂互联网行业的专家呀")
    listed = _LISTED.findall(reply)
    assert listed and "约第1个" in reply, reply
    pool = {e.name: e for e in await user.services.experts.all_experts()}
    assert all("互联网" in pool[name].industries for _, name, _, _ in listed), reply
    first = pool[listed[0][1]]
    assert first.level == "省级", reply  # nobody knows where this user is: the province's first

    reply = await user.say("那就约第一个吧")
    offers = _OFFER.findall(reply)
    assert f"预约{first.name}" in reply and offers, reply
    assert all(title == f"{first.name}一对一咨询" for _, _, title, _, _ in offers), reply

    reply = await user.say("1")
    assert "姓名" in reply, reply
    reply = await user.say("刘洋")
    assert "手机号" in reply, reply
    reply = await user.say("139 1234 5678")  # typed in the form: booked on this answer
    match = _CODE.search(reply)
    assert first.name in reply and offers[0][1] in reply, reply
    assert "预约成功" in reply and match, reply

    code = match.group(1)
    booking = await user.services.booking.get(code)
    slot = await user.services.catalogue.get_slot(booking.slot_id)
    assert booking.openid == user.openid and slot.workshop_id == first.workshop_id and slot.capacity == 1
    reply = await user.say("我约了啥")
    assert code in reply and first.name in reply, reply


async def test_a_city_named_puts_its_experts_first(chat):
    user = chat()
    reply = await user.say("青岛有没有面试辅导的专家")
    listed = _LISTED.findall(reply)
    pool = {e.name: e for e in await user.services.experts.all_experts()}
    levels = [(pool[name].level, pool[name].city) for _, name, _, _ in listed]
    assert levels[:2] == [("市级", "青岛市"), ("县级", "青岛市")], reply
    assert all("面试" in pool[name].topics for _, name, _, _ in listed), reply


async def test_a_bare_number_after_the_list_chooses_and_leaving_books_nothing(chat):
    user = chat()
    reply = await user.say("想找个创业方面的老师")
    listed = _LISTED.findall(reply)
    assert len(listed) >= 2, reply
    pool = {e.name: e for e in await user.services.experts.all_experts()}
    second = pool[listed[1][1]]
    assert "创业" in second.topics, reply

    reply = await user.say("2")
    offers = _OFFER.findall(reply)
    assert f"预约{second.name}" in reply and offers, reply
    assert all(title == f"{second.name}一对一咨询" for _, _, title, _, _ in offers), reply
    reply = await user.say("算了，不约了")
    assert "没有为您预约" in reply, reply
    assert await user.services.booking.my_bookings(user.openid) == []
