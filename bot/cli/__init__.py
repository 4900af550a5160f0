"""Staff command-line tools, one module each: `python -m bot.cli.users|points|job_fairs|campaigns|camp|menu`.
Run by hand (or by a Makefile target) as a short process of its own; the logic they call lives in `bot/services/`, `bot/gateway/console/` and `bot/gateway/wechat/`."""
