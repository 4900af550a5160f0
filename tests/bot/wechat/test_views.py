"""The /wechat endpoint end to end: wechatpy plays WeChat, a real aiohttp server plays Rasa."""
from __future__ import annotations

import asyncio
import base64
import json
import struct
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.services.profiles import ProfileStore
from bot.wechat.crypto import msg_signature, pkcs7_pad
from bot.wechat.views import (
    TEXT_EMPTY,
    TEXT_MEDIA_UNSUPPORTED,
    TEXT_RATE_LIMITED,
    TEXT_VOICE_UNRECOGNISED,
)

from .conftest import GH_ID, event_xml, text_xml, unique_openid

MODES = ["plaintext", "compatible", "safe"]


# -- URL verification -----------------------------------------------------------------------------


async def test_url_verification(make_gateway) -> None:
    side = await make_gateway()
    q = side.query()
    resp = await side.client.get("/wechat", params=dict(q, echostr="8675309123"))
    assert resp.status == 200 and await resp.text() == "8675309123"
    forged = dict(q, signature="0" * 40, echostr="8675309123")
    resp = await side.client.get("/wechat", params=forged)
    assert resp.status == 403 and "8675309123" not in await resp.text()
    resp = await side.client.get("/wechat", params={"echostr": "1"})
    assert resp.status == 403


# -- text round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_text_round_trip(make_gateway, rasa, mode: str) -> None:
    side = await make_gateway(wechat_message_mode=mode)
    openid = unique_openid()
    status, body = await side.post(text_xml(openid, "我想找工作，电话13812345678", side.next_msgid()), mode)
    assert status == 200
    reply = side.open_reply(body, encrypted=mode != "plaintext")
    assert reply.type == "text"
    assert reply.target == openid and reply.source == GH_ID  # To/From swapped
    assert reply.content == "收到：我想找工作，电话13812345678"
    assert abs(reply.create_time.timestamp() - time.time()) < 10
    assert [c["message"] for c in rasa.calls] == ["我想找工作，电话13812345678"]
    assert rasa.calls[0]["sender"] == openid


async def test_compatible_mode_answers_plaintext_when_asked_plainly(make_gateway) -> None:
    side = await make_gateway(wechat_message_mode="compatible")
    openid = unique_openid()
    status, body = await side.post(text_xml(openid, "你好", side.next_msgid()), "plaintext")
    assert status == 200
    assert "<Encrypt>" not in body
    assert side.open_reply(body, encrypted=False).content == "收到：你好"


async def test_safe_mode_refuses_plaintext(make_gateway, rasa) -> None:
    side = await make_gateway(wechat_message_mode="safe")
    status, _ = await side.post(text_xml(unique_openid(), "你好", side.next_msgid()), "plaintext")
    assert status == 400
    assert rasa.calls == []


async def test_plaintext_mode_refuses_encrypted(make_gateway, rasa) -> None:
    side = await make_gateway(wechat_message_mode="plaintext")
    status, _ = await side.post(text_xml(unique_openid(), "你好", side.next_msgid()), "safe")
    assert status == 400
    assert rasa.calls == []


async def test_multiple_rasa_messages_joined_and_long_text_split(make_gateway, rasa) -> None:
    side = await make_gateway()
    openid = unique_openid()
    rasa.answer = lambda p: ["第一条", "第二条"]
    _, body = await side.post(text_xml(openid, "a", side.next_msgid()))
    assert side.open_reply(body, False).content == "第一条\n\n第二条"

    line = "就业服务站地址：济南市历下区某某路100号，电话0531-12345678。\n"
    rasa.answer = lambda p: [line * 60]  # ~5,000 bytes
    _, body = await side.post(text_xml(openid, "b", side.next_msgid()))
    first = side.open_reply(body, False).content
    assert len(first.encode("utf-8")) <= 2048 and first.endswith("。")
    await side.channel().drain()
    pushed = [r["payload"]["text"]["content"] for r in await side.sent(openid)]
    assert len(pushed) >= 2
    assert all(len(p.encode("utf-8")) <= 2048 for p in pushed)
    assert "\n".join([first] + pushed) == (line * 60).strip("\n")


# -- rejections: never forwarded to Rasa -------------------------------------------------------------


async def test_bad_url_signature_and_stale_timestamp(make_gateway, rasa) -> None:
    side = await make_gateway()
    q, body = side.build(text_xml(unique_openid(), "x", side.next_msgid()), "plaintext")
    resp = await side.client.post("/wechat", params=dict(q, signature="f" * 40), data=body)
    assert resp.status == 403
    old = str(int(time.time()) - 3600)
    q, body = side.build(text_xml(unique_openid(), "x", side.next_msgid()), "plaintext", timestamp=old)
    resp = await side.client.post("/wechat", params=q, data=body)
    assert resp.status == 403
    assert rasa.calls == []


def _raw_encrypt(settings, frame: bytes) -> str:
    key = base64.b64decode(settings.wechat_encoding_aes_key + "=")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(frame) + enc.finalize()).decode()


def _safe_body(encrypt: str) -> bytes:
    return f"<xml><ToUserName><![CDATA[{GH_ID}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()


async def test_crypto_rejections(make_gateway, rasa) -> None:
    side = await make_gateway(wechat_message_mode="safe")
    s = side.settings
    inner = text_xml(unique_openid(), "你好", side.next_msgid())

    # tampered msg_signature
    q, body = side.build(inner, "safe")
    tampered = dict(q, msg_signature=("0" if q["msg_signature"][0] != "0" else "1") + q["msg_signature"][1:])
    assert (await side.client.post("/wechat", params=tampered, data=body)).status == 403

    def signed(encrypt: str):
        q = side.query()
        q.update(encrypt_type="aes", msg_signature=msg_signature(s.wechat_token, q["timestamp"], q["nonce"], encrypt))
        return q

    msg = inner.encode()
    # wrong appid in the frame (correctly signed)
    frame = b"r" * 16 + struct.pack(">I", len(msg)) + msg + b"wxNOTOURAPPID0000"
    enc = _raw_encrypt(s, pkcs7_pad(frame))
    assert (await side.client.post("/wechat", params=signed(enc), data=_safe_body(enc))).status == 403
    # bad padding (correctly signed)
    frame = b"r" * 16 + struct.pack(">I", len(msg)) + msg + s.wechat_appid.encode()
    frame += b"x" * ((-len(frame)) % 32)
    enc = _raw_encrypt(s, frame + bytes([7]) * 31 + b"\x09")
    assert (await side.client.post("/wechat", params=signed(enc), data=_safe_body(enc))).status == 400
    # non-base64 (correctly signed)
    enc = "这不是base64!!"
    assert (await side.client.post("/wechat", params=signed(enc), data=_safe_body(enc))).status == 400
    assert rasa.calls == []


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x "y">]><xml><ToUserName>a</ToUserName>'
        "<FromUserName>oU1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
        "<Content>&x;</Content><MsgId>1</MsgId></xml>",
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml>&lol2;</xml>',
        '<!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml><FromUserName>oU1</FromUserName></xml>',
        "<xml><Content>&amp;&unknown;</Content></xml>",
    ],
)
async def test_dtd_and_entities_rejected(make_gateway, rasa, body: str) -> None:
    side = await make_gateway()
    resp = await side.client.post("/wechat", params=side.query(), data=body.encode())
    assert resp.status == 400
    assert rasa.calls == []


async def test_dtd_inside_ciphertext_rejected(make_gateway, rasa) -> None:
    side = await make_gateway(wechat_message_mode="safe")
    inner = '<!DOCTYPE xml [<!ENTITY x "y">]>' + text_xml(unique_openid(), "&x;", side.next_msgid())
    status, _ = await side.post(inner, "safe")
    assert status == 400
    assert rasa.calls == []


async def test_oversize_body_rejected(make_gateway, rasa) -> None:
    side = await make_gateway(wechat_max_body_bytes=4096)
    big = text_xml(unique_openid(), "长" * 3000, side.next_msgid())
    status, _ = await side.post(big)
    assert status == 413
    # chunked (no Content-Length) too
    async def gen():
        for _ in range(10):
            yield b"<xml>" + b"a" * 1000

    resp = await side.client.post("/wechat", params=side.query(), data=gen())
    assert resp.status == 413
    assert rasa.calls == []


# -- the 5-second rule and retries ---------------------------------------------------------------------


async def test_same_msgid_three_times_while_rasa_slow_is_one_turn(make_gateway, rasa) -> None:
    side = await make_gateway(wechat_message_mode="safe", wechat_reply_budget_s=3.0)
    rasa.delay_s = 1.0
    openid = unique_openid()
    inner = text_xml(openid, "我想找工作", side.next_msgid())
    q, body = side.build(inner, "safe")  # identical query string on every delivery, as WeChat does

    async def deliver(after: float):
        await asyncio.sleep(after)
        resp = await side.client.post("/wechat", params=q, data=body)
        return resp.status, await resp.text()

    results = await asyncio.gather(deliver(0), deliver(0.2), deliver(0.5))
    contents = [side.open_reply(text, encrypted=True).content for status, text in results]
    assert [status for status, _ in results] == [200, 200, 200]
    assert contents == ["收到：我想找工作"] * 3  # the same answer, whichever delivery WeChat keeps
    assert len(rasa.calls) == 1
    # a late retry (after the answer) gets it from the stored result, still no second turn
    status, text = await deliver(0)
    assert side.open_reply(text, encrypted=True).content == "收到：我想找工作"
    await side.channel().drain()
    assert len(rasa.calls) == 1
    assert await side.sent(openid) == []


async def test_rasa_slower_than_budget_pushes_answer(make_gateway, rasa) -> None:
    side = await make_gateway(wechat_reply_budget_s=0.5)
    rasa.delay_s = 1.5
    openid = unique_openid()
    q, body = side.build(text_xml(openid, "附近有招聘会吗", side.next_msgid()), "plaintext")
    started = time.monotonic()
    replies = []
    for _ in range(3):  # WeChat's retries while we are still working
        resp = await side.client.post("/wechat", params=q, data=body)
        replies.append((resp.status, await resp.text(), time.monotonic() - started))
    assert replies[0][0] == 200 and replies[0][1] == "success"
    assert replies[0][2] < 1.0
    assert all(r[1] == "success" for r in replies)
    await side.channel().drain()
    sent = await side.sent(openid)
    assert len(sent) == 1
    assert sent[0]["payload"] == {"touser": openid, "msgtype": "text", "text": {"content": "收到：附近有招聘会吗"}}
    assert "\\u" not in sent[0]["raw"] and "收到" in sent[0]["raw"]
    assert len(rasa.calls) == 1


async def test_push_respects_window_refusal(make_gateway, rasa) -> None:
    side = await make_gateway(wechat_reply_budget_s=0.3)
    rasa.delay_s = 0.6
    openid = unique_openid()
    await side.client.post("/fake-wechat/_control", json={"fail": {openid: 45015}})
    status, text = await side.post(text_xml(openid, "hi", side.next_msgid()))
    assert text == "success"
    await side.channel().drain()
    assert await side.sent(openid) == []
    allowed, reason = await side.channel().window.may_send(openid)
    assert (allowed, reason) == (False, "window_closed")
    stats = await (await side.client.get("/fake-wechat/_stats")).json()
    assert stats["custom"] == 1  # one attempt, no retry storm


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
    allowed, reason = await side.channel().window.may_send(openid)
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
    await side.channel().window.record_user_message(openid)
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


async def test_events_dedupe_on_user_and_create_time(make_gateway, rasa) -> None:
    side = await make_gateway()
    openid = unique_openid()
    t = int(time.time())
    xml = event_xml(openid, "CLICK", "<EventKey><![CDATA[ZN_POLICY]]></EventKey>", t)
    bodies = [(await side.post(xml))[1] for _ in range(3)]
    assert len(rasa.calls) == 1
    assert len({side.open_reply(b, False).content for b in bodies}) == 1


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


async def test_internal_error_answers_success_without_trace(make_gateway, rasa, caplog) -> None:
    side = await make_gateway()

    channel = side.channel()

    async def broken(msg):
        raise RuntimeError("手机号 13812345678 出错")

    channel.handle = broken  # the whole pipeline fails
    status, body = await side.post(text_xml(unique_openid(), "x", side.next_msgid()))
    assert (status, body) == (200, "success")
    assert "13812345678" not in caplog.text
    assert "138****5678" in caplog.text


async def test_cdata_terminator_in_reply(make_gateway, rasa) -> None:
    side = await make_gateway(wechat_message_mode="safe")
    rasa.answer = lambda p: ["a]]>b <c> & d"]
    _, body = await side.post(text_xml(unique_openid(), "x", side.next_msgid()), "safe")
    assert side.open_reply(body, True).content == "a]]>b <c> & d"


async def test_passive_reply_latency(make_gateway, rasa) -> None:
    """Measured through HTTP, signature, AES, dedupe, Redis and the (instant) Rasa double."""
    side = await make_gateway(wechat_message_mode="safe", user_rate_limit_per_min=1000)
    openid = unique_openid()
    latencies = []
    for i in range(200):
        q, body = side.build(text_xml(openid, f"第{i}条", side.next_msgid()), "safe")
        started = time.perf_counter()
        resp = await side.client.post("/wechat", params=q, data=body)
        text = await resp.text()
        latencies.append(time.perf_counter() - started)
        assert side.open_reply(text, True).content == f"收到：第{i}条"
    latencies.sort()
    p50, p99 = latencies[100] * 1000, latencies[197] * 1000
    print(f"\npassive reply latency (safe mode, Rasa double): p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    assert p99 < side.settings.wechat_reply_budget_s * 1000


async def test_retry_landing_on_another_process_is_not_a_second_turn(make_gateway, rasa) -> None:
    """Two gateway apps (as two processes) on the same Redis: WeChat's retry hits the other one."""
    one = await make_gateway(wechat_reply_budget_s=3.0)
    two = await make_gateway(wechat_reply_budget_s=3.0)
    rasa.delay_s = 0.8
    openid = unique_openid()
    q, body = one.build(text_xml(openid, "跨进程", one.next_msgid()), "plaintext")

    async def deliver(side, after):
        await asyncio.sleep(after)
        resp = await side.client.post("/wechat", params=q, data=body)
        return await resp.text()

    first, retry = await asyncio.gather(deliver(one, 0), deliver(two, 0.3))
    assert one.open_reply(first, False).content == one.open_reply(retry, False).content == "收到：跨进程"
    assert len(rasa.calls) == 1
