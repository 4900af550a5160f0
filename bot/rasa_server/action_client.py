"""How Rasa calls the action server (issue #23): a slim tracker, compact JSON, one kept-alive connection.

Rasa 3.6 posts the whole tracker to the action server for every custom action (every event as
`Event.as_dict()`, each user message with its full parse: the intent ranking, the e5 retrieval's
options …), serialises it with the standard `json` (non-ASCII escaped, so each Chinese character
travels as six bytes) and opens a new HTTP session and connection per call. Each part is switched
on `action_endpoint` in endpoints.yml (`EndpointConfig` keeps unknown keys in `kwargs`):

- `slim_tracker: true`: every event is sent, in order, but the events before the latest user
  message carry only what an action reads of them: a user message its text, intent, entities
  and knowledge decision (`USER_KEYS`, `PARSE_KEYS`; not the intent ranking), every event
  without its metadata (the model's id), an action without the policy that chose it (`DROPPED`),
  a bot message without its empty `data` fields. The latest user message and everything after
  it go as Rasa builds them. rasa_sdk's `Tracker` needs the event order and types (`applied_events`,
  `slots_to_validate`), so no event is dropped. What the actions read from earlier events is
  listed in `tests/bot/rasa_server/test_action_client.py`, which runs each reader on both forms.
- `compact_json: true`: the body is ujson (a Rasa dependency), UTF-8 without escapes or spaces.
- `keep_alive: true`: one `aiohttp` session per event loop, its connections kept alive for
  `KEEP_ALIVE_S`, less than the action server's (Sanic's 5 s), so the server never closes a
  connection this side is about to reuse.

Installed by `bot/rasa_server/patches.py`. With none of the keys set Rasa's own code runs.
"""
from __future__ import annotations

import asyncio
import atexit
import json
import weakref
from typing import Any, Dict, List, Optional, Text

import aiohttp
import rasa
import ujson
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url

from bot.services.knowledge.retrieval import PARSE_KEY as KNOWLEDGE_PARSE_KEY

SLIM_TRACKER, COMPACT_JSON, KEEP_ALIVE = "slim_tracker", "compact_json", "keep_alive"
# What actions read of an earlier user message (the latest one goes whole).
USER_KEYS = ("event", "timestamp", "text", "message_id", "input_channel", "parse_data")
PARSE_KEYS = ("intent", "entities", "text", "message_id", KNOWLEDGE_PARSE_KEY)
# What no action reads of other earlier events, by event type (default: the metadata).
DROPPED = {"action": ("metadata", "policy", "confidence", "hide_rule_turn", "action_text")}
KEEP_ALIVE_S = 2.0
POOL_SIZE = 32

_rasa_action_call_format = RemoteAction._action_call_format
_rasa_request = EndpointConfig.request
_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]" = weakref.WeakKeyDictionary()


def _enabled(endpoint: Optional[EndpointConfig], key: str) -> bool:
    return bool(endpoint is not None and endpoint.kwargs.get(key))


# -- the payload ---------------------------------------------------------------------------------


def slim_user(event: Dict[str, Any]) -> Dict[str, Any]:
    slim = {key: event[key] for key in USER_KEYS if key in event}
    parse = event.get("parse_data")
    if isinstance(parse, dict):
        slim["parse_data"] = {key: parse[key] for key in PARSE_KEYS if key in parse}
    return slim


def slim_other(event: Dict[str, Any]) -> Dict[str, Any]:
    """Any other earlier event without its metadata (the model's id on every event), a bot
    message without its empty `data` fields, an action without the policy that chose it."""
    slim = {key: value for key, value in event.items() if key not in DROPPED.get(event.get("event"), ("metadata",))}
    data = slim.get("data")
    if isinstance(data, dict):
        slim["data"] = {key: value for key, value in data.items() if value}
    return slim


def slim_events(events: List[Event]) -> List[Dict[str, Any]]:
    """The events as dicts, those before the latest user message slimmed."""
    latest_user = max((i for i, e in enumerate(events) if isinstance(e, UserUttered)), default=-1)
    slimmed: List[Dict[str, Any]] = []
    for index, event in enumerate(events):
        as_dict = event.as_dict()
        if index < latest_user:
            as_dict = slim_user(as_dict) if isinstance(event, UserUttered) else slim_other(as_dict)
        slimmed.append(as_dict)
    return slimmed


def _action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> Dict[Text, Any]:
    """Rasa's request body (`RemoteAction._action_call_format`) with the slim events."""
    if not _enabled(self.action_endpoint, SLIM_TRACKER):
        return _rasa_action_call_format(self, tracker, domain)
    state = tracker.current_state(EventVerbosity.NONE)  # everything but the events
    state["events"] = slim_events(list(tracker.events))
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state, "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


# -- the request ---------------------------------------------------------------------------------


def dumps(body: Any) -> bytes:
    try:
        return ujson.dumps(body, ensure_ascii=False, escape_forward_slashes=False).encode("utf-8")
    except (TypeError, OverflowError, ValueError):  # ujson refuses what json may accept: Rasa's way
        return json.dumps(body).encode("utf-8")


def _session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        connector = aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=KEEP_ALIVE_S)
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"]) if endpoint.basic_auth else None
        session = aiohttp.ClientSession(connector=connector, auth=auth)
        _sessions[loop] = session
    return session


async def _request(
    self: EndpointConfig,
    method: Text = "post",
    subpath: Optional[Text] = None,
    content_type: Optional[Text] = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Optional[Any]:
    """Rasa's `EndpointConfig.request` for the action endpoint, with our body and session."""
    compact, kept = _enabled(self, COMPACT_JSON), _enabled(self, KEEP_ALIVE)
    if not (compact or kept) or self.cafile:
        return await _rasa_request(self, method, subpath, content_type, compress, **kwargs)
    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(kwargs.pop("headers", {}) or {})
    headers.update(self.headers or {})
    if compact and "json" in kwargs:
        kwargs["data"] = dumps(kwargs.pop("json"))
    params = self.combine_parameters(kwargs)
    if kept:
        return await _send(_session(self), method, concat_url(self.url, subpath), headers, params, compress, kwargs)
    async with self.session() as session:
        return await _send(session, method, concat_url(self.url, subpath), headers, params, compress, kwargs)


async def _send(
    session: aiohttp.ClientSession, method: Text, url: Text, headers: Dict[str, str],
    params: Dict[str, Any], compress: bool, kwargs: Dict[str, Any],
) -> Optional[Any]:
    async with session.request(method, url, headers=headers, params=params, compress=compress, **kwargs) as response:
        if response.status >= 400:
            raise ClientResponseError(response.status, response.reason, await response.content.read())
        try:
            return await response.json(loads=ujson.loads)
        except aiohttp.ContentTypeError:
            return None


async def close_session() -> None:
    """Close this event loop's kept-alive session (tests, the profile)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


@atexit.register
def _close_sessions() -> None:
    """Close the kept-alive connections when the worker exits (its loop no longer runs)."""
    for session in list(_sessions.values()):
        try:
            connector = session.connector
            session.detach()
            if connector is not None:
                connector._close()  # synchronous; `close()` only wraps it in an awaitable
        except Exception:  # at exit nothing more is to be done
            pass


def install() -> None:
    """Idempotent. Without the endpoints.yml keys the patched methods call Rasa's own."""
    RemoteAction._action_call_format = _action_call_format
    EndpointConfig.request = _request
