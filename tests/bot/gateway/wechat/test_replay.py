"""Replay safety of /wechat: a signed query string carries one message; records outlive the window."""
from __future__ import annotations

import time

import pytest

from bot.gateway.wechat import messages as m

from .conftest import event_xml, text_xml, unique_openid


@pytest.mark.parametrize("mode", ["plaintext", "compatible"])
async def test_signed_query_reused_for_another_message_is_refused(make_gateway, rasa, mode: str) -> None:
    # In these modes the signature covers only token/timestamp/nonce: a query string copied from
    # an access log must not let anyone post as another OpenID within the timestamp window.
    side = await make_gateway(wechat_message_mode=mode)
    victim, attacker_text = unique_openid("victim"), "/restart 我要取消所有预约"
    q, body = side.build(text_xml(unique_openid(), "我想找工作", side.next_msgid()), "plaintext")
    resp = await side.client.post("/wechat", params=q, data=body)
    assert resp.status == 200
    forged = text_xml(victim, attacker_text, side.next_msgid()).encode()
    resp = await side.client.post("/wechat", params=q, data=forged)
    assert resp.status == 403
    assert "replayed" in await resp.text()
    assert rasa.texts() == ["我想找工作"]


async def test_wechat_retry_with_the_same_query_still_gets_its_answer(make_gateway, rasa) -> None:
    # WeChat re-sends an unanswered request with the identical query string and message.
    side = await make_gateway()
    openid = unique_openid()
    q, body = side.build(text_xml(openid, "附近的就业驿站", side.next_msgid()), "plaintext")
    replies = []
    for _ in range(3):
        resp = await side.client.post("/wechat", params=q, data=body)
        assert resp.status == 200
        replies.append(side.open_reply(await resp.text(), False).content)
    assert replies == ["收到：附近的就业驿站"] * 3
    assert len(rasa.calls) == 1


async def test_dedupe_and_nonce_records_outlive_the_timestamp_window(make_gateway, rasa, redis) -> None:
    # An exact replay inside the window must meet the de-duplication record, not run a new turn.
    side = await make_gateway()
    window = side.settings.wechat_timestamp_window_s
    openid, msgid = unique_openid(), side.next_msgid()
    q, body = side.build(text_xml(openid, "我想找工作", msgid), "plaintext")
    await side.client.post("/wechat", params=q, data=body)
    endpoint = side.endpoint()
    assert await redis.ttl(endpoint.delivery.msg_key(f"m{msgid}")) > 2 * window
    assert await redis.ttl(endpoint.nonces.key(q["timestamp"], q["nonce"], q["signature"])) > 2 * window
    # the answer itself (personal) is kept only as long as WeChat retries
    assert 0 < await redis.ttl(endpoint.delivery.answer_key(f"m{msgid}")) <= 60
    # the replay after the answer has expired: "success", still one turn
    await redis.delete(endpoint.delivery.answer_key(f"m{msgid}"))
    resp = await side.client.post("/wechat", params=q, data=body)
    assert (resp.status, await resp.text()) == (200, "success")
    assert len(rasa.calls) == 1


async def test_signature_case_does_not_make_a_new_query(make_gateway, rasa) -> None:
    side = await make_gateway()
    q, body = side.build(text_xml(unique_openid(), "你好", side.next_msgid()), "plaintext")
    await side.client.post("/wechat", params=q, data=body)
    shouted = dict(q, signature=q["signature"].upper())
    forged = text_xml(unique_openid(), "/restart", side.next_msgid()).encode()
    resp = await side.client.post("/wechat", params=shouted, data=forged)
    assert resp.status == 403
    assert rasa.texts() == ["你好"]


async def test_events_in_one_second_differ_by_type_and_key(make_gateway, rasa, redis) -> None:
    side = await make_gateway()
    openid, t = unique_openid(), int(time.time())
    click = "<EventKey><![CDATA[{}]]></EventKey>"
    _, first = await side.post(event_xml(openid, "CLICK", click.format("ZN_POLICY"), t))
    _, second = await side.post(event_xml(openid, "CLICK", click.format("ZN_COURSES"), t))
    loc = "<Latitude>36.6512</Latitude><Longitude>117.1201</Longitude><Precision>65.0</Precision>"
    _, third = await side.post(event_xml(openid, "LOCATION", loc, t))
    assert len(rasa.calls) == 2 and rasa.texts()[0] != rasa.texts()[1]
    assert side.open_reply(first, False).content != side.open_reply(second, False).content
    assert third == "success" and await redis.exists(side.settings.key("location", openid))


def test_event_dedupe_id_includes_type_and_key() -> None:
    base = dict(to_user="gh", from_user="o1", create_time=1, msg_type="event")
    ids = {
        m.ClickEvent(**base, event="CLICK", event_key="A").dedupe_id,
        m.ClickEvent(**base, event="CLICK", event_key="B").dedupe_id,
        m.LocationEvent(**base, event="LOCATION").dedupe_id,
        m.SubscribeEvent(**base, event="subscribe").dedupe_id,
    }
    assert len(ids) == 4
    again = m.ClickEvent(**base, event="CLICK", event_key="A")
    assert again.dedupe_id == m.ClickEvent(**base, event="CLICK", event_key="A").dedupe_id
