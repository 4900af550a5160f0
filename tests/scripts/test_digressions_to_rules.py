"""nlu_data/rules/digressions.yml is generated from actions/forms.py DIGRESSIONS and the forms in
domain.yml, and must stay in step with both."""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import digressions_to_rules  # noqa: E402

from actions.forms import DIGRESSIONS  # noqa: E402


def test_generated_rules_are_up_to_date():
    assert digressions_to_rules.main(["--check"]) == 0, "run scripts/digressions_to_rules.py and retrain"


def test_every_form_has_a_rule_for_every_side_question_that_returns_to_it():
    forms = digressions_to_rules.load_forms()
    rules = yaml.safe_load(digressions_to_rules.OUTPUT.read_text(encoding="utf-8"))["rules"]
    seen = set()
    for rule in rules:
        (form,) = [c["active_loop"] for c in rule["condition"]]
        intent, answer, back, loop = rule["steps"]
        assert DIGRESSIONS[intent["intent"]] == answer["action"]
        assert back == {"action": form} and loop == {"active_loop": form}
        seen.add((form, intent["intent"]))
    assert seen == {(form, intent) for form in forms for intent in DIGRESSIONS}
    assert len(forms) >= 2


def test_every_form_has_a_rule_that_pauses_it_for_each_flow_that_leaves_it():
    from actions.form_pause import SWITCHES, switches_for

    forms = digressions_to_rules.load_forms()
    rules = yaml.safe_load(digressions_to_rules.SWITCH_OUTPUT.read_text(encoding="utf-8"))["rules"]
    seen = set()
    for rule in rules:
        (form,) = [c["active_loop"] for c in rule["condition"]]
        intent, pause, leave = rule["steps"][:3]
        assert pause == {"action": "action_pause_form"} and leave == {"active_loop": None}
        assert intent["intent"] in switches_for(form) and len(rule["steps"]) == 3 + len(SWITCHES[intent["intent"]])
        seen.add((form, intent["intent"]))
    assert seen == {(form, intent) for form in forms for intent in switches_for(form)}
    assert ("workshop_booking_form", "enroll_camp") in seen and ("workshop_booking_form", "book_workshop") not in seen


def test_a_stale_file_or_a_form_that_takes_side_questions_as_answers_is_reported(tmp_path, monkeypatch):
    stale = tmp_path / "digressions.yml"
    stale.write_text("version: '3.1'\nrules: []\n", encoding="utf-8")
    monkeypatch.setattr(digressions_to_rules, "OUTPUT", stale)
    assert digressions_to_rules.main(["--check"]) == 1
    assert digressions_to_rules.main([]) == 0 and digressions_to_rules.main(["--check"]) == 0

    domain = yaml.safe_load(digressions_to_rules.DOMAIN.read_text(encoding="utf-8"))
    domain["forms"]["new_form"] = {"required_slots": ["camp_name"]}  # a future form, no ignored_intents
    changed = tmp_path / "domain.yml"
    changed.write_text(yaml.safe_dump(domain, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(digressions_to_rules, "DOMAIN", changed)
    assert digressions_to_rules.main(["--check"]) == 1
