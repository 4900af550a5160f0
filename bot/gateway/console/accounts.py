"""Console accounts written through a synchronous Redis client: what `python -m bot.cli.users`
does to the accounts `bot.gateway.console.auth` reads (every change goes to the audit log as user "cli")."""
from __future__ import annotations

from typing import Dict, List, Tuple

import redis

from bot.gateway.console.audit import record_cli_action
from bot.gateway.console.auth import (
    end_sessions,
    hash_password,
    new_account,
    scope_for,
    user_key,
    users_index_key,
    validate_new_user,
    validate_role,
)
from bot.settings import Settings


def list_accounts(client: redis.Redis, settings: Settings) -> List[Tuple[str, Dict[str, str]]]:
    """(username, account hash) for every account, by username."""
    return [(name, client.hgetall(user_key(settings, name)))
            for name in sorted(client.smembers(users_index_key(settings)))]


def account_exists(client: redis.Redis, settings: Settings, username: str) -> bool:
    return bool(client.exists(user_key(settings, username)))


def create_account(client: redis.Redis, settings: Settings, username: str, role: str,
                   display_name: str, password: str, scope: str = "province") -> None:
    """Validate (ValueError) and store a new account."""
    client.hset(user_key(settings, username), mapping=new_account(username, role, display_name, password, scope))
    client.sadd(users_index_key(settings), username)
    record_cli_action(client, settings, "user_add", username)


def set_role_scope(client: redis.Redis, settings: Settings, username: str, role: str, scope: str) -> None:
    """Change an account's role and scope (ValueError when invalid); ends its open sessions."""
    validate_role(role)
    stored = scope_for(role, scope)
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(user_key(settings, username), mapping={"role": role, "scope": stored})
        end_sessions(pipe, settings, username)  # sessions carry the rights they were opened with
        pipe.execute()
    record_cli_action(client, settings, "user_scope", f"{username} {role} {stored}")


def change_password(client: redis.Redis, settings: Settings, username: str, password: str) -> None:
    """Validate (ValueError) and set a new password; ends the user's open sessions."""
    key = user_key(settings, username)
    validate_new_user(username, client.hget(key, "role") or "", password)
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(key, "password_hash", hash_password(password))
        end_sessions(pipe, settings, username)  # a stolen session dies with the old password
        pipe.execute()
    record_cli_action(client, settings, "user_passwd", username)


def set_disabled(client: redis.Redis, settings: Settings, username: str, disabled: bool) -> None:
    client.hset(user_key(settings, username), "disabled", "1" if disabled else "0")
    record_cli_action(client, settings, "user_disable" if disabled else "user_enable", username)
