"""Settings: the environment wins over .env, .env over defaults; bad modes are refused."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.settings import GATEWAY_VENV, effective_redis_url, load_settings, venv_python

_NAMES = (
    "WECHAT_TOKEN", "WECHAT_MESSAGE_MODE", "GATEWAY_PORT", "REDIS_URL", "EMBEDDED_REDIS_PORT",
    "RASA_WORKERS", "RASA_PYTHON", "GATEWAY_PYTHON", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER",
    "REDIS_ACK_REPLICAS", "REDIS_ACK_TIMEOUT_MS", "NLU_BATCH", "NLU_BATCH_MAX", "NLU_BATCH_WAIT_MS",
)


@pytest.fixture
def clean_env(monkeypatch):
    for name in _NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_dotenv_fills_in_and_the_environment_wins(tmp_path, clean_env):
    env_file = tmp_path / ".env"
    env_file.write_text("WECHAT_TOKEN=from-dotenv\nGATEWAY_PORT=9090\nWECHAT_MESSAGE_MODE=safe\n")
    clean_env.setenv("WECHAT_TOKEN", "from-environment")
    settings = load_settings(env_file)
    assert settings.wechat_token == "from-environment"
    assert settings.gateway_port == 9090
    assert settings.wechat_message_mode == "safe"


def test_defaults_are_local_and_redis_is_embedded(tmp_path, clean_env):
    settings = load_settings(tmp_path / "missing.env")
    assert settings.uses_embedded_redis
    assert effective_redis_url(settings) == f"redis://127.0.0.1:{settings.embedded_redis_port}/0"
    assert settings.uses_fake_wechat_api
    assert settings.key("points", "geo") == f"{settings.redis_key_prefix}:points:geo"


def test_an_unknown_message_mode_is_refused(tmp_path, clean_env):
    clean_env.setenv("WECHAT_MESSAGE_MODE", "encrypted")
    with pytest.raises(ValueError, match="WECHAT_MESSAGE_MODE"):
        load_settings(tmp_path / "missing.env")


def test_every_variable_the_settings_read_is_documented_in_env_example():
    import re

    from bot.settings import PROJECT_ROOT

    source = (PROJECT_ROOT / "bot" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env\.(?:str|raw|int|float|bool)\("([A-Z0-9_]+)"', source))
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.M))
    assert "CAMP_COHORTS_FILE" in read and len(read) > 30
    assert read - documented == set()


def test_rasa_workers_reach_rasa_and_zero_is_refused(tmp_path, clean_env):
    from bot.stack import rasa_environment

    assert load_settings(tmp_path / "missing.env").rasa_workers == 2
    clean_env.setenv("RASA_WORKERS", "3")
    assert rasa_environment(load_settings(tmp_path / "missing.env"))["SANIC_WORKERS"] == "3"
    clean_env.setenv("RASA_WORKERS", "0")
    with pytest.raises(ValueError, match="RASA_WORKERS"):
        load_settings(tmp_path / "missing.env")


def test_nlu_batching_is_off_unless_asked_and_nonsense_limits_are_refused(tmp_path, clean_env):
    settings = load_settings(tmp_path / "missing.env")
    assert (settings.nlu_batch, settings.nlu_batch_max, settings.nlu_batch_wait_ms) == (False, 16, 5.0)
    clean_env.setenv("NLU_BATCH", "1")
    clean_env.setenv("NLU_BATCH_WAIT_MS", "2.5")
    settings = load_settings(tmp_path / "missing.env")
    assert settings.nlu_batch and settings.nlu_batch_wait_ms == 2.5
    for name, value in (("NLU_BATCH_MAX", "0"), ("NLU_BATCH_WAIT_MS", "-1")):
        clean_env.setenv(name, value)
        with pytest.raises(ValueError, match=name):
            load_settings(tmp_path / "missing.env")
        clean_env.delenv(name)


def test_the_action_server_stays_on_loopback_and_rasa_gets_its_secret(tmp_path, clean_env):
    from bot.stack import rasa_environment

    clean_env.delenv("ACTION_SERVER_HOST", raising=False)
    clean_env.setenv("ACTION_SERVER_TOKEN", "from-the-environment-0123456789")
    settings = load_settings(tmp_path / "missing.env")
    assert settings.action_server_host == "127.0.0.1"
    assert rasa_environment(settings)["ACTION_SERVER_TOKEN"] == "from-the-environment-0123456789"


def test_each_process_starts_from_the_interpreter_of_its_environment(tmp_path, clean_env):
    from bot.stack import action_server_command, gateway_command, rasa_command

    clean_env.setenv("RASA_PYTHON", str(tmp_path / "rasa-env" / "bin" / "python"))
    clean_env.setenv("GATEWAY_PYTHON", str(tmp_path / "gateway-env" / "bin" / "python"))
    settings = load_settings(tmp_path / "missing.env")
    assert gateway_command(settings)[:3] == [str(tmp_path / "gateway-env" / "bin" / "python"), "-m", "bot.gateway.main"]
    assert action_server_command(settings)[0] == str(tmp_path / "rasa-env" / "bin" / "python")
    assert rasa_command(settings, Path("models/zhinan.tar.gz"))[:4] == [
        str(tmp_path / "rasa-env" / "bin" / "python"), "-m", "bot.rasa_server.serve", "run"
    ]


def test_an_absent_environment_falls_back_to_the_running_interpreter(tmp_path, clean_env):
    assert venv_python(tmp_path / "absent") == Path(sys.executable)
    (tmp_path / "env" / "bin").mkdir(parents=True)
    (tmp_path / "env" / "bin" / "python").touch()
    assert venv_python(tmp_path / "env") == tmp_path / "env" / "bin" / "python"
    clean_env.delenv("GATEWAY_PYTHON", raising=False)
    assert load_settings(tmp_path / "missing.env").gateway_python == venv_python(GATEWAY_VENV)


def test_a_missing_interpreter_stops_the_start_with_the_setting_to_fix(tmp_path, clean_env):
    from bot.stack import Stack, StackError

    clean_env.setenv("GATEWAY_PYTHON", str(tmp_path / "nowhere" / "python"))
    stack = Stack(load_settings(tmp_path / "missing.env"), tmp_path)
    with pytest.raises(StackError, match="GATEWAY_PYTHON"):
        stack.start_gateway()
    assert stack.processes == {}


def test_sentinels_are_parsed_and_replace_the_embedded_redis(tmp_path, clean_env):
    clean_env.setenv("REDIS_SENTINELS", " redis-sentinel-0.redis:26379, 10.0.0.7:26380 ,")
    clean_env.setenv("REDIS_ACK_REPLICAS", "1")
    settings = load_settings(tmp_path / "missing.env")
    assert settings.redis_sentinels == (("redis-sentinel-0.redis", 26379), ("10.0.0.7", 26380))
    assert settings.redis_sentinel_master == "mymaster"
    assert settings.redis_ack_replicas == 1 and settings.redis_ack_timeout_ms == 500
    assert not settings.uses_embedded_redis


@pytest.mark.parametrize("name, value", [
    ("REDIS_SENTINELS", "sentinel-without-port"),
    ("REDIS_SENTINELS", "host:99999"),
    ("REDIS_ACK_REPLICAS", "-1"),
    ("REDIS_ACK_TIMEOUT_MS", "fast"),
])
def test_a_wrong_redis_ha_setting_is_refused_by_name(tmp_path, clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        load_settings(tmp_path / "missing.env")
