"""Service points, one module per concern: model, hours, query, store, replies, files (plain code).
Run by the gateway (loads the sample), the action server (searches), `bot.cli.points`."""
