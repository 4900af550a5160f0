"""Camp push campaigns: `store` (definition, report), `worker` (sending), `jobs` (queueing), `cli`.

Run by the gateway (job runner via `bot.runtime`, console); staff: `python -m bot.services.campaigns`.
"""
