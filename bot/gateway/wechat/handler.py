"""The WeChat official-account endpoint: GET/POST /wechat, the HTTP side (protocol).

Request path (POST):
  `signature` over token/timestamp/nonce (403) -> timestamp window (403) -> body size limit (413)
  -> mode: plaintext / compatible / safe (`msg_signature` + AES; safe refuses plaintext bodies)
  -> defusedxml parse (400) -> nonce cache (403 for a signed query reused for another message,
  see `bot.gateway.wechat.replay`) -> de-duplication and the reply budget (`bot.gateway.wechat.delivery`)
  -> what the message means (`bot.gateway.wechat.channel`: UserTurn -> Rasa)
  -> passive reply within `wechat_reply_budget_s`, else "success" and a customer-service push.

Nothing that reaches the handler produces a 5xx or a stack trace: an unexpected error is logged
(phone numbers masked, users named by `bot.log_ids`) and answered with "success", which WeChat accepts silently.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import AsyncIterator, List, Mapping, Optional, Union

from aiohttp import web
from redis.exceptions import RedisError

from bot.gateway.appkeys import REDIS, SERVICES, SETTINGS
from bot.log_ids import log_id
from bot.services.phone import mask_phones
from bot.settings import Settings
from bot.gateway.wechat import messages as m
from bot.gateway.wechat.channel import ANSWERED, TEXT_SERVICE_UNAVAILABLE, WeChatChannel
from bot.gateway.wechat.crypto import WeChatCryptoError, WeChatMessageCrypto, check_url_signature
from bot.gateway.wechat.delivery import WeChatDelivery
from bot.gateway.wechat.replay import NonceCache

logger = logging.getLogger(__name__)

SUCCESS = "success"


class WeChatEndpoint:
    """What /wechat holds in one gateway process: crypto, nonce cache, channel and delivery."""

    def __init__(self, app: web.Application) -> None:
        s: Settings = app[SETTINGS]
        redis, services = app[REDIS], app[SERVICES]
        self.crypto = WeChatMessageCrypto(s.wechat_token, s.wechat_encoding_aes_key, s.wechat_appid)
        self.nonces = NonceCache(redis, s)
        self.channel = WeChatChannel(app)
        self.delivery = WeChatDelivery(s, redis, self.channel, services.wechat, services.window)


WECHAT_ENDPOINT = web.AppKey("wechat_endpoint", WeChatEndpoint)


def get_endpoint(app: web.Application) -> WeChatEndpoint:
    """The app's endpoint (created on first use), e.g. for tests to drain background pushes.

    Created lazily because Redis and the HTTP session exist only once the app has started."""
    endpoint = app.get(WECHAT_ENDPOINT)
    if endpoint is None:
        endpoint = WeChatEndpoint(app)
        app[WECHAT_ENDPOINT] = endpoint
    return endpoint


def _plain(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/plain", charset="utf-8")


def _xml(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/xml", charset="utf-8")


async def verify_url(request: web.Request) -> web.Response:
    settings: Settings = request.app[SETTINGS]
    q = request.query
    echostr = q.get("echostr", "")
    if echostr and check_url_signature(
        settings.wechat_token, q.get("signature"), q.get("timestamp", ""), q.get("nonce", "")
    ):
        return _plain(echostr)
    return _plain("forbidden", status=403)


async def _read_body(request: web.Request, limit: int) -> Optional[bytes]:
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: List[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def receive(request: web.Request) -> web.Response:
    try:
        return await _receive(request)
    except asyncio.CancelledError:
        raise
    except web.HTTPException as exc:
        if exc.status >= 500:
            logger.error("WeChat POST produced HTTP %s; answering success", exc.status)
            return _plain(SUCCESS)
        raise
    except Exception as exc:  # never a 5xx or a trace to WeChat
        logger.error("WeChat POST failed: %s", mask_phones(repr(exc)), exc_info=False)
        logger.debug("WeChat POST failure detail", exc_info=True)
        return _plain(SUCCESS)


def _refuse_query(settings: Settings, q: Mapping[str, str]) -> Optional[web.Response]:
    """403 for an unsigned or stale query string (checked before any body I/O), else None."""
    timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
    if not check_url_signature(settings.wechat_token, q.get("signature"), timestamp, nonce):
        return _plain("forbidden", status=403)
    if not timestamp.isdigit() or len(timestamp) > 12:
        return _plain("forbidden", status=403)
    if abs(time.time() - int(timestamp)) > settings.wechat_timestamp_window_s:
        return _plain("stale timestamp", status=403)
    return None


def _open_message(endpoint: WeChatEndpoint, mode: str, q: Mapping[str, str], body: bytes,
                  encrypted: bool) -> Union[m.Message, web.Response]:
    """The message in the body (decrypted when the query says AES), or the 400/403 answer."""
    try:
        fields = m.parse_xml_fields(body)
        if encrypted:
            if mode == "plaintext":
                return _plain("encryption not enabled", status=400)
            encrypt = fields.get("Encrypt", "")
            if not encrypt:
                return _plain("Encrypt missing", status=400)
            inner = endpoint.crypto.decrypt_signed(
                encrypt, q.get("msg_signature"), q.get("timestamp", ""), q.get("nonce", ""))
            return m.parse_message(inner)
        if mode == "safe":
            return _plain("plaintext refused in safe mode", status=400)
        return m.message_from_fields(fields)
    except WeChatCryptoError as exc:
        logger.warning("WeChat crypto check failed: %s", exc)
        status = 403 if exc.code in (-40001, -40005) else 400
        return _plain("forbidden" if status == 403 else "bad request", status=status)
    except m.MessageParseError as exc:
        logger.warning("unparseable WeChat body: %s", exc)
        return _plain("bad request", status=400)


async def _receive(request: web.Request) -> web.Response:
    settings: Settings = request.app[SETTINGS]
    q = request.query
    # the query string is checked before the body is read: an unsigned request costs no body I/O
    refused = _refuse_query(settings, q)
    if refused is not None:
        return refused
    body = await _read_body(request, settings.wechat_max_body_bytes)
    if body is None:
        return _plain("payload too large", status=413)
    endpoint = get_endpoint(request.app)
    encrypted = q.get("encrypt_type", "raw").lower() == "aes"
    msg = _open_message(endpoint, settings.wechat_message_mode, q, body, encrypted)
    if isinstance(msg, web.Response):
        return msg
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("WeChat %s from %s: %s", msg.msg_type, log_id(msg.from_user, settings.console_secret),
                     mask_phones(getattr(msg, "content", "") or getattr(msg, "recognition", "")))
    try:
        if not await endpoint.nonces.admit(q.get("timestamp", ""), q.get("nonce", ""), q.get("signature", ""), msg):
            logger.warning("refused a signed query string reused for another WeChat message")
            return _plain("replayed request", status=403)
        parts = await endpoint.delivery.handle(msg)
    except RedisError as exc:
        # No de-duplication, rate limit or conversation without Redis: say so now rather than
        # "success", which WeChat turns into 该公众号暂时无法提供服务 after three retries.
        logger.error("Redis unavailable, %s answered with the service notice: %s", msg.msg_type, exc)
        parts = [TEXT_SERVICE_UNAVAILABLE] if isinstance(msg, ANSWERED) else []
    return _reply(endpoint, msg, parts, encrypted)


def _reply(endpoint: WeChatEndpoint, msg: m.Message, parts: List[str], encrypted: bool) -> web.Response:
    """The passive reply: the first part as XML (encrypted like the request), or "success"."""
    if not parts:
        return _plain(SUCCESS)
    reply = m.reply_to(msg, parts[0])
    if not encrypted:
        return _xml(reply)
    reply_ts, reply_nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    encrypt, signature = endpoint.crypto.encrypt_signed(reply, reply_ts, reply_nonce)
    return _xml(m.render_encrypted_envelope(encrypt, signature, reply_ts, reply_nonce))


async def _endpoint_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    endpoint = app.get(WECHAT_ENDPOINT)
    if endpoint is not None:
        await endpoint.delivery.drain(timeout=5.0)
        for task in list(endpoint.delivery.tasks):
            task.cancel()


def setup_wechat_routes(app: web.Application, path: str = "/wechat") -> None:
    """GET (URL verification) and POST (messages) on `path`."""
    app.router.add_get(path, verify_url)
    app.router.add_post(path, receive)
    app.cleanup_ctx.append(_endpoint_ctx)
