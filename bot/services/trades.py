"""Trades: the ones people name when they look for work ("想找个电工的活"), and the trade a user
says they want to do ("想干电工", "打算做餐饮", "想学电商": issue #21 item 1, the profile's trade of
interest). Plain text helpers, used by the job search (`job_search.find_trade`), the profile facts
(`profile_facts.fact_entities`, entity `trade`) and the actions that suggest something for it.
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

# Longest first so that "电焊工" wins over "焊工".
TRADES = tuple(
    sorted(
        (
            "电工", "焊工", "电焊工", "钳工", "车工", "铣工", "木工", "瓦工", "泥瓦工", "水电工", "油漆工",
            "钢筋工", "架子工", "装修工", "普工", "操作工", "装卸工", "搬运工", "叉车工", "叉车司机",
            "司机", "货车司机", "网约车司机", "快递员", "外卖员", "骑手", "保安", "保洁", "保姆", "月嫂",
            "育婴师", "护工", "家政", "厨师", "帮厨", "面点师", "服务员", "收银员", "营业员", "导购",
            "销售", "客服", "文员", "前台", "会计", "出纳", "行政", "人事", "程序员", "设计师", "教师",
            "老师", "护士", "仓管", "库管", "质检员", "电商运营", "主播", "美容师", "理发师", "汽修工",
            "修车", "电气工程师", "机械工程师", "数控", "焊接", "餐饮", "电商", "烘焙", "汽修", "美发", "美甲",
        ),
        key=len,
        reverse=True,
    )
)
# Words that make a trade the user's wish: a verb just before it ("想干电工", "打算做餐饮", "学个电商"),
# or "感兴趣"/"的活" just after it ("对电商感兴趣", "找电工的活"); "电工证怎么考" or "约个老师" names a
# trade but says nothing about what the user wants to do.
_WANT_BEFORE = re.compile(r"(学|干|做|当|从事|转行|入行|进)(个|点|一名|名|一下)?$")
_WANT_AFTER = re.compile(r"^(方面)?(挺|很|比较|特别|蛮|还挺)?(感兴趣|有兴趣|这一?行|的活|的工作|相关的工作|的岗位)")
# Trades that are also the way people address someone ("老师您好", "我想约个老师").
NOT_A_WISH = frozenset({"老师"})


def find_trade(text: Optional[str]) -> Optional[str]:
    """The trade a message names ('想找个电工的活' -> '电工'), if one of TRADES."""
    for trade in TRADES:
        if trade in (text or ""):
            return trade
    return None


def trade_of_interest(text: Optional[str]) -> Optional[Tuple[str, int, int]]:
    """The trade the writer says they want to do, with its span; None when a trade is only named."""
    text = text or ""
    for trade in TRADES:
        start = text.find(trade)
        if start < 0:
            continue
        before, after = text[max(0, start - 6):start], text[start + len(trade):]
        if trade in NOT_A_WISH:
            continue
        if _WANT_BEFORE.search(before) or _WANT_AFTER.search(after):
            return trade, start, start + len(trade)
    return None
