"""The rendered Kubernetes manifests of deploy/k8s: every overlay through `kubectl kustomize`, and
what each container of it gets in its environment."""
from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List

import pytest
import yaml

from bot.settings import PROJECT_ROOT

K8S_DIR = PROJECT_ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SECRET_NAME = "zhinan-secrets"
# The keys production creates outside the repository (docs/deploying.md "Secrets").
SECRET_KEYS = frozenset(
    line.strip()
    for line in (K8S_DIR / "secret-keys.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)

Manifest = Dict[str, Any]


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        pytest.skip("kubectl is not installed: cannot render deploy/k8s (CI machines have it)")
    return path


@functools.lru_cache(maxsize=None)
def _render_text(directory: Path) -> str:
    done = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"kubectl kustomize {directory} failed:\n{done.stderr}"
    return done.stdout


def render_dir(directory: Path) -> List[Manifest]:
    return [doc for doc in yaml.safe_load_all(_render_text(directory)) if doc]


def render(overlay: str) -> List[Manifest]:
    return render_dir(K8S_DIR / "overlays" / overlay)


def of_kind(objects: List[Manifest], kind: str) -> List[Manifest]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: List[Manifest], kind: str, name: str) -> Manifest:
    matches = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


@dataclass(frozen=True)
class Container:
    deployment: str
    spec: Manifest
    pod_labels: Dict[str, str]
    env_names: FrozenSet[str]


def _source_keys(objects: List[Manifest], kind: str, name: str) -> FrozenSet[str]:
    """Keys of a generated ConfigMap/Secret, or those of secret-keys.txt for a Secret made elsewhere."""
    for obj in of_kind(objects, kind):
        if obj["metadata"]["name"] == name:
            return frozenset((obj.get("data") or {}) | (obj.get("stringData") or {}))
    assert kind == "Secret" and name == SECRET_NAME, f"{kind} {name} is referenced but not defined"
    return SECRET_KEYS


def _env_names(objects: List[Manifest], spec: Manifest) -> FrozenSet[str]:
    names = {item["name"] for item in spec.get("env", [])}
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            names |= _source_keys(objects, "ConfigMap", source["configMapRef"]["name"])
        if "secretRef" in source:
            names |= _source_keys(objects, "Secret", source["secretRef"]["name"])
    return frozenset(names)


def containers(objects: List[Manifest]) -> Dict[str, Container]:
    """Every container of every Deployment, by container name."""
    found: Dict[str, Container] = {}
    for deployment in of_kind(objects, "Deployment"):
        template = deployment["spec"]["template"]
        for spec in template["spec"]["containers"]:
            found[spec["name"]] = Container(
                deployment["metadata"]["name"], spec, template["metadata"]["labels"], _env_names(objects, spec)
            )
    return found

