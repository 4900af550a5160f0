"""What the bot says, read from its sources: the response texts of domain.yml, and every instruction
its replies quote ("回复“订阅”", "说“转人工”", "试试：“A”“B”") in domain.yml and the reply code."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from bot.settings import PROJECT_ROOT
from bot.gateway.wechat.menu import load_menu_file

# Where reply texts live: the domain's responses, the actions, the services, and the gateway's own
# answers to messages that never reach Rasa.
REPLY_SOURCES = ("actions", "bot/services", "bot/gateway/conversation.py", "bot/gateway/wechat/channel.py")
# A verb that tells the user what to send, then one or more quoted messages ("“A”“B”", "“A”或“B”").
# "例如“…”" is left out on purpose: it shows the format of an answer to a form question.
INSTRUCTION_RE = re.compile(r"(?:回复|说|发送|试试|比如|可以问)[：:]?\s*((?:“[^”\n]{1,30}”\s*(?:[、，,或和]\s*)?)+)")
QUOTED_RE = re.compile(r"“([^”\n]{1,30})”")


def domain() -> Dict:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def response_text(name: str) -> str:
    """The (first) text of a domain response."""
    return domain()["responses"][name][0]["text"]


def said_in(source: str, marker: str) -> str:
    """The one string literal of a reply source (e.g. "actions/camp.py") that contains `marker`, as the
    code writes it: implicit concatenation joined, an f-string's placeholders left as "{…}"."""
    tree = ast.parse((PROJECT_ROOT / source).read_text(encoding="utf-8"))
    docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{…}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if marker in text:
            found.append(text)
    found = [t for t in found if not any(t != other and t in other for other in found)]  # an f-string's parts
    assert len(found) == 1, f"{source}: {len(found)} texts with {marker!r}: {found}"
    return found[0]


def instructions_in(text: str) -> List[str]:
    return [quoted for group in INSTRUCTION_RE.findall(text) for quoted in QUOTED_RE.findall(group)]


def _source_files() -> List[Path]:
    files: List[Path] = []
    for source in REPLY_SOURCES:
        path = PROJECT_ROOT / source
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def quoted_instructions() -> Dict[str, List[str]]:
    """Each quoted instruction → where it is said ("domain.yml:utter_x", "actions/camp.py:12").

    An f-string placeholder stays as written ("取消订阅{topic}"): the walk fills it in."""
    found: Dict[str, List[str]] = {}
    for name, variants in domain()["responses"].items():
        for variant in variants:
            for quoted in instructions_in(variant.get("text") or ""):
                found.setdefault(quoted, []).append(f"domain.yml:{name}")
    for path in _source_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for quoted in instructions_in(line):
                found.setdefault(quoted, []).append(f"{path.relative_to(PROJECT_ROOT)}:{number}")
    return found


def menu_buttons() -> List[Tuple[str, str]]:
    """(label, intent) of each click button of data/wechat_menu.json."""
    doc = load_menu_file()
    return [
        (sub["name"], doc["click_intents"][sub["key"]])
        for top in doc["menu"]["button"]
        for sub in top.get("sub_button", [top])
        if sub.get("type") == "click"
    ]


def menu_top_names() -> List[str]:
    return [top["name"] for top in load_menu_file()["menu"]["button"]]
