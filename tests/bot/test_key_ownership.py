"""Owners, not key readers: every Redis key family has one owning module, and only that module
builds the family's keys; everybody else (console, metrics, actions, jobs) calls its methods.

A source scan, no imports. An owner declares its families at module level:

    KEY_FAMILIES = ("cswindow",)          # -> settings.key("cswindow", ...)
    KEY_FAMILIES = ("wechat:nonce",)      # -> settings.key("wechat", "nonce", ...): a sub-family

A use is a `settings.key(...)` / `key(...)` call (or `register_personal_key(...)`) whose leading
arguments are string literals or module constants naming a family. The test fails when a module
uses a family another module owns, uses a family nobody declares, or uses another object's key
builder (`handoff.key("queue")`, `handoff.events_key`) or a key function imported from another
module (`user_key(settings, name)`) instead of the owner's methods; the allow-list below names the
deliberate exceptions. Run on the code before the owners got their methods, it listed the console
reading the window, handoff, booking and intent-count keys, /metrics reading the handoff queue,
actions reading the location the WeChat view wrote, and more.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "actions")
DECLARATION = "KEY_FAMILIES"

# Deliberate uses of another owner's key builder, each with the reason it is that owner's business.
ALLOWED_KEY_BUILDER_USES: Dict[Tuple[str, str], str] = {
    ("bot/services/booking/service.py", "self.catalogue.slot_key"):
        "the booking Lua scripts change seats and slots in one atomic step",
    ("bot/services/booking/service.py", "self.scheduler.job_key"):
        "the booking Lua scripts schedule reminders in the same atomic step",
    ("bot/services/booking/service.py", "self.scheduler.due_key"):
        "the booking Lua scripts schedule reminders in the same atomic step",
    ("bot/services/camp.py", "self.scheduler.job_key"):
        "the camp cancel script queues the promotion notice in the same atomic step",
    ("bot/services/camp.py", "self.scheduler.due_key"):
        "the camp cancel script queues the promotion notice in the same atomic step",
    ("bot/services/campaigns/worker.py", "self.store.key"):
        "the worker is the campaigns package's other half: it runs the store's keys in pipelines",
    ("bot/gateway/console/accounts.py", "user_key"):
        "the account command-line tool (sync Redis) writes the accounts auth.py reads",
    ("bot/gateway/console/accounts.py", "users_index_key"):
        "the account command-line tool (sync Redis) writes the accounts auth.py reads",
}
# Names like a key builder's that are no Redis key: a WeChat EventKey, the AES key setting, the
# personal-data registry, a notice's de-duplication id (push.py makes its own key of it).
NOT_REDIS_KEYS = {"event_key", "wechat_encoding_aes_key", "register_personal_key", "dedupe_key"}
NOT_REDIS_KEY_USES = {  # an eligibility rule group's id
    ("bot/services/eligibility.py", "group.key"),
    ("bot/services/eligibility_answer.py", "group.key"),
    ("bot/services/eligibility_answer.py", "w.group.key"),
    ("bot/services/eligibility_answer.py", "cohort_group.key"),
}


@dataclass
class Module:
    path: str  # relative, e.g. "bot/gateway/wechat/window.py"
    tree: ast.Module
    constants: Dict[str, str] = field(default_factory=dict)
    imports: Dict[str, Tuple[str, str]] = field(default_factory=dict)  # name -> (module, name)


def _module_name(path: str) -> str:
    return path[: -len(".py")].replace("/", ".").removesuffix(".__init__")


def _load() -> Dict[str, Module]:
    modules: Dict[str, Module] = {}
    for root in SCANNED:
        for file in sorted((ROOT / root).rglob("*.py")):
            rel = file.relative_to(ROOT).as_posix()
            module = Module(rel, ast.parse(file.read_text(encoding="utf-8"), filename=rel))
            for node in module.tree.body:
                target, value = _assignment(node)
                if target and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    module.constants[target] = value.value
                if isinstance(node, ast.ImportFrom) and node.module:
                    for alias in node.names:
                        module.imports[alias.asname or alias.name] = (node.module, alias.name)
            modules[_module_name(rel)] = module
    return modules


def _assignment(node: ast.stmt) -> Tuple[Optional[str], Optional[ast.expr]]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def _resolve(expr: ast.expr, module: Module, modules: Dict[str, Module]) -> Optional[str]:
    """The string an argument stands for: a literal, a module constant or an imported constant."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Name):
        if expr.id in module.constants:
            return module.constants[expr.id]
        source = module.imports.get(expr.id)
        if source and source[0] in modules:
            return modules[source[0]].constants.get(source[1])
    return None


def _declarations(modules: Dict[str, Module]) -> Dict[str, Set[str]]:
    owners: Dict[str, Set[str]] = {}
    for module in modules.values():
        for node in module.tree.body:
            target, value = _assignment(node)
            if target != DECLARATION or not isinstance(value, (ast.Tuple, ast.List)):
                continue
            for element in value.elts:
                family = _resolve(element, module, modules)
                assert family, f"{module.path}: {DECLARATION} must list string literals or constants"
                owners.setdefault(family, set()).add(module.path)
    return owners


def _is_settings(receiver: ast.expr) -> bool:
    return "settings" in ast.unparse(receiver).lower()


def _calls(module: Module) -> Iterator[ast.Call]:
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Call):
            yield node


def _family_parts(call: ast.Call, module: Module, modules: Dict[str, Module]) -> List[str]:
    parts: List[str] = []
    for arg in call.args:
        value = _resolve(arg, module, modules)
        if value is None:
            break
        parts.append(value)
    return parts


def _owned_family(parts: List[str], owners: Dict[str, Set[str]]) -> Optional[str]:
    """The longest declared family the key's leading parts fall under."""
    matches = [f for f in owners if parts[: len(f.split(":"))] == f.split(":")]
    return max(matches, key=len) if matches else None


def _family_problems(module: Module, modules: Dict[str, Module], owners: Dict[str, Set[str]]) -> Iterator[str]:
    for call in _calls(module):
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "key" and _is_settings(func.value):
            pass
        elif not (isinstance(func, ast.Name) and func.id in ("key", "register_personal_key")):
            continue
        parts = _family_parts(call, module, modules)
        if not parts:
            continue  # a family held in a variable: the personal-data registry serving the owners
        family = _owned_family(parts, owners)
        where = f"{module.path}:{call.lineno}"
        if family is None:
            yield f"{where}: key family {parts[0]!r} has no owner (declare {DECLARATION} in its module)"
        elif module.path not in owners[family]:
            yield f"{where}: uses key family {family!r} owned by {sorted(owners[family])}"


def _is_key_builder(name: str) -> bool:
    return name == "key" or name.endswith("_key")


def _builder_problems(module: Module, modules: Dict[str, Module]) -> Iterator[str]:
    """Another object's key builder (`handoff.key(...)`, `handoff.events_key`) or a key function
    imported from another module (`user_key(settings, name)`)."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Attribute) and _is_key_builder(node.attr):
            receiver = ast.unparse(node.value)
            if receiver == "self" or _is_settings(node.value):
                continue
            used = f"{receiver}.{node.attr}"
        elif isinstance(node, ast.Name) and _is_key_builder(node.id) and node.id in module.imports:
            if module.imports[node.id][0] not in modules:
                continue
            used = node.id
        else:
            continue
        if used.rpartition(".")[2] in NOT_REDIS_KEYS or (module.path, used) in NOT_REDIS_KEY_USES:
            continue
        if (module.path, used) not in ALLOWED_KEY_BUILDER_USES:
            yield f"{module.path}:{node.lineno}: uses another module's Redis key {used}; call its owner's method"


def _problems(module: Module, modules: Dict[str, Module], owners: Dict[str, Set[str]]) -> Iterator[str]:
    yield from _family_problems(module, modules, owners)
    yield from _builder_problems(module, modules)


def test_every_key_family_is_used_only_by_its_owner() -> None:
    modules = _load()
    owners = _declarations(modules)
    assert owners, f"no module declares {DECLARATION}"
    problems = [p for module in modules.values() for p in _problems(module, modules, owners)]
    assert not problems, "Redis keys read or written outside their owner:\n" + "\n".join(problems)


def test_each_family_has_exactly_one_owner() -> None:
    owners = _declarations(_load())
    shared = {family: sorted(paths) for family, paths in owners.items() if len(paths) > 1}
    assert not shared, f"key families declared by more than one module: {shared}"


def test_every_allowed_exception_is_still_needed() -> None:
    stale = [
        entry for entry in [*ALLOWED_KEY_BUILDER_USES, *NOT_REDIS_KEY_USES]
        if entry[1] not in (ROOT / entry[0]).read_text(encoding="utf-8")
    ]
    assert not stale, f"remove these exceptions, the code no longer has them: {stale}"


def test_the_scan_sees_foreign_key_uses() -> None:
    """The scan itself works: a console module reading the window key or the handoff queue's
    keys would be caught."""
    source = (
        "async def f(redis, settings, handoff):\n"
        '    await redis.hget(settings.key("cswindow", "o1"), "mu")\n'
        '    await redis.zcard(handoff.key("queue"))\n'
        "    await redis.xread({handoff.events_key: '0-0'})\n"
    )
    intruder = Module("bot/gateway/console/intruder.py", ast.parse(source))
    modules = _load()
    problems = list(_problems(intruder, modules, _declarations(modules)))
    assert len(problems) == 3
    assert "'cswindow'" in problems[0] and "handoff.key" in problems[1] and "handoff.events_key" in problems[2]
