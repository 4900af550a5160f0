"""The WeChat channel: /wechat, crypto, messages, API client, 48-hour window, fake WeChat API.
Run by the gateway process; `python -m bot.wechat.menu` (make wechat-menu) runs `menu` alone."""
