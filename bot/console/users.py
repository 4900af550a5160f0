"""Manage console accounts from the command line.

    python -m bot.console.users add <username> --role counsellor|supervisor [--name 张老师]
    python -m bot.console.users passwd <username>     (also ends the user's open sessions)
    python -m bot.console.users disable|enable <username>
    python -m bot.console.users list

The password is read from the terminal (asked twice) or, when stdin is not a terminal, from
the first line of stdin, so it never appears in the process list or the shell history.
"""
from __future__ import annotations

import argparse
import getpass
import sys
import time
from typing import List, Optional

from bot.console.audit import record_cli_action
from bot.console.auth import (
    ROLES,
    end_sessions,
    hash_password,
    user_key,
    users_index_key,
    validate_new_user,
)
from bot.redis_client import create_sync_redis
from bot.settings import load_settings


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("密码：")
        second = getpass.getpass("再输入一次：")
        if first != second:
            raise ValueError("两次输入的密码不一致")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.console.users", description="职引控制台账号管理")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="新建账号（密码从终端或标准输入读取）")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", default="", help="显示名，例如 张老师")
    for name in ("passwd", "disable", "enable"):
        sub.add_parser(name).add_argument("username")
    sub.add_parser("list")
    args = parser.parse_args(argv)

    settings = load_settings()
    client = create_sync_redis(settings)
    try:
        if args.command == "list":
            for name in sorted(client.smembers(users_index_key(settings))):
                user = client.hgetall(user_key(settings, name))
                state = "停用" if user.get("disabled") == "1" else "启用"
                print(f"{name}\t{user.get('role', '?')}\t{user.get('display_name', '')}\t{state}")
            return 0
        key = user_key(settings, args.username)
        if args.command == "add":
            if client.exists(key):
                print(f"账号 {args.username} 已存在", file=sys.stderr)
                return 1
            password = _read_password()
            validate_new_user(args.username, args.role, password)
            client.hset(
                key,
                mapping={
                    "username": args.username,
                    "role": args.role,
                    "display_name": args.name or args.username,
                    "password_hash": hash_password(password),
                    "created_at": repr(time.time()),
                    "disabled": "0",
                },
            )
            client.sadd(users_index_key(settings), args.username)
            record_cli_action(client, settings, "user_add", args.username)
            print(f"已创建账号 {args.username}（{args.role}）")
            return 0
        if not client.exists(key):
            print(f"账号 {args.username} 不存在", file=sys.stderr)
            return 1
        if args.command == "passwd":
            password = _read_password()
            validate_new_user(args.username, client.hget(key, "role") or "", password)
            with client.pipeline(transaction=True) as pipe:
                pipe.hset(key, "password_hash", hash_password(password))
                end_sessions(pipe, settings, args.username)  # a stolen session dies with the old password
                pipe.execute()
        else:
            client.hset(key, "disabled", "1" if args.command == "disable" else "0")
        record_cli_action(client, settings, f"user_{args.command}", args.username)
        print("已更新")
        return 0
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
