"""Manage console accounts from the command line.

    python -m bot.cli.users add <username> --role counsellor|supervisor|admin [--scope 青岛市] [--name 张老师]
    python -m bot.cli.users scope <username> --role supervisor --scope 青岛市,烟台市/莱山区
                                                  (also ends the user's open sessions)
    python -m bot.cli.users passwd <username>     (also ends the user's open sessions)
    python -m bot.cli.users disable|enable <username>
    python -m bot.cli.users list

The password is read from the terminal (asked twice) or, when stdin is not a terminal, from
the first line of stdin, so it never appears in the process list or the shell history.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import List, Optional

import redis

from bot.cli.redis_run import blocking_redis
from bot.gateway.console.accounts import (
    account_exists,
    change_password,
    create_account,
    list_accounts,
    set_disabled,
    set_role_scope,
)
from bot.gateway.console.auth import ROLES
from bot.settings import Settings


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("密码：")
        second = getpass.getpass("再输入一次：")
        if first != second:
            raise ValueError("两次输入的密码不一致")
        return first
    return sys.stdin.readline().rstrip("\r\n")


SCOPE_HELP = "工作范围：province（全省，默认）或城市/区县，逗号分隔，例如 青岛市,烟台市/莱山区"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.users", description="职引控制台账号管理")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="新建账号（密码从终端或标准输入读取）")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", default="", help="显示名，例如 张老师")
    add.add_argument("--scope", default="province", help=SCOPE_HELP)
    scope = sub.add_parser("scope", help="修改角色和工作范围（结束该账号已登录的会话）")
    scope.add_argument("username")
    scope.add_argument("--role", required=True, choices=ROLES)
    scope.add_argument("--scope", required=True, help=SCOPE_HELP)
    for name in ("passwd", "disable", "enable"):
        sub.add_parser(name).add_argument("username")
    sub.add_parser("list")
    args = parser.parse_args(argv)

    with blocking_redis() as (client, settings):
        return _run(args, client, settings)


def _run(args: argparse.Namespace, client: redis.Redis, settings: Settings) -> int:
    try:
        if args.command == "list":
            for name, user in list_accounts(client, settings):
                state = "停用" if user.get("disabled") == "1" else "启用"
                scope = user.get("scope") or "province"
                print(f"{name}\t{user.get('role', '?')}\t{scope}\t{user.get('display_name', '')}\t{state}")
            return 0
        exists = account_exists(client, settings, args.username)
        if args.command == "add":
            if exists:
                print(f"账号 {args.username} 已存在", file=sys.stderr)
                return 1
            create_account(client, settings, args.username, args.role, args.name, _read_password(), args.scope)
            print(f"已创建账号 {args.username}（{args.role}）")
            return 0
        if not exists:
            print(f"账号 {args.username} 不存在", file=sys.stderr)
            return 1
        if args.command == "passwd":
            change_password(client, settings, args.username, _read_password())
        elif args.command == "scope":
            set_role_scope(client, settings, args.username, args.role, args.scope)
        else:
            set_disabled(client, settings, args.username, args.command == "disable")
        print("已更新")
        return 0
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
