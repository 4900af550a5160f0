"""nlu_data/nlu/knowledge.yml is generated from the knowledge base and must stay in step with it."""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import knowledge_to_nlu  # noqa: E402

from bot.services.knowledge.base import load_knowledge  # noqa: E402


def test_generated_file_is_up_to_date():
    assert knowledge_to_nlu.main(["--check"]) == 0, "run scripts/knowledge_to_nlu.py and retrain"


def test_every_variant_teaches_ask_policy_unless_another_intent_has_it():
    generated = yaml.safe_load(knowledge_to_nlu.OUTPUT.read_text(encoding="utf-8"))["nlu"]
    by_intent = {block["intent"]: {line[2:] for line in block["examples"].splitlines()} for block in generated}
    taken = knowledge_to_nlu.other_examples()
    kb = load_knowledge()
    for item in kb.items:
        for variant in item.variants:
            assert variant in by_intent["ask_policy"] or variant in taken, (item.id, variant)
    assert not by_intent["ask_policy"] & taken  # Rasa refuses one text under two intents
    assert set(kb.off_topic_calibration) - taken <= by_intent.get("out_of_scope", set())


def test_a_stale_file_is_reported(tmp_path, monkeypatch):
    stale = tmp_path / "knowledge.yml"
    stale.write_text("version: '3.1'\nnlu: []\n", encoding="utf-8")
    monkeypatch.setattr(knowledge_to_nlu, "OUTPUT", stale)
    assert knowledge_to_nlu.main(["--check"]) == 1
    assert knowledge_to_nlu.main([]) == 0 and knowledge_to_nlu.main(["--check"]) == 0
