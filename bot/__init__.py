"""Zhinan's code, one package per process: `bot.gateway` (the aiohttp gateway), `bot.rasa_server` (loaded by
Rasa's workers), `actions/` (the action server); shared by all: `bot.services`, `bot.language`, `bot.jobs`, top-level infrastructure."""
