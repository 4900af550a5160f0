"""No import cycles in bot/ and actions/, counting imports inside functions too (issue 22): a cycle
hidden in a function-level import is still a cycle, and it is how the last two crept in."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

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


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    (tmp_path / "bot").mkdir()
    (tmp_path / "actions").mkdir()
    (tmp_path / "bot" / "a.py").write_text("from bot.b import thing\n", encoding="utf-8")
    (tmp_path / "bot" / "b.py").write_text("def thing():\n    from bot import a\n", encoding="utf-8")
    (tmp_path / "bot" / "c.py").write_text("import bot.a\n", encoding="utf-8")
    assert cycles(import_graph(tmp_path)) == [["bot.a", "bot.b"]]
