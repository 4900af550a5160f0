"""bot.rasa_server.patches: one cached action-response check that accepts and refuses as Rasa does."""
from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_server import patches as rasa_patches

VALID = {
    "events": [{"event": "slot", "name": "city", "value": "济南市"}],
    "responses": [{"text": "好的", "buttons": [], "image": None, "elements": [], "attachment": None}],
}


@pytest.fixture
def action() -> RemoteAction:
    rasa_patches.install()
    return RemoteAction("action_find_service_point", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_valid_responses_pass_without_rebuilding_the_validator(action, monkeypatch):
    def no_schema_check(*_args, **_kwargs):
        raise AssertionError("the schema was checked again for one response")

    monkeypatch.setattr(jsonschema, "validate", no_schema_check)
    assert action._validate_action_result(VALID) is True
    assert action._validate_action_result({"events": [], "responses": []}) is True


BAD = [{"events": "not a list"}, {"responses": ["好的"]}, {"events": [{"event": "no_such_event"}]}]


@pytest.mark.parametrize("bad", BAD)
def test_invalid_responses_get_rasas_own_error(action, bad):
    expected = "Failed to validate Action server response"
    with pytest.raises(jsonschema.ValidationError, match=expected):
        action._validate_action_result(bad)


def test_install_twice_keeps_one_patch():
    rasa_patches.install()
    patched = RemoteAction._validate_action_result
    rasa_patches.install()
    assert RemoteAction._validate_action_result is patched is rasa_patches._validate_action_result
