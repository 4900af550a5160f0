"""Run the gateway: `python -m bot.gateway.main` (normally started by `make run`)."""
from __future__ import annotations

import logging

from aiohttp import web

from bot.gateway.app import create_app
from bot.log_masking import install_phone_masking
from bot.gateway.production import load_startable_settings


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_phone_masking()
    settings = load_startable_settings()  # exits with one line per problem
    web.run_app(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        access_log=None,  # per-request logs would carry OpenIDs; metrics cover traffic
        print=None,
    )


if __name__ == "__main__":
    main()
