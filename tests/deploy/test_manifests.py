"""deploy/k8s rendered with `kubectl kustomize`: valid Kubernetes objects (the API's JSON schemas,
offline, from the pinned kubernetes-validate), and the shape the deployment promises: who may
reach whom, what is exposed, probes, resources, production mode."""
from __future__ import annotations

import base64
import copy
from typing import Any, Dict, List, Set

import pytest

from bot.clock import CLOCK_OFFSET_ENV
from bot.gateway.monitoring_access import MONITORING_PATHS
from bot.gateway.production import production_problems
from bot.settings import load_settings
# In the gateway's environment (requirements/gateway-dev.txt). Rasa's cannot hold it (Rasa 3.6 pins
# jsonschema 4.17; kubernetes-validate needs 4.23+), so a plain `pytest` under .venv skips this
# module; test_the_gateway_environment_has_the_validator keeps the gateway part from skipping it.
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="not installable beside Rasa's pins")

from tests.helpers.kustomize import (  # noqa: E402
    OVERLAYS,
    SECRET_KEYS,
    SECRET_NAME,
    Manifest,
    containers,
    of_kind,
    named,
    render,
)

# kubectl on these machines is v1.32; the manifests must be valid for that API.
KUBERNETES_VERSION = "1.32.0"
# Resident memory measured for each process (issue #23: `make bench N=3000 C=32` on 2026-12-04,
# Rasa 1.3 GB per worker, actions 171 MB, gateway 54 MB; docs/capacity.md: a one-worker Rasa at
# 1.41 GiB, gateway 64 MB). A limit below measured use plus a quarter would be OOM-killed.
MEASURED_MIB = {"gateway": 64, "rasa": 1440, "actions": 171}
COMPONENT = "app.kubernetes.io/component"
INGRESS_NAMESPACE = {"kubernetes.io/metadata.name": "ingress-nginx"}


def validation_errors(objects: List[Manifest]) -> List[str]:
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
            errors.append(f"{obj['kind']} {obj['metadata']['name']}: {exc}")
    return errors


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_is_valid_for_the_kubernetes_api(overlay: str) -> None:
    objects = render(overlay)
    kinds = {obj["kind"] for obj in objects}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
            "NetworkPolicy", "Ingress", "ConfigMap"} <= kinds
    assert validation_errors(objects) == []


def test_the_schema_check_refuses_a_misspelt_field() -> None:
    deployment = copy.deepcopy(named(render("prod"), "Deployment", "gateway"))
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["contianerPort"] = 8080
    errors = validation_errors([deployment])
    assert len(errors) == 1 and "contianerPort" in errors[0]


def _pod_labels(objects: List[Manifest]) -> Dict[str, Dict[str, str]]:
    return {c.deployment: c.pod_labels for c in containers(objects).values()}


def _selects(selector: Dict[str, Any], labels: Dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, f"only matchLabels selectors are checked: {selector}"
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def allowed_peers(objects: List[Manifest], labels: Dict[str, str]) -> List[Dict[str, Any]]:
    """Every ingress peer some NetworkPolicy admits to pods with `labels` ({} = anyone)."""
    peers: List[Dict[str, Any]] = []
    for policy in of_kind(objects, "NetworkPolicy"):
        spec = policy["spec"]
        if "Ingress" not in spec["policyTypes"] or not _selects(spec["podSelector"], labels):
            continue
        for rule in spec.get("ingress", []):
            peers.extend(rule.get("from") or [{}])
    return peers


def peer_components(objects: List[Manifest], peers: List[Dict[str, Any]]) -> Set[str]:
    """The Deployments of this namespace the peers name; "outside" for any other peer."""
    found: Set[str] = set()
    for peer in peers:
        if set(peer) != {"podSelector"}:
            found.add("outside")
            continue
        found |= {name for name, labels in _pod_labels(objects).items() if _selects(peer["podSelector"], labels)}
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_reaches_rasa_and_only_rasa_the_action_server(overlay: str) -> None:
    objects = render(overlay)
    labels = _pod_labels(objects)
    assert peer_components(objects, allowed_peers(objects, labels["rasa"])) == {"gateway"}
    assert peer_components(objects, allowed_peers(objects, labels["actions"])) == {"rasa"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_is_reached_only_from_the_ingress_controller(overlay: str) -> None:
    objects = render(overlay)
    peers = allowed_peers(objects, _pod_labels(objects)["gateway"])
    assert peers == [{"namespaceSelector": {"matchLabels": INGRESS_NAMESPACE}}]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_default_deny_covers_every_pod(overlay: str) -> None:
    deny = named(render(overlay), "NetworkPolicy", "default-deny")["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny.get("ingress") and not deny.get("egress")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nothing_is_exposed_but_the_wechat_and_console_paths(overlay: str) -> None:
    objects = render(overlay)
    assert all(svc["spec"].get("type", "ClusterIP") == "ClusterIP" for svc in of_kind(objects, "Service"))
    (ingress,) = of_kind(objects, "Ingress")
    routes = {
        (path["path"], path["backend"]["service"]["name"])
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routes == {("/wechat", "gateway"), ("/console", "gateway")}


def _probe_text(probe: Dict[str, Any]) -> str:
    return " ".join(probe["exec"]["command"]) if "exec" in probe else probe["httpGet"]["path"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_probes_on_its_health_endpoint(overlay: str) -> None:
    found = containers(render(overlay))
    health_paths = {"gateway": "/healthz", "rasa": "/", "actions": "/health"}
    assert "/healthz" in MONITORING_PATHS  # the gateway's probes read the real endpoint
    for name, path in health_paths.items():
        spec = found[name].spec
        for kind in ("readinessProbe", "livenessProbe"):
            text = _probe_text(spec[kind])
            assert text == path or f"127.0.0.1:{spec['ports'][0]['containerPort']}{path} " in text + " "


def _mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    raise AssertionError(f"memory quantities are written in Ki/Mi/Gi here, not {quantity!r}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_memory_limits_cover_the_measured_use(overlay: str) -> None:
    found = containers(render(overlay))
    for name, measured in MEASURED_MIB.items():
        resources = found[name].spec["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"])
        assert _mebibytes(resources["limits"]["memory"]) >= 1.25 * measured, name
        assert _mebibytes(resources["requests"]["memory"]) <= _mebibytes(resources["limits"]["memory"])


def test_production_runs_two_of_everything_in_production_mode() -> None:
    objects = render("prod")
    assert all(d["spec"]["replicas"] >= 2 for d in of_kind(objects, "Deployment"))
    assert all(h["spec"]["minReplicas"] >= 2 for h in of_kind(objects, "HorizontalPodAutoscaler"))
    (config,) = of_kind(objects, "ConfigMap")
    assert config["data"]["ZHINAN_ENV"] == "production"
    assert config["data"]["SIMULATOR_ENABLED"] == "false"


def _secret_references(objects: List[Manifest]) -> Set[tuple]:
    refs = set()
    for container in containers(objects).values():
        for source in container.spec.get("envFrom", []):
            if "secretRef" in source:
                refs.add((source["secretRef"]["name"], "*"))
        for item in container.spec.get("env", []):
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
    return refs


def test_production_holds_secrets_only_as_references() -> None:
    objects = render("prod")
    assert of_kind(objects, "Secret") == []
    refs = _secret_references(objects)
    assert {name for name, _ in refs} == {SECRET_NAME}
    assert {key for _, key in refs} - {"*"} <= SECRET_KEYS
    (ingress,) = of_kind(objects, "Ingress")
    assert [tls["secretName"] for tls in ingress["spec"]["tls"]] == ["zhinan-tls"]


def _dev_secret(objects: List[Manifest]) -> Dict[str, str]:
    (secret,) = of_kind(objects, "Secret")
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def test_the_dev_secret_has_exactly_the_documented_keys() -> None:
    assert set(_dev_secret(render("dev"))) == SECRET_KEYS


def _settings_from(monkeypatch: pytest.MonkeyPatch, values: Dict[str, str], tmp_path) -> Any:
    monkeypatch.delenv(CLOCK_OFFSET_ENV, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return load_settings(env_file=tmp_path / "absent.env")


def test_the_production_configuration_starts_once_real_secrets_exist(monkeypatch, tmp_path) -> None:
    (config,) = of_kind(render("prod"), "ConfigMap")
    secrets = {key: "s" * 40 for key in SECRET_KEYS} | {"WECHAT_ENCODING_AES_KEY": "k" * 43}
    settings = _settings_from(monkeypatch, {**config["data"], **secrets}, tmp_path)
    assert settings.is_production and production_problems(settings) == []


def test_the_production_configuration_refuses_the_dev_secrets(monkeypatch, tmp_path) -> None:
    (config,) = of_kind(render("prod"), "ConfigMap")
    settings = _settings_from(monkeypatch, {**config["data"], **_dev_secret(render("dev"))}, tmp_path)
    assert len(production_problems(settings)) == 6  # every secret the production check knows
