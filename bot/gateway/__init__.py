"""The gateway process (`python -m bot.gateway.main`, `.venv-gateway`): WeChat, console, simulator, /metrics and /healthz.
Nothing outside this package imports it except the command-line tools (`bot.cli`) and the supervisor (`bot.stack`)."""
