"""bot.rasa_server.action_client: the slim tracker carries everything our actions read of earlier
events, its size stops growing with the parse, the compact body says the same, and a kept-alive
session sends the same request over one connection."""
from __future__ import annotations

from copy import deepcopy
from datetime import date

import ast
import json
from typing import Any, Callable, Dict, List

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker

from actions import camp_ahead, camp_for_whom, done_already, experts, fallback, flow_start, form_early_answers, form_pause, forms, jobs, profile_confirm, service_points
from actions.booking import common as booking_common
from actions.booking import quick as booking_quick
from actions.booking import revise as booking_revise
from actions.form_repair import answered_since_start
from actions.knowledge import consecutive_misses
from actions.trade_of_interest import stated_trade
from bot.rasa_server import action_client, patches
from bot.services.handoff.callbacks import turns_from_events
from bot.settings import PROJECT_ROOT
from tests.helpers.network import serving

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [inform, nlu_fallback, camp_enroll, find_job]
entities: [city, trade]
slots:
  city: {type: text, mappings: [{type: from_entity, entity: city}]}
  camp_name: {type: text, mappings: [{type: custom}]}
  camp_facts_confirm: {type: any, mappings: [{type: custom}]}
forms:
  camp_enroll_form: {required_slots: [camp_name, city]}
"""
)
RANKING = [{"name": f"intent_{n}", "confidence": 0.01 * n} for n in range(10)]


def _user(text: str, intent: str, entities=(), knowledge=None, message_id=None) -> UserUttered:
    parse: Dict[str, Any] = {
        "text": text, "intent": {"name": intent, "confidence": 0.93}, "entities": list(entities),
        "intent_ranking": RANKING, "response_selector": {"all_retrieval_intents": [], "default": {}},
        "message_id": message_id,
    }
    if knowledge is not None:
        parse["knowledge"] = knowledge
    return UserUttered(text, parse["intent"], list(entities), parse, message_id=message_id, input_channel="rest")


def _entity(name: str, value: str) -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": 2, "confidence_entity": 0.99, "extractor": "DIETClassifier"}


def _answered(action: str, reply: str) -> List[Event]:
    return [ActionExecuted(action, policy="RulePolicy", confidence=1.0),
            BotUttered(reply, {"buttons": None, "image": None, "custom": None}, {"utter_action": "utter_x"}),
            ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0)]


MISS = {"decision": "none", "options": [{"id": "veterans_employment", "score": 0.1}]}
CONVERSATION: List[Event] = [
    ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
    _user("俺叫李强 电话13912345678 想找电工的活", "find_job", [_entity("trade", "电工")], message_id="m1"),
    *_answered("action_find_job", "您在哪个城市？"),
    _user("这补贴咋领啊", "nlu_fallback", knowledge=MISS, message_id="m2"),
    *_answered("action_knowledge_answer", "这个问题我还答不上"),
    _user("不明白你说啥", "nlu_fallback", knowledge=MISS, message_id="m3"),
    *_answered("action_knowledge_answer", "转人工吗"),
    _user("我要报实训营", "camp_enroll", message_id="m4"),
    ActionExecuted("action_camp_enroll_start"), SlotSet("camp_facts_confirm", None),
    ActionExecuted("camp_enroll_form"), ActiveLoop("camp_enroll_form"), SlotSet("requested_slot", "camp_name"),
    BotUttered("请问您的姓名？"), ActionExecuted("action_listen"),
    _user("张三", "inform", message_id="m5"),
    SlotSet("camp_name", "张三"), ActionExecuted("camp_enroll_form"), SlotSet("requested_slot", "city"),
    BotUttered("您在哪个城市？"), ActionExecuted("action_listen"),
    _user("济南的", "inform", [_entity("city", "济南")], message_id="m6"),
    SlotSet("city", "济南市"),
]

# Every reader of earlier events in actions/ (found by the guard below), run on one Tracker.
def _after_dropping(tracker: Tracker, slot: str) -> List[Any]:
    copy = deepcopy(tracker)
    forms.drop_candidate(copy, slot)
    last_user = max((i for i, e in enumerate(copy.events) if e.get("event") == "user"), default=-1)
    return [(e.get("event"), e.get("name"), e.get("value")) for e in copy.events[last_user + 1:]] + [copy.slots.get(slot)]


READERS: Dict[str, Callable[[Tracker], Any]] = {
    "booking/common.py:request_id": booking_common.request_id,
    # what the quick booking reads of its run: the form's start and the user's texts since
    "booking/quick.py:run_events": lambda t: [(e.get("event"), e.get("name"), e.get("text")) for e in booking_quick.run_events(t)],
    # a changed topic offers the sessions of the time the user said earlier in the run (its opener too)
    "booking/form.py:revise": lambda t: (booking_revise.user_texts_of_run(t.events, booking_quick.FORM),
                                         booking_revise.topic_before(t.events)),
    # the name and phone the user gave in the conversation, for the booking's questions
    "booking/common.py:contact_in_events": booking_common.contact_in_events,
    # an enrolment for someone else: its run's messages, and the facts said about them
    "camp_for_whom.py:run_texts": camp_for_whom.run_texts,
    # the city the user named in words, for the camp's city question
    "camp_ahead.py:city_named": camp_ahead.city_named,
    "camp_for_whom.py:facts_said_for_them": lambda t: camp_for_whom.facts_said_for_them(t, date(2026, 12, 1)),
    "done_already.py:recent_enrolment_text": done_already.recent_enrolment_text,
    "experts.py:_request_text": experts._request_text,
    # a form left at once keeps its answers for "继续", one left after "确定放弃吗" does not
    "form_pause.py:kept_on_leaving": lambda t: form_pause.asked_to_confirm(t.events, booking_quick.FORM),
    "fallback.py:facts_of_the_turn": fallback.facts_of_the_turn,
    "flow_start.py:enrol_camp_named_before": flow_start.enrol_camp_named_before,
    "flow_start.py:last_bot_action": flow_start.last_bot_action,
    "flow_start.py:last_bot_text": flow_start.last_bot_text,
    "flow_start.py:started_this_turn": flow_start.started_this_turn,
    # the name and phone said before a form starts (a side question, a handoff request)
    "form_early_answers.py:said_before": lambda t: form_early_answers.said_before(t, ["booking_name", "booking_phone"]),
    "forms.py:resuming_after_digression": forms.resuming_after_digression,
    # what stays of the latest turn once a mapping's candidate for the name is dropped
    "forms.py:drop_candidate": lambda t: _after_dropping(t, "camp_name"),
    "forms.py:set_since_last_message": lambda t: sorted(forms.set_since_last_message(t)),
    "forms.py:leave": lambda t: answered_since_start(t.events, "camp_enroll_form", ["camp_name", "city"], t.slots),
    "handoff.py:_conversation_so_far": lambda t: turns_from_events(t.events, drop_latest_user=True),
    "jobs.py:_remembered_trade": jobs._remembered_trade,
    "knowledge.py:run": lambda t: consecutive_misses(t.events),
    "profile_confirm.py:pending": lambda t: profile_confirm.pending(t, "camp_facts_confirm"),
    "service_points.py:last_action_in": lambda t: service_points.last_action_in(t, {"action_find_job"}),
    "trade_of_interest.py:stated_trade": stated_trade,
    # rasa_sdk's own readers of the events
    "rasa_sdk:applied_events": lambda t: [(e["event"], e.get("name")) for e in t.applied_events()],
    "rasa_sdk:slots_to_validate": lambda t: t.slots_to_validate(),
    "rasa_sdk:latest_message": lambda t: (t.latest_message, t.active_loop, t.latest_action_name),
}


def _bodies(events: List[Event]) -> Dict[str, Dict[str, Any]]:
    tracker = DialogueStateTracker.from_events("user-1", events, DOMAIN.slots)
    bodies = {}
    for slim in (False, True):
        endpoint = EndpointConfig("http://127.0.0.1:1/webhook", slim_tracker=slim, enable_selective_domain=True)
        bodies["slim" if slim else "rasa"] = RemoteAction("action_x", endpoint)._action_call_format(tracker, DOMAIN)
    return bodies


@pytest.fixture(autouse=True)
def installed():
    patches.install()


def test_every_reader_of_earlier_events_is_checked_here():
    """A new action reading tracker.events must be added to READERS (and its keys kept)."""
    found = set()
    root = PROJECT_ROOT / "actions"
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                isinstance(n, ast.Attribute) and n.attr == "events" for n in ast.walk(node)
            ):
                found.add(f"{path.relative_to(root).as_posix()}:{node.name}")
    assert found == {name for name in READERS if not name.startswith("rasa_sdk:")}


@pytest.mark.parametrize("end", range(4, len(CONVERSATION) + 1))
def test_the_slim_tracker_reads_the_same_at_every_point(end):
    bodies = _bodies(CONVERSATION[:end])
    full, slim = (Tracker.from_dict(bodies[kind]["tracker"]) for kind in ("rasa", "slim"))
    for name, reader in READERS.items():
        assert reader(slim) == reader(full), name
    rasa_body, slim_body = bodies["rasa"], bodies["slim"]
    assert {k: v for k, v in slim_body["tracker"].items() if k != "events"} == {
        k: v for k, v in rasa_body["tracker"].items() if k != "events"}
    assert {k: v for k, v in slim_body.items() if k != "tracker"} == {k: v for k, v in rasa_body.items() if k != "tracker"}
    assert [e["event"] for e in slim_body["tracker"]["events"]] == [e["event"] for e in rasa_body["tracker"]["events"]]


def test_the_latest_message_and_what_follows_go_whole():
    bodies = _bodies(CONVERSATION)
    rasa_events, slim_events = (bodies[k]["tracker"]["events"] for k in ("rasa", "slim"))
    latest = max(i for i, e in enumerate(rasa_events) if e["event"] == "user")
    assert slim_events[latest:] == rasa_events[latest:]
    earlier = slim_events[3]
    assert "intent_ranking" not in earlier["parse_data"] and earlier["parse_data"]["entities"]
    assert slim_events[4] == {"event": "action", "timestamp": rasa_events[4]["timestamp"], "name": "action_find_job"}
    assert slim_events[5]["data"] == {} and "metadata" not in slim_events[5]


def test_a_long_conversation_sends_earlier_messages_small():
    turns = [e for n in range(60) for e in (_user(f"第{n}个问题，想问问补贴怎么领", "nlu_fallback", knowledge=MISS),
                                             *_answered("action_knowledge_answer", "答复" * 20))]
    bodies = _bodies([ActionExecuted("action_session_start"), SessionStarted(), *turns])
    rasa_size, slim_size = (len(json.dumps(bodies[k]).encode()) for k in ("rasa", "slim"))
    assert slim_size < 0.7 * rasa_size
    per_user = [len(json.dumps(e)) for e in bodies["slim"]["tracker"]["events"][:-4] if e["event"] == "user"]
    assert max(per_user) < 600  # text, intent, entities, the knowledge decision: no ranking


def test_compact_json_says_the_same_in_fewer_bytes():
    body = _bodies(CONVERSATION)["slim"]
    compact = action_client.dumps(body)
    assert json.loads(compact.decode("utf-8")) == json.loads(json.dumps(body))
    assert len(compact) < len(json.dumps(body).encode())
    assert "张三".encode() in compact


@pytest.fixture
async def action_server():
    """An action server double: answers with one slot event, counts connections and bodies."""
    seen: Dict[str, Any] = {"peers": set(), "bodies": [], "headers": []}

    async def webhook(request: web.Request) -> web.Response:
        seen["peers"].add(request.transport.get_extra_info("peername"))
        seen["headers"].append(dict(request.headers))
        body = await request.json()
        seen["bodies"].append(body)
        if body["next_action"] == "action_reject":
            return web.json_response({"action_name": "action_reject", "error": "no"}, status=400)
        return web.json_response({"events": [{"event": "slot", "name": "city", "value": "青岛市"}], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    async with serving(app) as base_url:
        yield f"{base_url}/webhook", seen
        await action_client.close_session()


@pytest.mark.parametrize("keep_alive", [False, True])
async def test_requests_go_as_rasas_and_keep_one_connection_when_asked(action_server, keep_alive):
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.core.channels.channel import CollectingOutputChannel

    url, seen = action_server
    endpoint = EndpointConfig(url, headers={"Authorization": "Bearer s3"}, slim_tracker=True,
                              compact_json=True, keep_alive=keep_alive, enable_selective_domain=True)
    tracker = DialogueStateTracker.from_events("user-1", CONVERSATION, DOMAIN.slots)
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    for _ in range(3):
        events = await RemoteAction("action_x", endpoint).run(CollectingOutputChannel(), nlg, tracker, DOMAIN)
        assert events == [SlotSet("city", "青岛市")]
    assert len(seen["peers"]) == (1 if keep_alive else 3)
    assert all(h["Authorization"] == "Bearer s3" and h["Content-Type"].startswith("application/json") for h in seen["headers"])
    assert seen["bodies"][0]["tracker"]["latest_message"]["text"] == "济南的"
    with pytest.raises(ActionExecutionRejection):
        await RemoteAction("action_reject", endpoint).run(CollectingOutputChannel(), nlg, tracker, DOMAIN)
