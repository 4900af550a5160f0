"""The trade the user said they want to do ("想干电工", "学电商": issue #21 item 1), for the actions
that can use it: the job search, the course suggestions, and the "记下了" reply that says it back.

`bot/rasa_server/fact_components.py` adds it to the parse of the user's own words as the entity `trade`
(bot/services/profile_facts.py, bot/services/trades.py); the latest one said in the conversation
is the one that holds, so a changed mind ("还是想做餐饮吧") wins.
"""
from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker

TRADE_ENTITY = "trade"


def _trade_in(parse: dict) -> Optional[str]:
    return next((str(e["value"]) for e in parse.get("entities") or [] if e.get("entity") == TRADE_ENTITY and e.get("value")), None)


def trade_of_the_turn(tracker: Tracker) -> Optional[str]:
    """The trade the latest message says the user wants to do."""
    return _trade_in(tracker.latest_message or {})


def stated_trade(tracker: Tracker) -> Optional[str]:
    """The trade the user last said they want to do, in this conversation."""
    for event in reversed(list(tracker.events or [])):
        if event.get("event") == "user":
            trade = _trade_in(event.get("parse_data") or {})
            if trade:
                return trade
    return _trade_in(tracker.latest_message or {})
