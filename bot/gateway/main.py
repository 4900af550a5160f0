"""Run the gateway: `python -m bot.gateway.main` (normally started by `make run`)."""
from __future__ import annotations

import logging

from aiohttp import web

from bot.gateway.app import create_app
from bot.log_masking import install_phone_masking
from bot.gateway.production import cannot_start, load_startable_settings
from bot.services.staff_yaml import ConfigError


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_phone_masking()
    settings = load_startable_settings()  # exits with one line per problem
    try:
        app = create_app(settings)
    except ConfigError as exc:  # a file staff edit, e.g. config/handoff_cities.yml
        cannot_start(exc)
    web.run_app(
        app,
        host=settings.gateway_host,
        port=settings.gateway_port,
        access_log=None,  # per-request logs would carry OpenIDs; metrics cover traffic
        print=None,
    )


if __name__ == "__main__":
    main()
