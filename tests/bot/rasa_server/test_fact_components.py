"""The profile-fact component in the NLU pipeline: entities from any message, relative to the
message's own day, other extractors' guesses of the same facts replaced."""
from __future__ import annotations

from datetime import datetime

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.clock import SHANGHAI
from bot.rasa_server.fact_components import ProfileFactExtractor


@pytest.fixture
def component(tmp_path):
    storage = LocalModelStorage(tmp_path)
    return ProfileFactExtractor.create({}, storage, Resource("facts"), ExecutionContext(GraphSchema({}), "m"))


def sent_on(year: int, month: int, day: int) -> float:
    return datetime(year, month, day, 9, 0, tzinfo=SHANGHAI).timestamp()


def entities(message: Message) -> dict:
    return {e["entity"]: e["value"] for e in message.get("entities") or []}


def test_last_year_is_the_year_before_the_message_was_sent(component):
    on_new_year = Message(data={"text": "我去年毕业的，今年24"}, time=sent_on(2027, 1, 1))
    on_new_years_eve = Message(data={"text": "我去年毕业的，今年24"}, time=sent_on(2026, 12, 31))
    component.process([on_new_year, on_new_years_eve])
    assert entities(on_new_year) == {"graduation_year": "2026", "age": "24"}
    assert entities(on_new_years_eve) == {"graduation_year": "2025", "age": "24"}


def test_a_school_adds_school_and_city_and_keeps_other_entities(component):
    message = Message(data={"text": "我是山东师范大学的，想约简历指导", "entities": [
        {"entity": "workshop_topic", "value": "简历指导", "start": 12, "end": 16, "extractor": "DIETClassifier"},
        {"entity": "school", "value": "山东师范", "start": 2, "end": 6, "extractor": "DIETClassifier"},
    ]}, time=sent_on(2026, 12, 4))
    component.process([message])
    found = entities(message)
    assert found == {"workshop_topic": "简历指导", "school": "山东师范大学", "city": "济南市"}
    school = next(e for e in message.get("entities") if e["entity"] == "school")
    assert (school["start"], school["end"], school["extractor"]) == (2, 8, "ProfileFactExtractor")


def test_a_diet_age_guess_in_someone_elses_sentence_is_dropped(component):
    message = Message(data={"text": "我儿子25了能报吗", "entities": [
        {"entity": "age", "value": "25", "start": 3, "end": 5, "extractor": "DIETClassifier"}]}, time=sent_on(2026, 12, 4))
    component.process([message])
    assert entities(message) == {}


def test_triggers_are_left_alone(component):
    message = Message(data={"text": '/find_service_point{"latitude": 36.6}', "entities": []})
    component.process([message])
    assert message.get("entities") == []
