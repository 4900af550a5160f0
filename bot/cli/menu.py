"""Publish or check the WeChat custom menu (`data/wechat_menu.json`, see `bot.gateway.wechat.menu`).

    python -m bot.cli.menu publish [--file F]   validate, then publish (`make wechat-menu`)
    python -m bot.cli.menu check [--file F]     validate only
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import List, Optional

from bot.settings import load_settings
from bot.gateway.wechat.api_client import WeChatAPIError
from bot.gateway.wechat.menu import load_menu_file, publish, validate_menu


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.menu", description=__doc__)
    parser.add_argument("command", choices=("publish", "check"))
    parser.add_argument("--file", type=Path, default=None, help="menu file (default data/wechat_menu.json)")
    args = parser.parse_args(argv)
    doc = load_menu_file(args.file)
    problems = validate_menu(doc)
    if problems:
        for problem in problems:
            print("menu problem:", problem, file=sys.stderr)
        return 2
    if args.command == "check":
        print("menu ok:", ", ".join(b["name"] for b in doc["menu"]["button"]))
        return 0
    settings = load_settings()
    try:
        result = asyncio.run(publish(settings, args.file))
    except WeChatAPIError as exc:
        print(f"publishing the menu failed: {exc}", file=sys.stderr)
        return 1
    print("menu published:", json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
