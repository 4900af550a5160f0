"""The custom menu: `data/wechat_menu.json`, its checks, and the publish command.

The file holds the WeChat menu body under "menu" and, under "click_intents", the Rasa intent
each CLICK key triggers. Publish with `python -m bot.cli.menu publish` (`make wechat-menu`);
`python -m bot.cli.menu check` only validates.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp

from bot.redis_client import create_redis
from bot.settings import PROJECT_ROOT, Settings
from bot.gateway.wechat.api_client import WeChatClient

MENU_PATH = PROJECT_ROOT / "data" / "wechat_menu.json"

# The intents a menu click may trigger (they exist in domain.yml).
MENU_INTENTS = frozenset(
    {
        "greet",
        "find_service_point",
        "find_job_fair",
        "book_workshop",
        "my_bookings",
        "ask_camp_info",
        "enroll_camp",
        "career_assessment",
        "ask_courses",
        "ask_policy",
        "request_human",
        "find_expert",
    }
)

# WeChat's limits: 3 top-level buttons of at most 16 bytes, 5 sub-buttons of at most 60 bytes,
# click keys of at most 128 bytes.
MAX_BUTTONS, MAX_SUB_BUTTONS = 3, 5
MAX_TOP_NAME_BYTES, MAX_SUB_NAME_BYTES, MAX_KEY_BYTES = 16, 60, 128


class MenuError(ValueError):
    pass


def load_menu_file(path: Optional[Path] = None) -> Dict[str, Any]:
    return json.loads((path or MENU_PATH).read_text(encoding="utf-8"))


def validate_menu(doc: Dict[str, Any]) -> List[str]:
    """Every problem found (empty when the file is publishable)."""
    problems: List[str] = []
    buttons = doc.get("menu", {}).get("button")
    intents = doc.get("click_intents", {})
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        return [f"menu.button must hold 1..{MAX_BUTTONS} buttons"]
    keys: List[str] = []
    for top in buttons:
        name = str(top.get("name", ""))
        if not name or len(name.encode("utf-8")) > MAX_TOP_NAME_BYTES:
            problems.append(f"top button name {name!r} must be 1..{MAX_TOP_NAME_BYTES} bytes")
        subs = top.get("sub_button")
        leaves = subs if subs else [top]
        if subs is not None and len(subs) > MAX_SUB_BUTTONS:
            problems.append(f"{name!r} has more than {MAX_SUB_BUTTONS} sub-buttons")
        for leaf in leaves:
            leaf_name = str(leaf.get("name", ""))
            if leaf is not top and (not leaf_name or len(leaf_name.encode("utf-8")) > MAX_SUB_NAME_BYTES):
                problems.append(f"sub-button name {leaf_name!r} is too long or empty")
            if leaf.get("type") == "click":
                key = str(leaf.get("key", ""))
                if not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
                    problems.append(f"click key {key!r} must be 1..{MAX_KEY_BYTES} bytes")
                keys.append(key)
            elif leaf.get("type") == "view":
                if not str(leaf.get("url", "")).startswith(("http://", "https://")):
                    problems.append(f"view button {leaf_name!r} needs an http(s) url")
            else:
                problems.append(f"button {leaf_name!r} has unsupported type {leaf.get('type')!r}")
    if len(set(keys)) != len(keys):
        problems.append("click keys must be unique")
    for key in keys:
        intent = intents.get(key)
        if intent not in MENU_INTENTS:
            problems.append(f"click key {key!r} maps to {intent!r}, not a menu intent")
    for key in intents:
        if key not in keys:
            problems.append(f"click_intents has {key!r} which no button uses")
    return problems


def click_intents(path: Optional[Path] = None) -> Dict[str, str]:
    """CLICK EventKey -> intent name."""
    return dict(load_menu_file(path).get("click_intents", {}))


async def publish(settings: Settings, path: Optional[Path] = None) -> Dict[str, Any]:
    """Validate and publish the menu through WeChatClient.create_menu."""
    doc = load_menu_file(path)
    problems = validate_menu(doc)
    if problems:
        raise MenuError("; ".join(problems))
    redis = create_redis(settings)
    try:
        async with aiohttp.ClientSession() as session:
            client = WeChatClient(settings, redis, session)
            return await client.create_menu(doc["menu"])
    finally:
        await redis.close()
