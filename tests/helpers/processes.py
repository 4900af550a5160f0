"""Which environment a running process imports its packages from (the two-environment tests)."""
from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Optional

import psutil


def loaded_version(pid: int, package: str) -> Optional[str]:
    """The version of `package` that process `pid` has imported, read from the site-packages its
    compiled modules were loaded from (…/site-packages/<package>/*.so); None if none is mapped."""
    for mapping in psutil.Process(pid).memory_maps(grouped=True):
        parts = Path(mapping.path).parts
        if package not in parts or not mapping.path.endswith(".so"):
            continue
        site_packages = Path(*parts[: parts.index(package)])
        for dist in metadata.distributions(path=[str(site_packages)]):
            if (dist.metadata["Name"] or "").lower() == package:
                return dist.version
    return None


def version_tuple(version: str) -> tuple:
    return tuple(int(part) for part in version.split(".")[:3])
