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


def test_the_settings_switch_nlu_batching(tmp_path):
    from dataclasses import replace

    from rasa.core.processor import MessageProcessor

    from bot.rasa_server import nlu_batching, parse_cache
    from bot.settings import load_settings

    settings = load_settings(tmp_path / "missing.env")
    try:
        rasa_patches.install(replace(settings, nlu_batch=True, nlu_batch_max=4, nlu_batch_wait_ms=2.0, nlu_parse_cache=False))
        assert MessageProcessor.parse_message is nlu_batching.parse_message
        assert MessageProcessor.log_message is nlu_batching.log_message
        assert (nlu_batching._Config.max_size, nlu_batching._Config.max_wait_s) == (4, 0.002)
        rasa_patches.install(replace(settings, nlu_batch=False, nlu_parse_cache=False))
        assert MessageProcessor.parse_message is nlu_batching._rasa_parse_message
        assert MessageProcessor.log_message is nlu_batching._rasa_log_message
    finally:
        parse_cache.install(enabled=False)
        nlu_batching.install(enabled=False)


def test_the_parse_cache_wraps_whichever_parse_the_batching_step_installed(tmp_path):
    from dataclasses import replace

    from rasa.core.processor import MessageProcessor

    from bot.rasa_server import nlu_batching, parse_cache
    from bot.settings import load_settings

    settings = load_settings(tmp_path / "missing.env")
    assert settings.nlu_parse_cache  # on by default
    try:
        for batching, inner in ((True, nlu_batching.parse_message), (False, nlu_batching._rasa_parse_message)):
            for _ in range(2):  # every tracker store installs again: never a cache around the cache
                rasa_patches.install(replace(settings, nlu_batch=batching, nlu_parse_cache_size=8))
                assert MessageProcessor.parse_message is parse_cache.parse_message
                assert parse_cache._Config.inner is inner and parse_cache._Config.max_entries == 8
    finally:
        parse_cache.install(enabled=False)
        nlu_batching.install(enabled=False)
    assert MessageProcessor.parse_message is nlu_batching._rasa_parse_message
