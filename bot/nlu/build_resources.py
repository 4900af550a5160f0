"""Generate the jieba user dictionary and the lookup tables from the place table and domain terms.

Run after changing data/shandong_places.csv or the term lists below:
    .venv/bin/python -m bot.nlu.build_resources
Writes nlu_data/jieba/zhinan_userdict.txt and nlu_data/nlu/lookups.yml (both generated).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List

from bot.nlu import places

ROOT = Path(__file__).resolve().parents[2]
JIEBA_DIR = ROOT / "nlu_data" / "jieba"
LOOKUPS = ROOT / "nlu_data" / "nlu" / "lookups.yml"

POINT_TYPES = [
    "高校就业指导工作站", "社区就业驿站", "零工市场", "人力资源市场", "人力资源服务产业园",
    "数智就业服务区", "公共就业和人才服务机构", "职业指导工作室",
]
# Colloquial forms users type (mapped to the official names by synonyms in nlu_data/nlu/synonyms.yml).
POINT_TYPE_FORMS = [
    "就业驿站", "驿站", "社区驿站", "家门口就业服务站", "零工驿站", "零工市集", "劳务市场", "人才市场",
    "人力市场", "人才交流中心", "人力资源产业园", "人力资源服务园", "产业园", "数智就业", "智慧就业服务区",
    "就业服务区", "人社局", "就业局", "人才服务中心", "就业服务中心", "公共就业服务机构", "就业指导工作站",
    "高校工作站", "学校就业指导站", "职业指导室", "指导工作室", "工作站",
]
WORKSHOP_TOPICS = ["简历指导", "面试技巧", "职业规划", "一对一咨询", "创业指导"]
WORKSHOP_FORMS = [
    "改简历", "简历", "简历修改", "写简历", "面试", "模拟面试", "面试辅导", "职业生涯规划", "生涯规划",
    "一对一", "单独咨询", "创业", "创业辅导",
]
IDENTITIES = ["在校生", "应届毕业生", "离校未就业毕业生", "失业青年", "应届生", "往届生", "毕业生",
              "在校大学生", "大学生", "待业", "失业人员", "离校未就业", "没工作", "研究生"]
EDUCATION = ["博士", "硕士", "研究生", "本科", "大专", "专科", "高职", "中专", "技校", "高中", "初中",
             "职高", "本科生", "专科生", "硕士研究生", "博士研究生", "学士"]
DOMAIN_TERMS = [
    "实训营", "青年求职能力实训营", "求职能力实训营", "职业测评", "职业兴趣测评", "霍兰德", "空中课堂",
    "直播课", "网课", "就业政策", "失业登记", "就业登记", "失业金", "失业保险金", "社保补贴", "求职创业补贴",
    "一次性求职创业补贴", "创业担保贷款", "见习补贴", "就业见习", "灵活就业", "职业指导师", "转人工",
    "人工客服", "退订", "取消订阅", "我的预约", "取消预约", "零工", "简历", "改简历", "人工", "真人",
    "职引", "测一测", "测测", "报名", "预约", "三支一扶", "公务员", "事业编", "选调生", "考研",
]
SCHOOLS = [
    "山东大学", "中国海洋大学", "中国石油大学", "山东师范大学", "济南大学", "青岛大学", "山东科技大学",
    "山东理工大学", "山东农业大学", "山东财经大学", "山东建筑大学", "齐鲁工业大学", "曲阜师范大学",
    "聊城大学", "烟台大学", "临沂大学", "鲁东大学", "潍坊学院", "泰山学院", "德州学院", "滨州学院",
    "菏泽学院", "枣庄学院", "济宁学院", "齐鲁师范学院", "山东第一医科大学", "滨州医学院", "潍坊医学院",
    "青岛科技大学", "青岛理工大学", "青岛农业大学", "山东交通学院", "山东工商学院", "山东政法学院",
    "山东女子学院", "山东青年政治学院", "山东管理学院", "山东职业学院", "山东商业职业技术学院",
    "济南职业学院", "青岛职业技术学院", "日照职业技术学院", "淄博职业学院", "山东劳动职业技术学院",
    "山东中医药大学", "山东艺术学院", "山东体育学院", "哈工大威海", "山大", "海大", "山师", "山财", "济大",
    "青大", "山科", "山理工", "曲师大", "聊大", "烟大", "临大", "鲁大", "齐鲁工大", "石大",
]

# The ~100 most common Chinese surnames (single-character ones), for the person_name regex feature.
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
            "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")

_DIGITS = "一二三四五六七八九"


# Token features for DIET's time tagging (only 70-odd distinct time spans in the data): relative days
# and parts of the day, weekdays, months and dates, clock times. Hints only; DIET decides the span.
TIME_HINTS = [
    r"(大?后|今|明|昨|前)(天|早|晚)|[上下中]午|早上|晚上|傍晚|凌晨|一早|周末|月底|月初",
    r"(这|本|下下?|上)个?(周|星期|礼拜)[一二三四五六日天1-7]?|(周|星期|礼拜)[一二三四五六日天1-7]",
    r"(这|本|下下?|上)个?月|\d{1,2}月(\d{1,2}[日号]?)?|[一二三四五六七八九十]{1,3}月[一二三四五六七八九十\d]{0,3}[日号]?",
    r"\d{1,2}[日号]|[一二三四五六七八九十]{1,3}[日号]|\d{4}年",
    r"\d{1,2}(点|:)(半|钟|\d{1,2}分?)?|[一二两三四五六七八九十]{1,3}点(半|钟|[一二三四五六七八九十\d]{1,3}分?)?",
]


def _chinese_number(n: int) -> str:
    """11..99 as typed: 十一, 二十, 三十五."""
    tens, ones = divmod(n, 10)
    return ("十" if tens == 1 else _DIGITS[tens - 1] + "十") + (_DIGITS[ones - 1] if ones else "")


SPLIT_ME = [f"{e}{s}" for e in ["本科", "大专", "专科", "硕士", "博士", "研究生", "高中", "中专", "初中"]
            for s in ["学历", "毕业", "文凭", "在读"]]
# "[明天](time)天气…" and "[二十三](age)岁": the time / age span must end on a token boundary.
SPLIT_ME += ["今天天气", "明天天气"] + [f"{_chinese_number(n)}岁" for n in range(11, 36)]


def _lines(words: Iterable[str], freq: int, tag: str) -> List[str]:
    return [f"{w} {freq} {tag}" for w in words]


def jieba_lines() -> List[str]:
    forms = places.all_place_surface_forms()
    lines: List[str] = []
    # High frequencies so that place names beat generic segmentations ("济南|市中区", not "济南市|中区").
    lines += _lines(forms["city"], 30000, "ns")
    lines += _lines(forms["district"], 30000, "ns")
    lines += _lines(["市中区"], 300000, "ns")
    lines += _lines(POINT_TYPES + POINT_TYPE_FORMS, 20000, "n")
    lines += _lines(WORKSHOP_TOPICS + WORKSHOP_FORMS, 20000, "n")
    lines += _lines(IDENTITIES + EDUCATION, 20000, "n")
    lines += _lines(DOMAIN_TERMS, 20000, "n")
    lines += _lines(SCHOOLS, 20000, "nt")
    # jieba's own dictionary glues these; frequency 0 removes them from the DAG, so it cuts (本科|学历).
    lines += _lines(SPLIT_ME, 0, "n")
    seen, unique = set(), []
    for line in lines:
        word = line.split(" ", 1)[0]
        if word not in seen:
            seen.add(word)
            unique.append(line)
    return unique


def lookup_tables() -> Dict[str, List[str]]:
    forms = places.all_place_surface_forms()
    return {
        "city": forms["city"],
        "district": forms["district"],
        "point_type": sorted(set(POINT_TYPES + POINT_TYPE_FORMS)),
        "workshop_topic": sorted(set(WORKSHOP_TOPICS + WORKSHOP_FORMS)),
        "school": sorted(set(SCHOOLS)),
    }


def render_lookups() -> str:
    out = ['version: "3.1"', "# GENERATED by `python -m bot.nlu.build_resources`: do not edit by hand.", "nlu:"]
    for name, values in lookup_tables().items():
        out.append(f"  - lookup: {name}")
        out.append("    examples: |")
        out += [f"      - {v}" for v in values]
    out.append("  - regex: phone")
    out.append("    examples: |")
    out.append("      - 1[3-9]\\d{9}")
    # Feature hints only (RegexFeaturizer): a message that is just a Chinese name, or a choice index.
    out.append("  - regex: person_name_hint")
    out.append("    examples: |")
    out.append(f"      - ^[{SURNAMES}][\\u4e00-\\u9fa5]{{1,2}}$")
    out.append("  - regex: choice_number")
    out.append("    examples: |")
    out.append("      - ^(选|要|就|我选|我要)?第?[1-9一二三四五六七八九两]个?(吧|号|可以|那个)?$")
    out.append("  - regex: time_hint")
    out.append("    examples: |")
    out += [f"      - {pattern}" for pattern in TIME_HINTS]
    return "\n".join(out) + "\n"


def main() -> None:
    JIEBA_DIR.mkdir(parents=True, exist_ok=True)
    (JIEBA_DIR / "zhinan_userdict.txt").write_text("\n".join(jieba_lines()) + "\n", encoding="utf-8")
    LOOKUPS.write_text(render_lookups(), encoding="utf-8")
    print(f"wrote {JIEBA_DIR / 'zhinan_userdict.txt'} and {LOOKUPS}")


if __name__ == "__main__":
    main()
