"""Speed fixes for the Rasa 3.6 server process, measured, behaviour unchanged.

Installed by `AppendOnlyRedisTrackerStore` (bot/rasa_server/tracker_store.py): endpoints.yml makes every
Rasa worker process create one, so it is the one Zhinan module that runs in each of them.

- Action-server responses: Rasa checks each one with `jsonschema.validate(result, schema)`, which
  validates the schema itself against its meta-schema and builds a new validator on every call.
  py-spy on a Rasa worker under 32 concurrent users put 20 % of its CPU there. The schema never
  changes, so one validator built at start-up checks every response; a response that fails goes
  through Rasa's own method, which raises Rasa's own error.
- The action server's request: a slim tracker, compact JSON, a kept-alive connection, each as
  endpoints.yml's `action_endpoint` asks (`bot/rasa_server/action_client.py`).
- The graph runner builds the graph of each set of targets once (`bot/rasa_server/graph_runner.py`).
- NLU parses of concurrent users in one graph run (`nlu_batching.py`), when the settings ask for it
  (`NLU_BATCH`, `NLU_BATCH_MAX`, `NLU_BATCH_WAIT_MS`).
- Whole parses of texts that recur verbatim served from a cache (`parse_cache.py`; `NLU_PARSE_CACHE`,
  `NLU_PARSE_CACHE_SIZE`), wrapped around whatever the batching step installed.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

from bot.rasa_server import action_client, graph_runner
from bot.rasa_server import nlu_batching, parse_cache
from bot.settings import Settings

_rasa_validate_action_result = RemoteAction._validate_action_result
_response_validator = None


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    # Only installed once the validator exists (install below).
    if _response_validator.is_valid(result):
        return True
    return _rasa_validate_action_result(self, result)


def install(settings: Optional[Settings] = None) -> None:
    """Idempotent: safe to call from every tracker store created in the process. With `settings`,
    NLU batching and the parse cache are switched as they say."""
    global _response_validator
    if settings is not None:
        nlu_batching.install(settings.nlu_batch, settings.nlu_batch_max, settings.nlu_batch_wait_ms)
        parse_cache.install(settings.nlu_parse_cache, settings.nlu_parse_cache_size)  # after: it wraps batching
    if _response_validator is None:
        schema = RemoteAction.action_response_format_spec()
        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        _response_validator = validator_class(schema)
        RemoteAction._validate_action_result = _validate_action_result
        action_client.install()
        graph_runner.install()
