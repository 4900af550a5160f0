"""The WeChat channel: /wechat, crypto, messages, API client, 48-hour window, fake WeChat API.
Run by the gateway process (`handler` → `delivery` → `channel`); `python -m bot.cli.menu` runs `menu` alone."""
