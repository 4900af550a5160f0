"""Callback items: what a user leaves when nobody is on duty, and how one becomes a live talk.

A mixin of HandoffService (service.py), the one owner of the `handoff` key families:

* a request while nobody is available leaves a callback item (phone or not) with the user's
  recent conversation with the bot, so that staff find it the next morning
  (`turns_from_events` reads that conversation from Rasa tracker events);
* a phone number sent afterwards is attached to that item (`attach_phone`);
* a counsellor's message (or service notice) on a claimed callback item makes it live
  (`counsellor_wrote`, `notice_sent`): the user's replies reach the counsellor instead of the
  bot until the item is closed (hand-back) or `live_idle_minutes` pass without a counsellor
  message (then the bot answers again; the counsellor's next message makes it live again).
"""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from bot.services.handoff import lua
from bot.services.handoff.parts import ServiceParts
from bot.services.phone import mask_phone

# how many turns of the conversation with the bot a left message carries
HISTORY_TURNS = 20


def shown_text(text: str) -> str:
    """A user's message as staff read it: intent triggers (menu clicks, locations) marked as such."""
    return text if text and not text.startswith("/") else f"[非文字消息] {text}"


def turns_from_events(
    events: Iterable[Mapping[str, Any]], *, limit: int = HISTORY_TURNS, drop_latest_user: bool = False
) -> List[Dict[str, Any]]:
    """The user's and the bot's texts among Rasa tracker events (as JSON), oldest first, the last
    `limit`. `drop_latest_user` leaves out the message being handled right now (an action's)."""
    turns: List[Dict[str, Any]] = []
    for event in events:
        kind, text = event.get("event"), event.get("text")
        if kind in ("user", "bot") and text:
            shown = shown_text(str(text)) if kind == "user" else str(text)
            turns.append({"kind": kind, "text": shown[:500], "at": float(event.get("timestamp") or 0)})
    if drop_latest_user:
        latest_user = max((i for i, t in enumerate(turns) if t["kind"] == "user"), default=None)
        if latest_user is not None:
            turns = turns[:latest_user]
    return turns[-limit:] if limit > 0 else []


class CallbackItems(ServiceParts):
    """Mixed into HandoffService, whose Redis connection, config and key builders it uses."""

    async def _add_history(self, item_id: str, turns: Sequence[Mapping[str, Any]]) -> None:
        """The conversation before the request, each turn with its own time, in one write."""
        if not turns:
            return
        heading = f"转人工前与职引的对话（最近 {len(turns)} 条）"
        entries = [{"at": float(turns[0].get("at") or 0), "kind": "system", "author": "", "text": heading}]
        for turn in turns:
            kind = turn.get("kind", "user")
            entries.append({
                "at": float(turn.get("at") or 0), "kind": kind,
                "author": "职引" if kind == "bot" else "", "text": turn.get("text", ""),
            })
        await self._redis.rpush(
            self.key("transcript", item_id), *[json.dumps(e, ensure_ascii=False) for e in entries]
        )

    async def open_callback(self, item_id: str) -> Optional[Dict[str, str]]:
        """The callback item `item_id` while it is still open (queued or claimed), else None."""
        item = await self.get(item_id) if item_id else None
        if not item or item.get("kind") != "callback" or item.get("status") not in ("queued", "claimed"):
            return None
        return item

    async def callback_phone(self, openid: str) -> str:
        """The number on the user's open callback item ("" when none): a form asking for a phone
        takes it instead of asking for it again."""
        item = await self.open_callback(await self._redis.get(self.callback_key(openid)) or "")
        return (item or {}).get("phone", "")

    async def attach_phone(self, item_id: str, phone: str) -> None:
        """The user left a number for the callback item they already have."""
        await self._redis.hset(self.item_key(item_id), "phone", phone)
        await self.add_transcript(item_id, "system", f"用户留下回电号码 {mask_phone(phone)}")
        await self._emit("updated", item_id)

    async def counsellor_wrote(self, item_id: str, username: str, text: str) -> None:
        """A counsellor's message reached the user. On a callback item it makes the talk live:
        the user's replies go to the counsellor for `live_idle_minutes` after each message."""
        await self.add_transcript(item_id, "counsellor", text, author=username)
        await self._go_live(item_id)

    async def notice_sent(self, item_id: str, username: str) -> None:
        """A service notice asked the user to reply (their 48-hour window was closed): on a
        callback item the reply must reach the counsellor, as after a message."""
        await self.add_transcript(item_id, "system", "已发送服务通知，请用户回复", author=username)
        await self._go_live(item_id)

    async def _go_live(self, item_id: str) -> None:
        item = await self.get(item_id) or {}
        if item.get("kind") != "callback" or not item.get("openid"):
            return
        live_until = self.now() + self.config.live_idle_minutes * 60
        result = await self._redis.eval(
            lua.GO_LIVE, 2, self.active_key(item["openid"]), self.item_key(item_id),
            item_id, repr(live_until), self.item_key(""),
        )
        if result == "ok" and not item.get("live_until"):
            await self.add_transcript(item_id, "system", "用户的回复将转给职业指导师（实时会话）")

    async def live_expired(self, item: Mapping[str, str]) -> bool:
        """True for a live callback whose counsellor has been silent past `live_idle_minutes`;
        it stops holding the user's replies (the item stays open in the console)."""
        if item.get("kind") != "callback" or float(item.get("live_until") or 0) > self.now():
            return False
        if not await self._end_live(item):
            return True  # another message found it expired first
        minutes = f"{self.config.live_idle_minutes:g}"
        await self.add_transcript(item["id"], "system", f"职业指导师 {minutes} 分钟未回复，用户的消息改由机器人回答")
        return True

    async def _end_live(self, item: Mapping[str, str]) -> bool:
        """The callback item no longer holds the user's replies (released, or silent too long);
        True when it did until now."""
        if item.get("kind") != "callback" or not item.get("openid"):
            return False
        return bool(await self._redis.eval(lua.DROP_POINTER, 1, self.active_key(item["openid"]), item["id"]))
