"""scripts/bench_compare.py: the stock bot's ports, memory of a process tree, the side-by-side table."""
from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from pathlib import Path

import aiohttp
from aiohttp import web

from tests.helpers.network import serving

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

compare = importlib.import_module("bench_compare")

ENDPOINTS = """action_endpoint:
  url: "http://127.0.0.1:5155/webhook"
tracker_store:
  type: redis
  port: 6390
lock_store:
  type: redis
  port: 6390
"""


def test_the_stock_bot_gets_our_free_ports():
    text = compare.baseline_endpoints(ENDPOINTS, 41001, 41002)
    assert "127.0.0.1:41002/webhook" in text
    assert text.count("port: 41001") == 2
    assert "6390" not in text and "5155" not in text


def test_the_stock_bot_is_trained_when_it_has_no_model_or_an_older_one(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "nlu.yml").write_text("nlu: []")
    (tmp_path / "config.yml").write_text("language: zh")
    assert compare.baseline_needs_training(tmp_path)
    model = tmp_path / compare.BASELINE_MODEL
    model.parent.mkdir()
    model.write_bytes(b"model")
    os.utime(tmp_path / "config.yml", (1_000_000, 1_000_000))
    os.utime(tmp_path / "data" / "nlu.yml", (1_000_000, 1_000_000))
    assert not compare.baseline_needs_training(tmp_path)
    os.utime(tmp_path / "data" / "nlu.yml", (model.stat().st_mtime + 10,) * 2)
    assert compare.baseline_needs_training(tmp_path)


def test_the_stock_bot_is_trained_with_the_command_of_its_own_train_script():
    script = (compare.BASELINE_SOURCE / "train.sh").read_text(encoding="utf-8").splitlines()
    rasa_line = [line.split() for line in script if line.strip().startswith("rasa train")]
    assert rasa_line == [["rasa", *compare.BASELINE_TRAIN_ARGS]]


def test_memory_of_a_process_tree_is_counted():
    own = compare.tree_memory_mb([os.getpid()])
    assert own.rss > 10 and 0 < own.pss <= own.rss
    assert compare.tree_memory_mb([2**22 + 17]) == compare.ZERO  # a process that is gone counts nothing


def _figures(rate: float, p99: float, rss: float) -> dict:
    return {
        "ready_s": 30.0, "memory": compare.Memory(rss, rss * 0.7, rss * 0.5),
        "gateway": {"rate": rate, "p50": 100, "p95": 200, "p99": p99, "max": 400, "errors": 0,
                    "unanswered": 0, "messages": 60, "distinct": 60, "sent": 60, "distinct_share": 1.0},
        "parse": {"p50": 7.0, "p99": 9.0},
        "long": {"first": 30, "last": 33},
        "caches": ["cache hit rate : no cache"],
    }


def test_side_by_side_prints_both_and_the_ratio():
    args = argparse.Namespace(baseline_workers=2, users=4, messages=60)
    text = compare.side_by_side(_figures(80.0, 2000, 3000), _figures(160.0, 300, 1500), args)
    throughput = next(line for line in text.splitlines() if line.startswith("throughput"))
    assert throughput.split()[-3:] == ["80.0", "160.0", "2.00×"]
    memory = next(line for line in text.splitlines() if line.startswith("resident memory"))
    assert memory.endswith("0.50×")
    occupied = next(line for line in text.splitlines() if line.startswith("memory occupied, PSS"))
    assert occupied.split()[-3:] == ["2100", "1050", "0.50×"]
    assert "stock  cache hit rate : no cache" in text and "Zhinan cache hit rate" in text
    assert "Compare only within this run" in text


def test_the_rest_sender_reads_the_stock_bots_replies():
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": "回复" + body["message"]}])

    async def scenario() -> tuple:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        async with serving(app) as base_url:
            send = compare.rest_sender(base_url)
            async with aiohttp.ClientSession() as session:
                return await send(session, "u1", "你好呀")

    elapsed, ok, replies = asyncio.run(scenario())
    assert ok and replies == ["回复你好呀"] and elapsed >= 0
