"""Fuzz: ≥10,000 random and mutated bodies through /wechat in all three modes: never a 5xx."""
from __future__ import annotations

import asyncio
import collections
import logging
import random
import time

import pytest

from .conftest import GH_ID, event_xml, text_xml

SEED = 20241128
PER_MODE = 3500  # 3 modes -> 10,500 requests

SEEDS_XML = [
    lambda oid, mid: text_xml(oid, "我想找工作", mid),
    lambda oid, mid: event_xml(oid, "subscribe", "<EventKey><![CDATA[qrscene_x]]></EventKey>"),
    lambda oid, mid: event_xml(oid, "CLICK", "<EventKey><![CDATA[ZN_POLICY]]></EventKey>"),
    lambda oid, mid: event_xml(oid, "LOCATION", "<Latitude>36.6</Latitude><Longitude>117.1</Longitude>"),
    lambda oid, mid: event_xml(oid, "unsubscribe"),
    lambda oid, mid: (
        f"<xml><ToUserName><![CDATA[{GH_ID}]]></ToUserName><FromUserName><![CDATA[{oid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[location]]></MsgType>"
        "<Location_X>36.65</Location_X><Location_Y>117.12</Location_Y><Scale>15</Scale>"
        f"<Label><![CDATA[济南]]></Label><MsgId>{mid}</MsgId></xml>"
    ),
    lambda oid, mid: (
        f"<xml><ToUserName><![CDATA[{GH_ID}]]></ToUserName><FromUserName><![CDATA[{oid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        f"<Recognition><![CDATA[]]></Recognition><MsgId>{mid}</MsgId></xml>"
    ),
]

NASTY = [
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>',
    b"&a;", b"<![CDATA[", b"]]>", b"\x00", b"\xff\xfe", b"<xml>", b"</xml>", b"<Encrypt>", b"</Encrypt>",
    b"<MsgType>event</MsgType>", b"<Location_X>1e999</Location_X>", b"<CreateTime>-1</CreateTime>",
    "中文".encode(), b"<?xml version='1.0' encoding='gbk'?>", b"<?xml version='1.0' encoding='nope'?>",
    b"<MsgId>99999999999999999999999999</MsgId>", b'<!ENTITY % p SYSTEM "http://x">',
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        pos = rng.randint(0, len(data)) if data else 0
        if op < 0.25 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op < 0.45:
            del data[pos : pos + rng.randint(1, 20)]
        elif op < 0.7:
            data[pos:pos] = rng.choice(NASTY)
        elif op < 0.85 and data:
            start = rng.randint(0, len(data) - 1)
            data[pos:pos] = data[start : start + rng.randint(1, 64)]
        else:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(data)


@pytest.mark.slow
async def test_fuzz_never_5xx(make_gateway, rasa, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.gateway.wechat")
    rng = random.Random(SEED)
    counts: collections.Counter = collections.Counter()
    started = time.monotonic()
    total = 0
    for mode in ("plaintext", "compatible", "safe"):
        side = await make_gateway(wechat_message_mode=mode, wechat_reply_budget_s=1.0)

        def one_request(i: int):
            oid = f"oFuzz{rng.randrange(200)}"
            inner = rng.choice(SEEDS_XML)(oid, str(10**15 + i))
            q, body = side.build(inner, "plaintext" if mode == "plaintext" else rng.choice(["safe", "compatible", "plaintext"]))
            kind = rng.random()
            if kind < 0.15:
                body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
            elif kind < 0.9:
                body = mutate(rng, body)
            # else: the valid body (reaches Rasa)
            if rng.random() < 0.1:  # mutate the query too
                key = rng.choice(list(q))
                q = dict(q, **{key: rng.choice(["", "0" * 40, "x" * 5000, "中文", q[key][::-1]])})
            return side.client.post("/wechat", params=q, data=body)

        for batch_start in range(0, PER_MODE, 50):
            responses = await asyncio.gather(*(one_request(batch_start + j) for j in range(50)))
            for resp in responses:
                counts[(mode, resp.status)] += 1
                await resp.read()
                resp.release()
            total += len(responses)
        await side.endpoint().delivery.drain()
    elapsed = time.monotonic() - started
    by_status = collections.Counter()
    for (mode, status), n in counts.items():
        by_status[status] += n
    print(f"\nfuzz: {total} requests in {elapsed:.1f}s; by status {dict(sorted(by_status.items()))}; "
          f"by mode/status {dict(sorted(counts.items()))}; rasa turns {len(rasa.calls)}")
    hidden = [r for r in caplog.records if "failed" in r.getMessage()
              and r.name in ("bot.gateway.wechat.handler", "bot.gateway.wechat.delivery")
              and ("POST failed" in r.getMessage() or "turn for" in r.getMessage())]
    print(f"fuzz: unexpected exceptions caught by the catch-all: {len(hidden)}")
    assert total >= 10_000
    assert hidden == []  # 200s are real answers, not swallowed crashes
    assert not [s for s in by_status if s >= 500]
    assert by_status[200] > 0 and by_status[400] > 0 and by_status[403] > 0  # the fuzz reached every gate
