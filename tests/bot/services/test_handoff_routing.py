"""City routing of handoffs on real Redis with a FrozenClock: where a user's city comes from,
the city's pool, the fall to the provincial pool on the shared job scheduler, each city's desk
(hours and promise), and what the user is told."""
from __future__ import annotations

import pytest

from bot.clock import FrozenClock
from bot.jobs.scheduler import JobScheduler
from bot.services.handoff.config import CityDesk, HandoffConfig, parse_office_hours
from bot.services.handoff.gate import request_handoff
from bot.services.handoff.model import PRIORITY_NORMAL
from bot.services.handoff.routing import UserPlace, find_user_place
from bot.services.handoff.service import HandoffService
from bot.services.location import LocationStore
from bot.services.profiles import ProfileStore
from tests.helpers.moments import upcoming

QINGDAO_HOURS = "1-5 09:00-11:00"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(upcoming(3, 10))  # a Wednesday 10:00: inside every desk's hours below


@pytest.fixture
def scheduler(redis, settings) -> JobScheduler:
    return JobScheduler(redis, settings)


@pytest.fixture
def service(redis, settings, clock, scheduler) -> HandoffService:
    config = HandoffConfig(
        no_staff_minutes=5, city_wait_minutes=3,
        city_desks={"青岛市": CityDesk(parse_office_hours(QINGDAO_HOURS), "（示例）留言后当天回电")},
    )
    service = HandoffService(redis, settings, clock, config, scheduler)
    service.register_jobs(scheduler)
    return service


async def ask(service: HandoffService, openid: str, text: str = "转人工", history=None) -> str:
    return await request_handoff(
        service, openid, reason="request_human", priority=PRIORITY_NORMAL, first_message=text, history=history,
    )


async def test_the_city_comes_from_profile_location_chat_or_scene(redis, settings):
    profiles = ProfileStore(redis, settings)
    await profiles.update("u-profile", {"city": "青岛", "district": "黄岛"})
    assert await find_user_place(redis, settings, "u-profile") == UserPlace("青岛市", "黄岛区", "profile")
    await LocationStore(redis, settings).remember("u-located", 37.46, 121.45, "")  # 烟台 (GCJ-02)
    assert (await find_user_place(redis, settings, "u-located")).city == "烟台市"

    async def earlier():
        return [{"kind": "user", "text": "我在淄博张店上班"}, {"kind": "bot", "text": "好的，济南的招聘会……"}]

    named = await find_user_place(redis, settings, "u-chat", "我要找人工", earlier)
    assert (named.city, named.district, named.source) == ("淄博市", "张店区", "chat")
    await profiles.update("u-scene", {"qr_scene": "weifang_job_fair"})
    assert (await find_user_place(redis, settings, "u-scene")).city == ""  # no place in that scene
    await profiles.update("u-scene", {"qr_scene": "潍坊人社局现场码"})
    assert await find_user_place(redis, settings, "u-scene") == UserPlace("潍坊市", "", "scene")
    assert await find_user_place(redis, settings, "u-nobody", "转人工") == UserPlace()


async def test_a_qingdao_request_waits_for_qingdao_then_falls_to_the_province(service, redis, settings, clock, scheduler):
    await ProfileStore(redis, settings).update("u-qd", {"city": "青岛市"})
    await service.heartbeat("qd-counsellor", ("青岛市",))
    await service.heartbeat("prov-counsellor", ("province",))
    reply = await ask(service, "u-qd")
    assert "已为您转接人工服务，由青岛市的职业指导师为您解答" in reply and "3 分钟内未能接入，将由省级职业指导师为您服务" in reply
    item = (await service.snapshot())[0]
    assert (item["city"], item["pool"]) == ("青岛市", "city")

    # 3 minutes on, the Qingdao counsellor's console is still open: the item stays with Qingdao
    clock.advance(minutes=3, seconds=1)
    assert (await scheduler.run_due(clock())).ran
    assert (await service.get(item["id"]))["pool"] == "city"

    # the Qingdao console has been closed for more than 5 minutes at the next look
    await service.heartbeat("prov-counsellor", ("province",))
    clock.advance(minutes=3, seconds=1)
    assert await service.online_in("青岛市") == []
    assert (await scheduler.run_due(clock())).ran
    fallen = await service.get(item["id"])
    assert fallen["pool"] == "province" and fallen["status"] == "queued"
    assert "转入省级人工池" in (await service.transcript(item["id"]))[-1]["text"]
    assert (await scheduler.run_due(clock())).ran == 0  # nothing left to look at


async def test_a_claimed_city_item_never_falls(service, redis, settings, clock, scheduler):
    await ProfileStore(redis, settings).update("u-qd2", {"city": "青岛市"})
    await service.heartbeat("prov-counsellor", ("province",))
    await ask(service, "u-qd2")
    item_id = (await service.snapshot())[0]["id"]
    await service.claim(item_id, "qd-counsellor")
    clock.advance(minutes=4)
    await scheduler.run_due(clock())
    assert (await service.get(item_id))["pool"] == "city"


async def test_unknown_city_goes_straight_to_the_province(service, clock):
    await service.heartbeat("prov-counsellor", ("province",))
    reply = await ask(service, "u-somewhere")
    assert "已为您转接人工服务，由省级职业指导师为您解答" in reply and "分钟内未能接入" not in reply
    assert (await service.snapshot())[0]["pool"] == "province"


async def test_each_city_has_its_own_hours_and_promise(service, redis, settings, clock):
    clock.advance(hours=4)  # Wednesday 14:00: Qingdao's desk (09:00-11:00) is closed
    await service.heartbeat("prov-counsellor", ("province",))
    await ProfileStore(redis, settings).update("u-qd3", {"city": "青岛市"})
    reply = await ask(service, "u-qd3")
    assert "现在不在人工服务时间（周一至周五 09:00–11:00）" in reply
    assert "青岛市的职业指导师会在明天 9:00后查看并联系您" in reply and "（示例）留言后当天回电" in reply
    # Jinan keeps the global hours (08:30-17:30): open now
    await ProfileStore(redis, settings).update("u-jn", {"city": "济南市"})
    assert "已为您转接人工服务，由济南市的职业指导师为您解答" in await ask(service, "u-jn")
