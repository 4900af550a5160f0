"""The one async client for the WeChat official-account API.

access_token comes from `/cgi-bin/stable_token` (normal mode: the same token while it is
valid, so processes do not invalidate each other) and is cached in Redis under
`settings.key("wechat", "access_token")`. Only one process refreshes at a time, under a Redis
lock; the others wait for the cache. When WeChat answers 40001/42001/40014 (token invalid or
expired) the client first re-reads the cache (another process may already hold a newer token)
and only refreshes if the cache still has the rejected token; the call is retried once.

Quota errors (45009, 45015, 45047 …) are never retried here: they raise `WeChatAPIError` and
the caller (window bookkeeping, push) decides. JSON bodies are sent as raw UTF-8
(`ensure_ascii=False`): WeChat shows `\\uXXXX` escapes literally.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any, Dict, Mapping, Optional

import aiohttp
import redis.asyncio as aioredis

from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("wechat:access_token",)

logger = logging.getLogger(__name__)

TOKEN_INVALID_CODES = frozenset({40001, 40014, 42001})
FREQ_LIMIT = 45009  # daily API quota exhausted

_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class WeChatAPIError(Exception):
    """WeChat answered with a non-zero errcode (or the call itself failed: errcode -1)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def dumps_utf8(payload: Any) -> bytes:
    """JSON as WeChat wants it: raw UTF-8, no \\uXXXX escapes."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WeChatClient:
    def __init__(
        self,
        settings: Settings,
        redis: aioredis.Redis,
        session: aiohttp.ClientSession,
        *,
        timeout_s: float = 5.0,
        lock_timeout_s: float = 10.0,
    ) -> None:
        self._settings = settings
        self._redis = redis
        self._session = session
        self._base = settings.wechat_api_base.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._lock_timeout_s = lock_timeout_s
        self.token_key = settings.key("wechat", "access_token")
        self.lock_key = settings.key("wechat", "access_token", "lock")

    # -- access_token --------------------------------------------------------------------------

    async def get_access_token(self) -> str:
        """The cached token, or a fresh one fetched by exactly one process."""
        token = await self._redis.get(self.token_key)
        if token:
            return token
        return await self._refresh(rejected=None)

    async def _refresh(self, rejected: Optional[str]) -> str:
        deadline = time.monotonic() + self._lock_timeout_s
        owner = secrets.token_hex(8)
        while True:
            cached = await self._redis.get(self.token_key)
            if cached and cached != rejected:
                return cached
            locked = await self._redis.set(
                self.lock_key, owner, nx=True, px=int(self._lock_timeout_s * 1000)
            )
            if locked:
                try:
                    # another process may have stored a token between our read and the lock
                    cached = await self._redis.get(self.token_key)
                    if cached and cached != rejected:
                        return cached
                    return await self._fetch_and_store(rejected)
                finally:
                    await self._redis.eval(_RELEASE_LOCK, 1, self.lock_key, owner)
            if time.monotonic() > deadline:
                raise WeChatAPIError(-1, "timed out waiting for another process's token refresh")
            await asyncio.sleep(0.05)

    async def _fetch_and_store(self, rejected: Optional[str]) -> str:
        data = await self._fetch_stable_token(force_refresh=False)
        if rejected and data["access_token"] == rejected:
            # WeChat refused a token that stable_token still hands out: force a new one
            data = await self._fetch_stable_token(force_refresh=True)
        token = data["access_token"]
        expires_in = int(data.get("expires_in", 7200))
        ttl = max(60, expires_in - 300)  # refresh well before WeChat expires it
        await self._redis.set(self.token_key, token, ex=ttl)
        logger.info("WeChat access_token refreshed (expires in %ss)", expires_in)
        return token

    async def _fetch_stable_token(self, force_refresh: bool) -> Dict[str, Any]:
        body = {
            "grant_type": "client_credential",
            "appid": self._settings.wechat_appid,
            "secret": self._settings.wechat_appsecret,
            "force_refresh": force_refresh,
        }
        data = await self._raw_post("/cgi-bin/stable_token", body, params={})
        if not data.get("access_token"):
            raise WeChatAPIError(-1, "stable_token returned no access_token")
        return data

    # -- transport ----------------------------------------------------------------------------

    async def _raw_post(
        self, path: str, payload: Any, params: Mapping[str, str]
    ) -> Dict[str, Any]:
        try:
            async with self._session.post(
                self._base + path,
                data=dumps_utf8(payload),
                params=dict(params),
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=self._timeout,
            ) as resp:
                text = await resp.text(encoding="utf-8")
                if resp.status >= 400:
                    raise WeChatAPIError(-1, f"HTTP {resp.status} from {path}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise WeChatAPIError(-1, f"{path} failed: {exc!r}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise WeChatAPIError(-1, f"{path} returned non-JSON") from exc
        if not isinstance(data, dict):
            raise WeChatAPIError(-1, f"{path} returned {type(data).__name__}")
        errcode = int(data.get("errcode") or 0)
        if errcode:
            raise WeChatAPIError(errcode, str(data.get("errmsg", "")))
        return data

    async def call(self, path: str, payload: Any) -> Dict[str, Any]:
        """POST an authenticated API call; one retry after an invalid/expired token."""
        token = await self.get_access_token()
        try:
            return await self._raw_post(path, payload, {"access_token": token})
        except WeChatAPIError as exc:
            if exc.errcode not in TOKEN_INVALID_CODES:
                raise
            logger.warning("WeChat rejected the access_token (%s); re-reading the cache", exc.errcode)
        token = await self._refresh(rejected=token)
        return await self._raw_post(path, payload, {"access_token": token})

    # -- API ----------------------------------------------------------------------------------

    async def send_text(self, openid: str, text: str) -> Dict[str, Any]:
        """A customer-service (客服) text message; the caller checks the 48-hour window."""
        return await self.call(
            "/cgi-bin/message/custom/send",
            {"touser": openid, "msgtype": "text", "text": {"content": text}},
        )

    async def send_template(
        self,
        openid: str,
        template_id: str,
        data: Mapping[str, Any],
        url: Optional[str] = None,
    ) -> Dict[str, Any]:
        """A template message; `data` values may be plain strings or {"value": ...} maps."""
        fields = {
            name: (value if isinstance(value, Mapping) else {"value": str(value)})
            for name, value in data.items()
        }
        payload: Dict[str, Any] = {"touser": openid, "template_id": template_id, "data": fields}
        if url:
            payload["url"] = url
        return await self.call("/cgi-bin/message/template/send", payload)

    async def create_menu(self, menu_json: Mapping[str, Any]) -> Dict[str, Any]:
        """Publish the custom menu ({"button": [...]})."""
        return await self.call("/cgi-bin/menu/create", dict(menu_json))
