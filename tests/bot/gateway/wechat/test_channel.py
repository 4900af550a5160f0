"""What a WeChat message or event means for the conversation: text, voice, location, media, menu
clicks, (un)subscribe, the rate limit. wechatpy plays WeChat, a real aiohttp server plays Rasa."""
from __future__ import annotations

import json
import time

import pytest

from bot.services.profiles import ProfileStore
from bot.gateway.wechat.channel import (
    TEXT_EMPTY,
    TEXT_MEDIA_UNSUPPORTED,
    TEXT_RATE_LIMITED,
    TEXT_VOICE_UNRECOGNISED,
)

from .conftest import GH_ID, event_xml, text_xml, unique_openid


@pytest.mark.parametrize(
    "typed, forwarded",
    [
        ("/restart", "restart"),
        ('／cancel_booking{"booking_id": "b1"}', 'cancel_booking{"booking_id": "b1"}'),
        (" / ／我想改简历", "我想改简历"),
        ("改简历/面试辅导", "改简历/面试辅导"),
    ],
)
async def test_typed_slash_never_reaches_rasa_as_an_intent_trigger(
    make_gateway, rasa, typed: str, forwarded: str
) -> None:
    # Rasa reads "/intent{entities}" (and, after normalisation, "／intent") as an intent with
    # confidence 1.0, so a user could reset a conversation or set entities past NLU.
    side = await make_gateway()
    openid = unique_openid()
    _, body = await side.post(text_xml(openid, typed, side.next_msgid()))
    assert side.open_reply(body, False).content == f"收到：{forwarded}"
    assert rasa.texts() == [forwarded]


async def test_slashes_alone_are_an_empty_message(make_gateway, rasa) -> None:
    side = await make_gateway()
    _, body = await side.post(text_xml(unique_openid(), " //／ ", side.next_msgid()))
    assert side.open_reply(body, False).content == TEXT_EMPTY
    assert rasa.calls == []


# -- voice, location, media, unknown -------------------------------------------------------------------


async def test_voice_with_and_without_recognition(make_gateway, rasa) -> None:
    side = await make_gateway()
    openid = unique_openid()
    base = (
        f"<xml><ToUserName><![CDATA[{GH_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format>{rec}<MsgId>{id}</MsgId></xml>"
    )
    _, body = await side.post(base.format(rec="<Recognition><![CDATA[我想报名训练营。]]></Recognition>", id=side.next_msgid()))
    assert side.open_reply(body, False).content == "收到：我想报名训练营"
    _, body = await side.post(base.format(rec="<Recognition><![CDATA[]]></Recognition>", id=side.next_msgid()))
    assert side.open_reply(body, False).content == TEXT_VOICE_UNRECOGNISED
    _, body = await side.post(base.format(rec="", id=side.next_msgid()))
    assert side.open_reply(body, False).content == TEXT_VOICE_UNRECOGNISED
    assert rasa.texts() == ["我想报名训练营"]


async def test_location_message_triggers_nearby_and_is_remembered(make_gateway, rasa, redis) -> None:
    side = await make_gateway(wechat_message_mode="safe")
    openid = unique_openid()
    inner = (
        f"<xml><ToUserName><![CDATA[{GH_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[location]]></MsgType>"
        "<Location_X>36.651216</Location_X><Location_Y>117.120095</Location_Y><Scale>15</Scale>"
        f"<Label><![CDATA[山东省济南市历下区泉城路]]></Label><MsgId>{side.next_msgid()}</MsgId></xml>"
    )
    status, body = await side.post(inner, "safe")
    assert status == 200
    sent_text = rasa.texts()[0]
    assert sent_text.startswith("/find_service_point{")
    assert json.loads(sent_text[len("/find_service_point"):]) == {
        "latitude": 36.651216, "longitude": 117.120095, "location_label": "山东省济南市历下区泉城路"
    }
    remembered = json.loads(await redis.get(side.settings.key("location", openid)))
    assert remembered["latitude"] == 36.651216 and remembered["label"] == "山东省济南市历下区泉城路"
    assert 0 < await redis.ttl(side.settings.key("location", openid)) <= 1800


@pytest.mark.parametrize(
    "msgtype,extra",
    [
        ("image", "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl><MediaId><![CDATA[m]]></MediaId>"),
        ("video", "<MediaId><![CDATA[m]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId>"),
        ("shortvideo", "<MediaId><![CDATA[m]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId>"),
        ("link", "<Title><![CDATA[t]]></Title><Description><![CDATA[d]]></Description><Url><![CDATA[http://x]]></Url>"),
        ("file", "<Title><![CDATA[简历.pdf]]></Title><FileKey><![CDATA[k]]></FileKey>"),
    ],
)
async def test_media_gets_friendly_answer(make_gateway, rasa, msgtype: str, extra: str) -> None:
    side = await make_gateway()
    openid = unique_openid()
    inner = (
        f"<xml><ToUserName><![CDATA[{GH_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msgtype}]]></MsgType>{extra}"
        f"<MsgId>{side.next_msgid()}</MsgId></xml>"
    )
    _, body = await side.post(inner)
    assert side.open_reply(body, False).content == TEXT_MEDIA_UNSUPPORTED
    assert rasa.calls == []


async def test_unknown_type_is_success(make_gateway, rasa) -> None:
    side = await make_gateway()
    inner = (
        f"<xml><ToUserName><![CDATA[{GH_ID}]]></ToUserName><FromUserName><![CDATA[{unique_openid()}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[miniprogrampage]]></MsgType>"
        f"<MsgId>{side.next_msgid()}</MsgId></xml>"
    )
    status, body = await side.post(inner)
    assert (status, body) == (200, "success")
    assert rasa.calls == []


# -- events ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
async def test_subscribe_with_scene_greets_and_keeps_scene(make_gateway, rasa, redis, mode: str) -> None:
    side = await make_gateway(wechat_message_mode=mode)
    openid = unique_openid()
    extra = "<EventKey><![CDATA[qrscene_sdu_career_center]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>"
    status, body = await side.post(event_xml(openid, "subscribe", extra), mode)
    assert side.open_reply(body, mode != "plaintext").content == "收到：/greet"
    assert rasa.calls[0]["metadata"]["qr_scene"] == "sdu_career_center"
    profile = await ProfileStore(redis, side.settings).get(openid)
    assert profile["qr_scene"] == "sdu_career_center"
    allowed, reason = await side.endpoint().channel.window.may_send(openid)
    assert (allowed, reason) == (True, "event_window")


async def test_subscribe_without_scene_and_scan(make_gateway, rasa, redis) -> None:
    side = await make_gateway()
    openid = unique_openid()
    _, body = await side.post(event_xml(openid, "subscribe", "<EventKey><![CDATA[]]></EventKey>"))
    assert side.open_reply(body, False).content == "收到：/greet"
    assert "qr_scene" not in await ProfileStore(redis, side.settings).get(openid)
    extra = "<EventKey><![CDATA[jinan_lixia_station]]></EventKey><Ticket><![CDATA[T]]></Ticket>"
    _, body = await side.post(event_xml(openid, "SCAN", extra, create_time=int(time.time()) + 1))
    assert side.open_reply(body, False).content == "收到：/greet"
    assert (await ProfileStore(redis, side.settings).get(openid))["qr_scene"] == "jinan_lixia_station"


async def test_unsubscribe_deletes_personal_data(make_gateway, rasa, redis) -> None:
    side = await make_gateway()
    s = side.settings
    openid = unique_openid()
    profiles = ProfileStore(redis, s)
    await profiles.update(openid, {"name": "张三", "phone": "13812345678"})
    await redis.set(s.key("tracker", openid), "{}")
    await redis.set(s.key("location", openid), "{}")
    other = unique_openid("other")
    await profiles.update(other, {"name": "李四"})
    await side.endpoint().channel.window.record_user_message(openid)
    status, body = await side.post(event_xml(openid, "unsubscribe"))
    assert (status, body) == (200, "success")
    for key in (s.key("profile", openid), s.key("tracker", openid), s.key("location", openid), s.key("cswindow", openid)):
        assert not await redis.exists(key), key
    assert (await profiles.get(other))["name"] == "李四"
    assert rasa.calls == []


async def test_click_maps_menu_key_to_intent(make_gateway, rasa) -> None:
    side = await make_gateway()
    openid = unique_openid()
    menu = json.loads((side.settings.var_dir.parent / "data" / "wechat_menu.json").read_text("utf-8"))
    t = int(time.time())
    for i, (key, intent) in enumerate(menu["click_intents"].items()):
        _, body = await side.post(event_xml(openid, "CLICK", f"<EventKey><![CDATA[{key}]]></EventKey>", t + i))
        assert side.open_reply(body, False).content == f"收到：/{intent}"
    assert rasa.texts() == ["/" + i for i in menu["click_intents"].values()]
    status, body = await side.post(event_xml(openid, "CLICK", "<EventKey><![CDATA[NOPE]]></EventKey>", t + 99))
    assert body == "success"
    assert len(rasa.calls) == len(menu["click_intents"])


async def test_view_location_and_unknown_events(make_gateway, rasa, redis) -> None:
    side = await make_gateway()
    openid = unique_openid()
    t = int(time.time())
    _, body = await side.post(event_xml(openid, "VIEW", "<EventKey><![CDATA[https://example.org/]]></EventKey>", t))
    assert body == "success"
    loc = "<Latitude>36.6512</Latitude><Longitude>117.1201</Longitude><Precision>65.0</Precision>"
    _, body = await side.post(event_xml(openid, "LOCATION", loc, t + 1))
    assert body == "success"
    remembered = json.loads(await redis.get(side.settings.key("location", openid)))
    assert (remembered["latitude"], remembered["longitude"]) == (36.6512, 117.1201)
    _, body = await side.post(event_xml(openid, "TEMPLATESENDJOBFINISH", "<Status>success</Status>", t + 2))
    assert body == "success"
    assert rasa.calls == []


# -- rate limit and robustness -----------------------------------------------------------------------


async def test_rate_limit_friendly_reply(make_gateway, rasa) -> None:
    side = await make_gateway(user_rate_limit_per_min=3)
    openid = unique_openid()
    answers = []
    for i in range(5):
        _, body = await side.post(text_xml(openid, f"消息{i}", side.next_msgid()))
        answers.append(side.open_reply(body, False).content)
    assert answers[:3] == ["收到：消息0", "收到：消息1", "收到：消息2"]
    assert answers[3:] == [TEXT_RATE_LIMITED] * 2
    assert len(rasa.calls) == 3
    other = unique_openid()
    _, body = await side.post(text_xml(other, "你好", side.next_msgid()))
    assert side.open_reply(body, False).content == "收到：你好"


async def test_rasa_down_gives_friendly_text_not_5xx(make_gateway, rasa) -> None:
    side = await make_gateway(rasa_url="http://127.0.0.1:9")
    status, body = await side.post(text_xml(unique_openid(), "你好", side.next_msgid()))
    assert status == 200
    assert "稍后" in side.open_reply(body, False).content
