"""/wechat checks the URL signature before it reads the body: an unsigned POST costs no body I/O."""
from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.gateway.appkeys import SETTINGS
from bot.gateway.wechat.handler import receive

from .conftest import text_xml, unique_openid


class UntouchableBody:
    """A request body stream that fails the test if anyone reads from it."""

    def __init__(self) -> None:
        self.reads = 0

    async def read(self, n: int = -1) -> bytes:
        self.reads += 1
        raise AssertionError("the body of an unsigned request was read")

    async def readany(self) -> bytes:
        return await self.read()


async def test_unsigned_post_is_refused_without_reading_the_body(settings) -> None:
    app = web.Application()
    app[SETTINGS] = settings
    body = UntouchableBody()
    request = make_mocked_request(
        "POST", "/wechat?signature=forged&timestamp=1&nonce=2", app=app, payload=body,
        headers={"Content-Type": "text/xml"},
    )
    resp = await receive(request)
    assert resp.status == 403
    assert body.reads == 0


async def test_unsigned_oversized_post_gets_the_signature_error(make_gateway, rasa) -> None:
    side = await make_gateway(wechat_max_body_bytes=4096)
    big = text_xml(unique_openid(), "长" * 3000, side.next_msgid()).encode()
    resp = await side.client.post("/wechat", params={"signature": "0" * 40, "timestamp": "1", "nonce": "2"}, data=big)
    assert resp.status == 403
    resp = await side.client.post("/wechat", data=big)  # no query at all
    assert resp.status == 403
    # a signed oversized body is still refused for its size
    resp = await side.client.post("/wechat", params=side.query(), data=big)
    assert resp.status == 413
    assert rasa.calls == []
