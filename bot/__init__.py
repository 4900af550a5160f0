"""Zhinan's code, a package per process: `bot.gateway` (the aiohttp gateway), `bot.rasa_server` (loaded by
Rasa's workers), `actions/` (the action server); `bot.services`, `bot.language`, `bot.jobs` are shared."""
