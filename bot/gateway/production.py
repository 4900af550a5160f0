"""Production mode (`ZHINAN_ENV=production`): the settings a public deployment must not run with.

Development starts with no configuration at all; production refuses to start while any secret
is a public local default or too short, messages travel unencrypted, pushes go to the fake
WeChat API, or the web simulator (which lets anyone invent users) is on.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import List, NoReturn, Optional, TextIO
from urllib.parse import urlparse

from bot.clock import CLOCK_OFFSET_ENV
from bot.settings import LOCAL_SECRETS, LOCAL_WECHAT_APPID, Settings, load_settings


@dataclass(frozen=True)
class SecretRule:
    env_name: str
    attribute: str
    min_length: int
    exact: bool = False  # WeChat fixes the EncodingAESKey at 43 characters


# WeChat allows a Token of 3-32 characters and issues 32-character AppSecrets; the secrets we
# choose ourselves (Rasa token, console signing key) get 32 random characters at least.
SECRET_RULES = (
    SecretRule("WECHAT_TOKEN", "wechat_token", 16),
    SecretRule("WECHAT_APPSECRET", "wechat_appsecret", 32),
    SecretRule("WECHAT_ENCODING_AES_KEY", "wechat_encoding_aes_key", 43, exact=True),
    SecretRule("RASA_TOKEN", "rasa_token", 32),
    SecretRule("CONSOLE_SECRET", "console_secret", 32),
    SecretRule("ACTION_SERVER_TOKEN", "action_server_token", 32),
)


def _secret_problem(settings: Settings, rule: SecretRule) -> Optional[str]:
    value: str = getattr(settings, rule.attribute)
    if value == LOCAL_SECRETS[rule.env_name]:
        return f"{rule.env_name} still has its public local default; set a secret value of your own"
    if rule.exact and len(value) != rule.min_length:
        return f"{rule.env_name} must be exactly {rule.min_length} characters (it has {len(value)})"
    if len(value) < rule.min_length:
        return f"{rule.env_name} is too short: at least {rule.min_length} characters (it has {len(value)})"
    return None


def _wechat_problems(settings: Settings) -> List[str]:
    problems = []
    if settings.wechat_appid == LOCAL_WECHAT_APPID:
        problems.append("WECHAT_APPID is the local placeholder; set your official account's AppID")
    if settings.wechat_message_mode != "safe":
        problems.append(
            f"WECHAT_MESSAGE_MODE is {settings.wechat_message_mode!r}; production needs 'safe' (安全模式)"
        )
    if settings.uses_fake_wechat_api:
        problems.append("WECHAT_API_BASE points at the fake WeChat API; set https://api.weixin.qq.com")
    elif urlparse(settings.wechat_api_base).scheme != "https":
        problems.append(f"WECHAT_API_BASE must be an https:// URL, not {settings.wechat_api_base!r}")
    return problems


def production_problems(settings: Settings) -> List[str]:
    """One line per setting production refuses; empty in development."""
    if not settings.is_production:
        return []
    problems = [p for rule in SECRET_RULES if (p := _secret_problem(settings, rule))]
    problems.extend(_wechat_problems(settings))
    if settings.simulator_enabled:
        problems.append("SIMULATOR_ENABLED is on; the web simulator must be off in production")
    if os.environ.get(CLOCK_OFFSET_ENV):
        problems.append(f"{CLOCK_OFFSET_ENV} is set; it shifts the clock for tests only")
    return problems


def cannot_start(problem: object, out: Optional[TextIO] = None) -> NoReturn:
    """Refuse to start over a configuration mistake: one line, exit status 2, no traceback."""
    print(f"Zhinan cannot start: {problem}", file=out or sys.stderr)
    raise SystemExit(2)


def load_startable_settings(out: Optional[TextIO] = None) -> Settings:
    """The settings, or a clear refusal (one line per problem, exit status 2) instead of a traceback."""
    out = out or sys.stderr
    try:
        settings = load_settings()
    except ValueError as exc:
        cannot_start(exc, out)
    problems = production_problems(settings)
    if problems:
        print(f"Zhinan refuses to start in production (ZHINAN_ENV=production), {len(problems)} problem(s):", file=out)
        for problem in problems:
            print(f"  - {problem}", file=out)
        raise SystemExit(2)
    return settings
