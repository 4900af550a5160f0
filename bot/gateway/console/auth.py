"""Console staff accounts, sessions and CSRF.

* Users: one Redis hash per username at `console:user:<name>` (argon2id hash, role, scope,
  disabled). Created with `python -m bot.cli.users add <name> --role counsellor|supervisor|admin
  --scope 青岛市` or by an admin on /console/users. Roles: counsellor (the queue of their scope),
  supervisor (also their scope's dashboards, campaigns, cohorts), admin (the provincial
  administrator: everything, and the accounts). An account without a `scope` field (made before
  scopes existed) works for the whole province, as it did; an admin's scope is always the province.
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
from bot.services.staff_scope import PROVINCE, StaffScope, parse_scope
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("console:user", "console:users", "console:session")

ROLES = ("counsellor", "supervisor", "admin")
ROLE_LABELS = {"counsellor": "职业指导师", "supervisor": "主管", "admin": "省级管理员"}
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
    validate_role(role)
    validate_password(password)


def validate_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"角色必须是 {' / '.join(ROLES)}")


def validate_password(password: str) -> None:
    if len(password) < 10:
        raise ValueError("密码至少 10 位")


def scope_for(role: str, scope_text: str) -> str:
    """The scope stored for an account (ValueError for an unknown place); an admin's is the province."""
    return PROVINCE if role == "admin" else parse_scope(scope_text).text()


def new_account(username: str, role: str, display_name: str, password: str, scope_text: str) -> Dict[str, str]:
    """A validated account hash (ValueError in Chinese otherwise), for the CLI and the console."""
    validate_new_user(username, role, password)
    return {
        "username": username,
        "role": role,
        "scope": scope_for(role, scope_text),
        "display_name": display_name or username,
        "password_hash": hash_password(password),
        "created_at": repr(time.time()),
        "disabled": "0",
    }


@dataclass(frozen=True)
class StaffSession:
    username: str
    role: str
    csrf: str
    created_at: float
    display_name: str = ""
    scope: StaffScope = StaffScope()

    @property
    def is_supervisor(self) -> bool:
        """Supervisors' powers (an admin has them too)."""
        return self.role in ("supervisor", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


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
        user = await self._redis.hmget(
            user_key(self._settings, data["username"]), "role", "disabled", SESSION_EPOCH, "scope"
        )
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
            scope=_stored_scope(user[0], user[3]),
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


    async def user_scope(self, username: str) -> StaffScope:
        """The scope of an account (a transfer's target must cover the item)."""
        role, scope = await self._redis.hmget(user_key(self._settings, username), "role", "scope")
        return _stored_scope(role or "", scope)

    # -- the admin's account writes (/console/users); the CLI's are in accounts.py -------------

    async def create_user(self, username: str, role: str, display_name: str, password: str, scope_text: str) -> None:
        """ValueError (Chinese) when invalid or taken."""
        account = await self.pool.run(new_account, username, role, display_name, password, scope_text)
        key = user_key(self._settings, username)
        if not await self._redis.hsetnx(key, "username", username):
            raise ValueError(f"账号 {username} 已存在")
        await self._redis.hset(key, mapping=account)
        await self._redis.sadd(users_index_key(self._settings), username)

    async def update_user(self, username: str, *, role: str, scope_text: str, disabled: bool) -> None:
        """Change role, scope and state; the account's open sessions end (they carry the old rights)."""
        validate_role(role)
        key = user_key(self._settings, username)
        if not await self._redis.exists(key):
            raise ValueError(f"账号 {username} 不存在")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"role": role, "scope": scope_for(role, scope_text), "disabled": "1" if disabled else "0"})
            pipe.hincrby(key, SESSION_EPOCH, 1)
            await pipe.execute()

    async def reset_password(self, username: str, password: str) -> None:
        validate_password(password)
        key = user_key(self._settings, username)
        if not await self._redis.exists(key):
            raise ValueError(f"账号 {username} 不存在")
        new_hash = await self.pool.run(hash_password, password)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, "password_hash", new_hash)
            pipe.hincrby(key, SESSION_EPOCH, 1)  # a stolen session dies with the old password
            await pipe.execute()


def _stored_scope(role: str, scope_text: Optional[str]) -> StaffScope:
    """An admin works for the province; a missing scope means the province (accounts made
    before scopes existed keep seeing what they saw). A scope that no longer reads (edited by
    hand) covers nothing rather than everything."""
    if role == "admin":
        return StaffScope()
    try:
        return parse_scope(scope_text)
    except ValueError:
        return StaffScope(cities=frozenset({"（范围无效）"}))


def csrf_matches(expected: str, supplied: Optional[str]) -> bool:
    return bool(supplied) and hmac.compare_digest(expected.encode(), str(supplied).encode())
