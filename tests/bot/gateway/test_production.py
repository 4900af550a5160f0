"""ZHINAN_ENV=production refuses each unsafe setting with one clear line (no traceback), a good
production configuration starts without the simulator or the fake WeChat API, and development
still starts with no .env at all."""
from __future__ import annotations

import base64
import dataclasses
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Dict

import pytest

import bot.settings
from bot.gateway.app import create_app
from bot.clock import CLOCK_OFFSET_ENV
from bot.gateway.production import load_startable_settings, production_problems
from bot.settings import PROJECT_ROOT, load_settings
from bot.stack import free_port

_CONFIGURED = (
    "ZHINAN_ENV", "WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_APPSECRET", "WECHAT_ENCODING_AES_KEY",
    "WECHAT_MESSAGE_MODE", "WECHAT_API_BASE", "RASA_TOKEN", "CONSOLE_SECRET", "SIMULATOR_ENABLED",
    "ACTION_SERVER_TOKEN", CLOCK_OFFSET_ENV,
)


def good_production_env() -> Dict[str, str]:
    return {
        "ZHINAN_ENV": "production",
        "WECHAT_TOKEN": secrets.token_hex(12),
        "WECHAT_APPID": "wx" + secrets.token_hex(8),
        "WECHAT_APPSECRET": secrets.token_hex(16),
        "WECHAT_ENCODING_AES_KEY": base64.b64encode(os.urandom(32)).decode()[:43],
        "RASA_TOKEN": secrets.token_hex(16),
        "CONSOLE_SECRET": secrets.token_hex(24),
        "ACTION_SERVER_TOKEN": secrets.token_hex(16),
    }


@pytest.fixture
def no_dotenv(tmp_path, monkeypatch):
    """No .env in the project and none of the settings production checks in the environment."""
    monkeypatch.setattr(bot.settings, "PROJECT_ROOT", tmp_path)
    for name in _CONFIGURED:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


UNSAFE = [
    ("WECHAT_TOKEN", "zhinan-local-token", "WECHAT_TOKEN still has its public local default"),
    ("WECHAT_TOKEN", "abc123", "WECHAT_TOKEN is too short"),
    ("WECHAT_APPSECRET", "local-app-secret", "WECHAT_APPSECRET still has its public local default"),
    ("WECHAT_APPSECRET", "0123456789abcdef", "WECHAT_APPSECRET is too short"),
    ("WECHAT_ENCODING_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "WECHAT_ENCODING_AES_KEY still has"),
    ("WECHAT_ENCODING_AES_KEY", "A" * 42, "WECHAT_ENCODING_AES_KEY must be exactly 43 characters"),
    ("RASA_TOKEN", "zhinan-local-rasa-token", "RASA_TOKEN still has its public local default"),
    ("RASA_TOKEN", "s3cret", "RASA_TOKEN is too short"),
    ("CONSOLE_SECRET", "change-me-local-console-secret-32b", "CONSOLE_SECRET still has its public local default"),
    ("CONSOLE_SECRET", "x" * 31, "CONSOLE_SECRET is too short"),
    ("WECHAT_APPID", "wx0000000000000000", "WECHAT_APPID is the local placeholder"),
    ("WECHAT_MESSAGE_MODE", "plaintext", "WECHAT_MESSAGE_MODE is 'plaintext'"),
    ("WECHAT_MESSAGE_MODE", "compatible", "WECHAT_MESSAGE_MODE is 'compatible'"),
    ("WECHAT_API_BASE", "http://127.0.0.1:8080/fake-wechat", "WECHAT_API_BASE points at the fake WeChat API"),
    ("WECHAT_API_BASE", "http://api.weixin.qq.com", "WECHAT_API_BASE must be an https:// URL"),
    ("SIMULATOR_ENABLED", "true", "SIMULATOR_ENABLED is on"),
    ("ACTION_SERVER_TOKEN", "zhinan-local-action-server-token", "ACTION_SERVER_TOKEN still has its public local default"),
    ("ACTION_SERVER_TOKEN", "short", "ACTION_SERVER_TOKEN is too short"),
    (CLOCK_OFFSET_ENV, "3600", f"{CLOCK_OFFSET_ENV} is set"),
]


@pytest.mark.parametrize("name,value,problem", UNSAFE, ids=[f"{n}={v[:12]}" for n, v, _ in UNSAFE])
def test_production_refuses_each_unsafe_setting(no_dotenv, capsys, name, value, problem):
    for key, good in good_production_env().items():
        no_dotenv.setenv(key, good)
    no_dotenv.setenv(name, value)
    with pytest.raises(SystemExit) as exit_info:
        load_startable_settings()
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert "refuses to start in production" in lines[0]
    assert len(lines) == 2 and problem in lines[1]  # exactly this problem, one line


def test_a_copied_env_example_lists_every_problem_at_once(tmp_path, no_dotenv):
    env_file = tmp_path / ".env"
    env_file.write_text((PROJECT_ROOT / ".env.example").read_text(encoding="utf-8").replace(
        "ZHINAN_ENV=development", "ZHINAN_ENV=production"
    ), encoding="utf-8")
    problems = "\n".join(production_problems(load_settings(env_file)))
    for name in ("WECHAT_TOKEN", "WECHAT_APPSECRET", "WECHAT_ENCODING_AES_KEY", "RASA_TOKEN", "CONSOLE_SECRET",
                 "ACTION_SERVER_TOKEN", "WECHAT_APPID", "WECHAT_MESSAGE_MODE", "WECHAT_API_BASE", "SIMULATOR_ENABLED"):
        assert name in problems


def test_production_defaults_are_the_safe_choices(no_dotenv):
    for key, good in good_production_env().items():
        no_dotenv.setenv(key, good)
    settings = load_startable_settings()
    assert settings.is_production and settings.wechat_message_mode == "safe"
    assert settings.wechat_api_base == "https://api.weixin.qq.com" and not settings.simulator_enabled


def test_development_with_no_dotenv_starts_with_simulator_and_fake_api(no_dotenv):
    settings = load_startable_settings()
    assert not settings.is_production and settings.simulator_enabled and settings.uses_fake_wechat_api


def test_an_unreadable_setting_is_one_line_not_a_traceback(no_dotenv, capsys):
    no_dotenv.setenv("ZHINAN_ENV", "staging")
    with pytest.raises(SystemExit):
        load_startable_settings()
    assert capsys.readouterr().err.strip().startswith("Zhinan cannot start: ZHINAN_ENV must be one of")


async def test_production_never_mounts_the_simulator_or_the_fake_api(settings, aiohttp_client):
    # even when the other settings would have mounted them (tests build apps without the checks)
    unsafe = dataclasses.replace(settings, simulator_enabled=True, wechat_api_base="http://127.0.0.1:1/fake-wechat")
    development = await aiohttp_client(create_app(unsafe))
    assert (await development.get("/")).status == 200
    assert (await development.get("/fake-wechat/_sent")).status == 200
    production = await aiohttp_client(create_app(dataclasses.replace(unsafe, environment="production")))
    for path in ("/", "/simulator/api/inbox?openid=sim-abcd", "/fake-wechat/_sent", "/fake-wechat/_control"):
        assert (await production.get(path)).status == 404, path
    assert (await production.post("/simulator/api/send", json={"openid": "sim-abcd", "text": "x"})).status == 404


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_gateway_process_starts_in_production_and_refuses_unsafe_settings(settings):
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GATEWAY_PORT": str(port),
        "REDIS_URL": settings.redis_url, "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "RASA_URL": f"http://127.0.0.1:{free_port()}", **good_production_env(),
    }
    refused = subprocess.run([sys.executable, "-m", "bot.gateway.main"], env={**env, "WECHAT_MESSAGE_MODE": "plaintext"},
                             cwd=str(PROJECT_ROOT), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "WECHAT_MESSAGE_MODE" in refused.stderr
    assert "Traceback" not in refused.stderr
    proc = subprocess.Popen([sys.executable, "-m", "bot.gateway.main"], env=env, cwd=str(PROJECT_ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while time.time() < deadline and proc.poll() is None:
            try:
                _status(f"http://127.0.0.1:{port}/console/login")
                break
            except OSError:
                time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert _status(f"http://127.0.0.1:{port}/console/login") == 200
        assert _status(f"http://127.0.0.1:{port}/") == 404
        assert _status(f"http://127.0.0.1:{port}/fake-wechat/_sent") == 404
    finally:
        proc.terminate()
        proc.wait(timeout=15)
