"""Service points, one module per concern: model, hours, query, store, replies, files (plain domain code).

Run by the gateway (loads the sample at startup), the action server (searches) and `bot.services.points_cli`.
"""
