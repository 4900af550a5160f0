"""Rasa (a trained model) and the action server on free ports: what the stack tests
(tests/conftest.py `stack_env`) and the dialogue corpus runner (scripts/eval_dialogues.py) start
before putting an in-process gateway in front of them."""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Dict, Optional

from bot.settings import load_settings
from bot.stack import Stack, StackError, free_port


def rasa_side_variables(redis_url: str, prefix: str) -> Dict[str, str]:
    """The environment that defines the settings of Rasa, the action server and their gateway."""
    rasa_port, action_port = free_port(), free_port()
    return {
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "RASA_PORT": str(rasa_port),
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "ACTION_SERVER_PORT": str(action_port),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
        "RASA_TOKEN": "test-" + uuid.uuid4().hex[:8],
        # Not the default: the stack tests prove Rasa sends the configured secret to the actions.
        "ACTION_SERVER_TOKEN": "test-actions-" + uuid.uuid4().hex,
    }


def start_rasa_side(env: Dict[str, str], log_dir: Path, model: Path,
                    rasa_env: Optional[Dict[str, str]] = None) -> Stack:
    """Start the action server, then Rasa; `env` must already be in os.environ (settings read it).

    Raises StackError after stopping whatever did start."""
    missing = [name for name, value in env.items() if os.environ.get(name) != value]
    if missing:
        raise ValueError(f"set these variables before starting: {', '.join(missing)}")
    stack = Stack(load_settings(), log_dir, env=env)
    try:
        stack.start_action_server()
        stack.start_rasa(model, rasa_env)
    except StackError:
        stack.stop()
        raise
    return stack
