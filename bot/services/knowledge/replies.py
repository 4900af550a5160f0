"""The texts users see for knowledge answers, numbered choices and "nothing close"."""
from __future__ import annotations

from datetime import date
from typing import Sequence

from bot.services.capabilities import CAPABILITIES
from bot.services.knowledge.base import KnowledgeItem
from bot.services.knowledge.retrieval import Ranked

def answer_text(item: KnowledgeItem, hotline: str = "12333") -> str:
    """The answer with where to confirm it; fits a WeChat passive reply."""
    reviewed = item.last_reviewed
    try:
        d = date.fromisoformat(reviewed)
        reviewed = f"{d.year}年{d.month}月{d.day}日"
    except ValueError:
        pass
    hotline_note = "" if hotline in item.source else f"；也可拨打{hotline}人社服务热线"
    return (
        f"【{item.title}】{item.answer}\n"
        f"请以官方为准，办理前可向这里确认：{item.source}{hotline_note}。"
        f"（本条信息整理于{reviewed}）"
    )


def choice_text(options: Sequence[Ranked]) -> str:
    """A numbered list of close topics: the user picks instead of the bot guessing."""
    lines = ["我想确认一下，您想问的是：" if len(options) > 1 else "您想问的是不是："]
    lines += [f"{n}. {option.item.title}" for n, option in enumerate(options, start=1)]
    lines.append("回复序号就可以；都不是的话，换个说法再问我，或说“转人工”。")
    return "\n".join(lines)


def nothing_close_text(hotline: str = "12333") -> str:
    return (
        "这个问题我还答不上来，怕说错误导您。\n"
        f"我能帮您：{CAPABILITIES}。可以换个说法再问，或说“转人工”请职业指导师解答，"
        f"也可拨打{hotline}人社服务热线。"
    )


def out_of_scope_text() -> str:
    return f"这个问题不在我的服务范围内，抱歉帮不上忙。我是就业服务助手，能帮您：{CAPABILITIES}。"
