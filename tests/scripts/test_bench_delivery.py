"""scripts/bench_delivery.py: late turns answered by 客服 messages, and answers sent twice, read from
the fake WeChat API's record of what went out (an app serving only that record here)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Dict, List

from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

delivery = importlib.import_module("bench_delivery")


def fake_record(sent: Dict[str, List[str]]) -> web.Application:
    async def sent_to(request: web.Request) -> web.Response:
        texts = sent.get(request.query["touser"], [])
        return web.json_response({"messages": [
            {"kind": "custom", "touser": request.query["touser"], "msgtype": "text", "payload": {"msgtype": "text", "text": {"content": t}}}
            for t in texts
        ]})

    app = web.Application()
    app.router.add_get("/fake-wechat/_sent", sent_to)
    return app


async def test_each_late_turn_answered_once(aiohttp_server):
    answers = delivery.Answers()
    answers.note("u1", ["济南市历下区的服务点在……"])
    answers.note("u1", [])  # answered later
    answers.note("u2", ["好的，已为您报名"])
    server = await aiohttp_server(fake_record({"u1": ["您可以带上简历去"]}))
    line = await delivery.check(str(server.make_url("")).rstrip("/"), answers, settle_s=0)
    assert "1 turns of 1 users had no passive answer; 1 answered by 客服 messages, 0 not, 0 客服 messages beyond" in line
    assert "to users with no late turn: 0;" in line and line.endswith("twice): 0")


async def test_missing_and_repeated_answers_are_counted(aiohttp_server):
    answers = delivery.Answers()
    answers.note("u1", [])
    answers.note("u1", [])
    answers.note("u2", ["好的，已为您报名"])
    server = await aiohttp_server(fake_record({"u1": ["一条"], "u2": ["好的，已为您报名"]}))
    line = await delivery.check(str(server.make_url("")).rstrip("/"), answers, settle_s=0)
    assert "2 turns of 1 users had no passive answer; 1 answered by 客服 messages, 1 not, 0 客服 messages beyond" in line
    assert "to users with no late turn: 1;" in line and line.endswith("twice): 1")


async def test_more_messages_than_late_turns_are_counted(aiohttp_server):
    answers = delivery.Answers()
    answers.note("u1", [])
    server = await aiohttp_server(fake_record({"u1": ["答复", "答复"]}))
    line = await delivery.check(str(server.make_url("")).rstrip("/"), answers, settle_s=0)
    assert "1 answered by 客服 messages, 0 not, 1 客服 messages beyond one a late turn" in line
