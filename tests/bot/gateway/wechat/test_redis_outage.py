"""Redis gone while WeChat users write: each gets a clear answer in the passive reply (no silent
"success" that WeChat turns into 该公众号暂时无法提供服务 after three retries), nothing reaches
Rasa half-done, no traceback is logged, and the service resumes when Redis is back.
Uses its own redis-server on a free port, killed and restarted by the test."""
from __future__ import annotations

from bot.gateway.wechat.channel import TEXT_SERVICE_UNAVAILABLE
from tests.helpers.redis_server import needs_redis_server, own_redis

from .conftest import GH_ID, event_xml, text_xml, unique_openid

pytestmark = needs_redis_server


async def test_redis_gone_users_get_a_clear_answer_and_service_resumes(make_gateway, rasa, tmp_path, caplog):
    with own_redis(tmp_path) as redis_server:
        side = await make_gateway(redis_url=redis_server.url, wechat_message_mode="compatible")
        openid = unique_openid()
        _, body = await side.post(text_xml(openid, "你好", side.next_msgid()))
        assert side.open_reply(body, False).content == "收到：你好"

        redis_server.kill()
        for mode in ("plaintext", "safe"):
            status, body = await side.post(text_xml(openid, "我想改简历", side.next_msgid()), mode)
            reply = side.open_reply(body, encrypted=mode == "safe")
            assert status == 200 and reply.content == TEXT_SERVICE_UNAVAILABLE
            assert reply.target == openid and reply.source == GH_ID
        status, body = await side.post(event_xml(openid, "subscribe"))
        assert side.open_reply(body, False).content == TEXT_SERVICE_UNAVAILABLE
        status, body = await side.post(event_xml(openid, "VIEW", "<EventKey><![CDATA[https://x.cn]]></EventKey>"))
        assert (status, body) == (200, "success")  # nobody would see an answer to this event
        assert rasa.texts() == ["你好"]
        assert "Traceback" not in caplog.text

        redis_server.start()
        _, body = await side.post(text_xml(openid, "我想改简历", side.next_msgid()))
        assert side.open_reply(body, False).content == "收到：我想改简历"

