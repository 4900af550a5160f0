"""Camp push campaigns: `store` (definition, report), `worker` (sending), `jobs` (queueing).

Run by the gateway (job runner via `bot.gateway.runtime`, console); staff: `python -m bot.cli.campaigns`.
"""
