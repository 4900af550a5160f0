"""Run the rasa-sdk action server on loopback, answering only callers that hold the shared secret.

`python -m actions.server` (bot/stack.py starts it) replaces `rasa run actions`, which binds
0.0.0.0 and runs any action for any sender_id it is sent. Rasa sends the secret as
`Authorization: Bearer <ACTION_SERVER_TOKEN>` (endpoints.yml, `action_endpoint.headers`).
It lives with the actions because it is their process's launcher; rasa-sdk imports it with the
other modules of `actions/` and finds no action in it.
"""
from __future__ import annotations

import argparse
import logging
from typing import List, Optional

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.bearer import bearer_matches
from bot.log_masking import install_phone_masking
from bot.settings import load_settings

logger = logging.getLogger(__name__)

# Only the liveness probe stays open: it reveals nothing, and the gateway's /healthz and
# bot/stack.py poll it without the secret.
OPEN_PATHS = frozenset({"/health"})


def require_token(app: Sanic, token: str) -> None:
    """Answer 401 to every request but OPEN_PATHS that lacks the secret, before any action runs."""
    if not token:
        raise ValueError("the action server needs a non-empty ACTION_SERVER_TOKEN")

    @app.middleware("request")
    async def _check_token(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        if bearer_matches(request.headers.get("Authorization"), token):
            return None
        return response.json({"error": "unauthorized"}, status=401)


def build_app(token: str, actions_package: str = "actions") -> Sanic:
    # No CORS origins: only Rasa calls this server, never a browser.
    app = create_app(actions_package, cors_origins="")
    require_token(app, token)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def main(argv: Optional[List[str]] = None) -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(description="Zhinan action server (loopback, shared secret)")
    parser.add_argument("--host", default=settings.action_server_host)
    parser.add_argument("--port", type=int, default=settings.action_server_port)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    app = build_app(settings.action_server_token, args.actions)
    for name in ("", "sanic.root", "sanic.error"):  # Sanic's loggers have handlers of their own
        install_phone_masking(logging.getLogger(name))
    logger.info("action server on http://%s:%s", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
