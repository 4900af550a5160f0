"""config/handoff_cities.yml as staff edit it: the shipped file loads, and each mistake a hand edit
makes is refused with the file, the line, the key and what is wrong (bot/services/staff_yaml.py),
never read half or ignored; the gateway refuses to start on one in a single line, no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.services.handoff.config import HandoffConfig, load_city_desks, parse_office_hours
from bot.services.staff_yaml import ConfigError
from bot.settings import PROJECT_ROOT, load_settings
from bot.stack import free_port

GOOD = """# 各市人工服务台
cities:
  济南市: {}
  青岛:
    office_hours: "1-5 09:00-12:00; 1-5 13:30-17:00"
    callback_promise: （示例）留言后一个工作日内回电
  烟台市:
"""


def desks_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "handoff_cities.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_and_a_filled_in_one_load():
    assert set(load_city_desks(load_settings().handoff_cities_file)) >= {"济南市", "青岛市", "菏泽市"}


def test_a_city_with_its_own_hours_and_promise(tmp_path):
    desks = load_city_desks(desks_file(tmp_path, GOOD))
    assert set(desks) == {"济南市", "青岛市", "烟台市"}
    qingdao = HandoffConfig(city_desks=desks).for_city("青岛市")
    assert qingdao.describe_hours() == "周一至周五 09:00–12:00；周一至周五 13:30–17:00"
    assert qingdao.callback_promise == "（示例）留言后一个工作日内回电"
    assert desks["烟台市"].office_hours is None and desks["济南市"].callback_promise == ""


@pytest.mark.parametrize(
    "change, line, said",
    [
        (("青岛:", "南京:"), 4, "cities → 南京: not one of Shandong's 16 cities"),
        (("烟台市:", "青岛市:"), 7, "cities → 青岛市: 青岛市 is listed twice"),
        (("office_hours:", "office_hour:"), 5, "cities → 青岛: unknown key 'office_hour' (expected office_hours, callback_promise)"),
        (("1-5 09:00-12:00;", "周一到周五 9点到12点;"), 5, "cities → 青岛 → office_hours: '周一到周五 9点到12点' is not like"),
        (("1-5 09:00-12:00;", "1-8 09:00-12:00;"), 5, "'8' is not a weekday"),
        (("1-5 09:00-12:00;", "1-5 09:00-12:60;"), 5, "'12:60' is not a time of day"),
        (("1-5 09:00-12:00;", "1-5 12:00-09:00;"), 5, "the hours must end after they start"),
        (("济南市: {}", "济南市: 8:30开门"), 3, "cities → 济南市 must be a list of “name: value” lines"),
        (("（示例）留言后一个工作日内回电", "[当天, 回电]"), 6, "cities → 青岛 → callback_promise must be text"),
        (("cities:", "city:"), 2, "the file: unknown key 'city' (expected cities)"),
        (("  烟台市:", "烟台市:"), 7, "the file: unknown key '烟台市' (expected cities)"),
        (("  烟台市:", "\t烟台市:"), 7, "not valid YAML: found character '\\t' that cannot start any token"),
    ],
)
def test_each_mistake_names_the_file_the_line_and_the_key(tmp_path, change, line, said):
    path = desks_file(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as refused:
        load_city_desks(path)
    message = str(refused.value)
    assert message.startswith(f"{path}, line {line}: ") and said in message, message


def test_a_mistake_in_the_office_hours_setting_names_it(settings):
    with pytest.raises(ConfigError, match=r"^HANDOFF_OFFICE_HOURS: '1-5 8点-17点': '8点' is not a time of day like 08:30"):
        HandoffConfig.from_settings(replace(settings, handoff_office_hours="1-5 8点-17点"))
    assert parse_office_hours("Mon-Fri 08:30-17:30")[0].days == (1, 2, 3, 4, 5)


def test_the_gateway_refuses_to_start_on_a_broken_file_in_one_line(settings, tmp_path):
    path = desks_file(tmp_path, GOOD.replace("青岛:", "南京:"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GATEWAY_PORT": str(free_port()),
        "REDIS_URL": settings.redis_url, "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "RASA_URL": f"http://127.0.0.1:{free_port()}", "HANDOFF_CITIES_FILE": str(path),
    }
    refused = subprocess.run([sys.executable, "-m", "bot.gateway.main"], env=env, cwd=str(PROJECT_ROOT),
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"Zhinan cannot start: {path}, line 4: cities → 南京: not one of Shandong's 16 cities"
