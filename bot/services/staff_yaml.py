"""Reading a YAML file that staff edit by hand (`config/handoff_cities.yml`): every mistake is a
`ConfigError` that names the file, the line and the key and says what is wrong, so that start-up
refuses in one line (bot/gateway/main.py) instead of a traceback.

The file is read as YAML nodes (`yaml.compose`, the safe loader), which keep their line numbers;
`entries` and `text` walk them with the path of keys so far (`where`, e.g. "cities → 青岛市").
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import yaml

Entry = Tuple[yaml.Node, yaml.Node]


class ConfigError(ValueError):
    """A mistake in the configuration (a setting or a file staff edit), said in one line."""


def problem(path: Path, node: yaml.Node, what: str) -> ConfigError:
    return ConfigError(f"{path}, line {node.start_mark.line + 1}: {what}")


def read_nodes(path: Path) -> Optional[yaml.Node]:
    """The file's YAML nodes (None for an empty file)."""
    try:
        return yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {exc.problem or exc.context}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None


def _is_empty(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def entries(path: Path, node: yaml.Node, where: str, allowed: Sequence[str] = ()) -> List[Entry]:
    """(key node, value node) of a mapping ([] for an empty value); with `allowed`, any other key
    is a mistake (a misspelt key would otherwise be ignored without a word)."""
    if _is_empty(node):
        return []
    if not isinstance(node, yaml.MappingNode):
        raise problem(path, node, f"{where} must be a list of “name: value” lines")
    for key, _value in node.value:
        if allowed and key.value not in allowed:
            raise problem(path, key, f"{where}: unknown key {key.value!r} (expected {', '.join(allowed)})")
    return list(node.value)


def text(path: Path, node: yaml.Node, where: str) -> str:
    """A scalar value as text ("" when empty)."""
    if _is_empty(node):
        return ""
    if not isinstance(node, yaml.ScalarNode):
        raise problem(path, node, f"{where} must be text")
    return str(node.value).strip()
