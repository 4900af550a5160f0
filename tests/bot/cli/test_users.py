"""`python -m bot.cli.users` with scopes: add with a scope, change role and scope (which ends the
account's sessions), list, and a place outside Shandong refused with a readable message; and the
command itself as staff run it, the password on stdin, never in its arguments."""
from __future__ import annotations

import io
import subprocess
import sys

import pytest

from bot.cli.users import main
from bot.gateway.console.auth import ConsoleAuth
from bot.settings import PROJECT_ROOT


@pytest.fixture
def cli_env(settings, monkeypatch):
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", settings.redis_key_prefix)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))


async def test_scopes_on_the_command_line(cli_env, settings, redis, capsys):
    assert main(["add", "qd", "--role", "counsellor", "--scope", "青岛"]) == 0
    auth = ConsoleAuth(redis, settings)
    try:
        assert (await auth.list_users())["qd"]["scope"] == "青岛市"
        token = await auth.create_session("qd", "counsellor", epoch="0")
        assert (await auth.load_session(token)).scope.label() == "青岛市"
        assert main(["scope", "qd", "--role", "supervisor", "--scope", "青岛市/黄岛区,烟台市"]) == 0
        assert await auth.load_session(token) is None  # the session carried the old rights
        assert (await auth.user_scope("qd")).label() == "烟台市、青岛市黄岛区"
        capsys.readouterr()
        assert main(["scope", "qd", "--role", "counsellor", "--scope", "北京市"]) == 2
        assert "不是山东省的地级市" in capsys.readouterr().err
        assert main(["list"]) == 0
        assert "qd\tsupervisor\t烟台市,青岛市/黄岛区" in capsys.readouterr().out
    finally:
        auth.close()


async def test_the_command_reads_the_password_from_stdin_and_the_account_logs_in(settings, redis):
    env = {"REDIS_URL": settings.redis_url, "REDIS_KEY_PREFIX": settings.redis_key_prefix, "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "bot.cli.users", "add", "wang", "--role", "counsellor", "--scope", "济南"]
    made = subprocess.run(command, input="a-long-password\n", capture_output=True, text=True, env=env,
                          cwd=str(PROJECT_ROOT), timeout=60)
    assert made.returncode == 0, made.stderr
    again = subprocess.run(command, input="another-password\n", capture_output=True, text=True, env=env,
                           cwd=str(PROJECT_ROOT), timeout=60)
    assert again.returncode == 1 and "已存在" in again.stderr
    auth = ConsoleAuth(redis, settings)
    try:
        assert await auth.authenticate("wang", "a-long-password") is not None
        assert await auth.authenticate("wang", "another-password") is None
    finally:
        auth.close()
