"""The 5-second rule on /wechat: one turn per message however often WeChat delivers it, the passive
reply within the budget, else a customer-service push. wechatpy plays WeChat, a real aiohttp server plays Rasa."""
from __future__ import annotations

import asyncio
import time

from .conftest import event_xml, text_xml, unique_openid


# -- a long answer: first part passive, the rest pushed ----------------------------------------


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
    await side.endpoint().delivery.drain()
    pushed = [r["payload"]["text"]["content"] for r in await side.sent(openid)]
    assert len(pushed) >= 2
    assert all(len(p.encode("utf-8")) <= 2048 for p in pushed)
    assert "\n".join([first] + pushed) == (line * 60).strip("\n")


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
    await side.endpoint().delivery.drain()
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
    await side.endpoint().delivery.drain()
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
    await side.endpoint().delivery.drain()
    assert await side.sent(openid) == []
    allowed, reason = await side.endpoint().channel.window.may_send(openid)
    assert (allowed, reason) == (False, "window_closed")
    stats = await (await side.client.get("/fake-wechat/_stats")).json()
    assert stats["custom"] == 1  # one attempt, no retry storm


async def test_events_dedupe_on_user_and_create_time(make_gateway, rasa) -> None:
    side = await make_gateway()
    openid = unique_openid()
    t = int(time.time())
    xml = event_xml(openid, "CLICK", "<EventKey><![CDATA[ZN_POLICY]]></EventKey>", t)
    bodies = [(await side.post(xml))[1] for _ in range(3)]
    assert len(rasa.calls) == 1
    assert len({side.open_reply(b, False).content for b in bodies}) == 1


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


# -- a gateway that dies holding a delivery ---------------------------------------------------------


async def test_retry_takes_over_a_delivery_whose_gateway_died(make_gateway, rasa, redis) -> None:
    # Another gateway claimed the message, then was killed: its claim stays, its lease lapses.
    side = await make_gateway()
    openid, msgid = unique_openid(), side.next_msgid()
    delivery = side.endpoint().delivery
    await redis.set(delivery.msg_key(f"m{msgid}"), '{"s": "pending"}', ex=600)
    q, body = side.build(text_xml(openid, "附近有招聘会吗", msgid), "plaintext")
    resp = await side.client.post("/wechat", params=q, data=body)  # WeChat's retry, here
    assert side.open_reply(await resp.text(), False).content == "收到：附近有招聘会吗"
    assert len(rasa.calls) == 1
    resp = await side.client.post("/wechat", params=q, data=body)  # a later retry: same answer, no new turn
    assert side.open_reply(await resp.text(), False).content == "收到：附近有招聘会吗"
    assert len(rasa.calls) == 1


async def test_a_live_owner_slower_than_its_lease_keeps_the_delivery(make_gateway, rasa) -> None:
    from bot.gateway.wechat.delivery import LEASE_S

    side = await make_gateway(wechat_reply_budget_s=LEASE_S * 2 + 1)
    rasa.delay_s = LEASE_S * 2  # the lease is renewed while the turn runs
    openid = unique_openid()
    q, body = side.build(text_xml(openid, "我想找工作", side.next_msgid()), "plaintext")

    async def deliver(after: float) -> str:
        await asyncio.sleep(after)
        resp = await side.client.post("/wechat", params=q, data=body)
        return await resp.text()

    first, retry = await asyncio.gather(deliver(0), deliver(LEASE_S + 0.5))
    assert side.open_reply(first, False).content == "收到：我想找工作"
    assert side.open_reply(retry, False).content == "收到：我想找工作"
    assert len(rasa.calls) == 1
