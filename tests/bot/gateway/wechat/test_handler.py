"""/wechat over HTTP: URL verification, the three message modes, signatures, AES, body checks,
the passive reply. wechatpy plays WeChat, a real aiohttp server plays Rasa."""
from __future__ import annotations

import base64
import struct
import time

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.gateway.wechat.crypto import msg_signature, pkcs7_pad

from .conftest import GH_ID, text_xml, unique_openid

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


# -- robustness -------------------------------------------------------------------------------------


async def test_internal_error_answers_success_without_trace(make_gateway, rasa, caplog) -> None:
    side = await make_gateway()

    delivery = side.endpoint().delivery

    async def broken(msg):
        raise RuntimeError("手机号 13812345678 出错")

    delivery.handle = broken  # the whole pipeline fails
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
