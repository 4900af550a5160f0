"""Rasa's HTTP API, as the gateway uses it (REST channel, parse, tracker, health)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

import aiohttp

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RasaClient:
    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, token: str, timeout_s: float
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send_message(
        self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None
    ) -> List[Dict[str, Any]]:
        """One user turn through Rasa's REST channel; returns the bot's messages."""
        payload: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            payload["metadata"] = metadata
        return await self._request("POST", "/webhooks/rest/webhook", json=payload, auth=False)

    async def trigger_intent(
        self, sender: str, intent: str, entities: Optional[Dict[str, Any]] = None
    ) -> List[Dict[str, Any]]:
        """Inject an intent (e.g. a hand-back or a scheduled nudge) and return the bot's messages."""
        body = {"name": intent, "entities": entities or {}}
        result = await self._request(
            "POST",
            f"/conversations/{sender}/trigger_intent",
            json=body,
            params={"output_channel": "latest"},
        )
        return result.get("messages", []) if isinstance(result, dict) else []

    async def tracker(self, sender: str) -> Dict[str, Any]:
        return await self._request(
            "GET", f"/conversations/{sender}/tracker", params={"include_events": "ALL"}
        )

    async def parse(self, text: str) -> Dict[str, Any]:
        return await self._request("POST", "/model/parse", json={"text": text})

    async def status(self) -> Dict[str, Any]:
        return await self._request("GET", "/status")

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Optional[Dict[str, str]] = None,
        auth: bool = True,
    ) -> Any:
        query = dict(params or {})
        if auth and self._token:
            query["token"] = self._token
        try:
            async with self._session.request(
                method, self._base + path, json=json, params=query, timeout=self._timeout
            ) as resp:
                if resp.status >= 400:
                    detail = (await resp.text())[:300]
                    raise RasaUnavailable(f"Rasa {method} {path} -> {resp.status}: {detail}")
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RasaUnavailable(f"Rasa {method} {path} failed: {exc!r}") from exc
