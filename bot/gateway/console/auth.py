"""Console staff accounts, sessions and CSRF.

* Users: one Redis hash per username at `console:user:<name>` (argon2id hash, role, disabled).
  Created with `python -m bot.cli.users add <name> --role counsellor|supervisor`.
* Passwords: argon2 runs in a bounded thread pool (`login_guard.PasswordPool`), off the event loop.
* Sessions: a random token in an HttpOnly, SameSite=Strict cookie (Secure over https). Redis
  keeps only an HMAC of the token (keyed by CONSOLE_SECRET), so a Redis dump cannot be replayed
  as a cookie. Idle expiry slides with use; an absolute lifetime caps it. A password change
  ends the user's sessions (`end_sessions`).
* CSRF: every session has its own token; every POST must carry it (header `X-CSRF-Token` or
  form field `_csrf`) and, when the browser sends one, an Origin matching this host. The login
  form uses a double-submit cookie because there is no session yet.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.gateway.console.login_guard import PasswordPool
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("console:user", "console:users", "console:session")

ROLES = ("counsellor", "supervisor")
ROLE_LABELS = {"counsellor": "职业指导师", "supervisor": "主管"}
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,32}$")
COOKIE_NAME = "zhinan_console"
LOGIN_CSRF_COOKIE = "zhinan_console_login"
SESSION_EPOCH = "session_epoch"  # user hash field; bumping it ends the user's sessions

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verify against this when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


def end_sessions(client: Any, settings: Settings, username: str) -> None:
    """Make every existing session of `username` invalid (sync client; e.g. after a password
    change). Sessions are stored under an HMAC of their token, so they cannot be listed per
    user; instead each records the user's epoch at login and must match it when loaded."""
    client.hincrby(user_key(settings, username), SESSION_EPOCH, 1)


def user_key(settings: Settings, username: str) -> str:
    return settings.key("console", "user", username)


def users_index_key(settings: Settings) -> str:
    return settings.key("console", "users")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def validate_new_user(username: str, role: str, password: str) -> None:
    if not USERNAME_RE.match(username):
        raise ValueError("用户名只能包含字母、数字、下划线、点和短横线，2–32 位")
    if role not in ROLES:
        raise ValueError(f"角色必须是 {' / '.join(ROLES)}")
    if len(password) < 10:
        raise ValueError("密码至少 10 位")


@dataclass(frozen=True)
class StaffSession:
    username: str
    role: str
    csrf: str
    created_at: float
    display_name: str = ""

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


class ConsoleAuth:
    """Async user lookup, login and sessions for the console (the CLI writes users)."""

    def __init__(
        self,
        redis: Any,
        settings: Settings,
        *,
        idle_ttl_s: int = 30 * 60,
        absolute_ttl_s: int = 12 * 3600,
        pool: Optional[PasswordPool] = None,
    ) -> None:
        self._redis = redis
        self.pool = pool or PasswordPool()
        self._settings = settings
        self.idle_ttl_s = idle_ttl_s
        self.absolute_ttl_s = absolute_ttl_s

    def _session_key(self, token: str) -> str:
        digest = hmac.new(
            self._settings.console_secret.encode(), token.encode(), hashlib.sha256
        ).hexdigest()
        return self._settings.key("console", "session", digest)

    async def authenticate(self, username: str, password: str) -> Optional[Dict[str, str]]:
        """The user's record when the password is right. The argon2 work runs in `self.pool`
        (raises `PasswordPoolBusy` when it is full), never on the event loop."""
        user = await self._redis.hgetall(user_key(self._settings, username)) if USERNAME_RE.match(username or "") else {}
        if not user or user.get("disabled") == "1":
            await self.pool.run(verify_password, _DUMMY_HASH, password)
            return None
        if not await self.pool.run(verify_password, user.get("password_hash", ""), password):
            return None
        if _hasher.check_needs_rehash(user["password_hash"]):
            new_hash = await self.pool.run(hash_password, password)
            await self._redis.hset(user_key(self._settings, username), "password_hash", new_hash)
        return user

    async def create_session(self, username: str, role: str, display_name: str = "", epoch: str = "0") -> str:
        """`epoch`: the user's SESSION_EPOCH when the password was checked (see end_sessions)."""
        token = secrets.token_urlsafe(32)
        data = {
            "epoch": epoch or "0",
            "username": username,
            "role": role,
            "csrf": secrets.token_urlsafe(32),
            "created_at": time.time(),
            "display_name": display_name,
        }
        await self._redis.set(self._session_key(token), json.dumps(data), ex=self.idle_ttl_s)
        return token

    async def load_session(self, token: Optional[str]) -> Optional[StaffSession]:
        if not token or len(token) > 100:
            return None
        key = self._session_key(token)
        raw = await self._redis.get(key)
        if not raw:
            return None
        data = json.loads(raw)
        if time.time() - float(data["created_at"]) > self.absolute_ttl_s:
            await self._redis.delete(key)
            return None
        # the account may have been disabled, its role or its password changed since login
        user = await self._redis.hmget(user_key(self._settings, data["username"]), "role", "disabled", SESSION_EPOCH)
        if not user[0] or user[1] == "1" or (user[2] or "0") != data.get("epoch", "0"):
            await self._redis.delete(key)
            return None
        await self._redis.expire(key, self.idle_ttl_s)  # sliding idle expiry
        return StaffSession(
            username=data["username"],
            role=user[0],
            csrf=data["csrf"],
            created_at=float(data["created_at"]),
            display_name=data.get("display_name", ""),
        )

    async def destroy_session(self, token: Optional[str]) -> None:
        if token:
            await self._redis.delete(self._session_key(token))

    def close(self) -> None:
        self.pool.close()

    async def list_users(self) -> Dict[str, Dict[str, str]]:
        names = sorted(await self._redis.smembers(users_index_key(self._settings)))
        out = {}
        for name in names:
            user = await self._redis.hgetall(user_key(self._settings, name))
            if user:
                user.pop("password_hash", None)
                out[name] = user
        return out


def csrf_matches(expected: str, supplied: Optional[str]) -> bool:
    return bool(supplied) and hmac.compare_digest(expected.encode(), str(supplied).encode())
