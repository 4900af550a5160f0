"""The knowledge base (data/knowledge/*.yml) and the question map (docs/question_map.md) agree.

Plain YAML loading on purpose: these are guarantees of the data files, whatever loads them.

Guard against invented figures: an answer may contain an amount of money (8元, 三千元, 2万),
a rate (80%) or a period counted in days or months (十五日内, 三个月, 30天) only when the item
carries its OWN `review_note` naming the legal text the figure comes from (《…》), e.g. the
试用期 limits of 《劳动合同法》. The file-wide default note ("draft, to be checked") does not
count. Subsidy amounts and local deadlines vary by city and year and are never written at all;
years (2023年起) and the 12333 hotline are not figures of this kind.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List

import yaml

from bot.services.knowledge.lexical import normalise

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_DIR = ROOT / "data" / "knowledge"
MAP_PATH = ROOT / "docs" / "question_map.md"
HELDOUT_PATH = ROOT / "tests" / "policy_heldout.yml"

TOPICS = {
    "finding_work", "job_fairs", "skills_courses", "career_choice", "paperwork", "subsidies",
    "social_insurance", "labour_rights", "network_services", "job_search_skills",
    "entrepreneurship",
}
GROUPS = {
    "student", "graduate", "unemployed_youth", "hard_to_employ", "veteran", "disabled",
    "migrant_worker", "flexible_worker",
}
REQUIRED = ("id", "title", "topic", "variants", "answer", "source", "last_reviewed")
MAX_ANSWER_CHARS = 280  # one WeChat reply with the source line appended
_NUM = r"(?:\d+(?:\.\d+)?|[零一二两三四五六七八九十百千万]+)"
FIGURE = re.compile(rf"{_NUM}\s*(?:万元|元|万|%|％|个月|天|日内|个工作日)")
CITED = re.compile(r"《[^》]+》")


def _files() -> Dict[str, dict]:
    paths = sorted(KNOWLEDGE_DIR.glob("*.yml"))
    assert paths, KNOWLEDGE_DIR
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths}


FILES = _files()
ITEMS: List[dict] = [item for data in FILES.values() for item in data["items"]]
SYNONYM_PAIRS = [
    (str(alias).lower(), str(canonical))
    for data in FILES.values()
    for canonical, aliases in (data.get("synonyms") or {}).items()
    for alias in aliases
]


def _answer(item: dict) -> str:
    return "".join(str(item["answer"]).split())


def _norm(text: str) -> str:
    return normalise(text, sorted(SYNONYM_PAIRS, key=lambda p: (-len(p[0]), p[0])))


def test_every_file_has_version_and_items():
    for name, data in FILES.items():
        assert data.get("version") == 1, name
        assert data.get("items"), name


def test_ids_are_unique_across_files():
    ids = [item["id"] for item in ITEMS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_map_and_data_name_the_same_items():
    in_map = set(re.findall(r"\bkb:([a-z0-9_]+)", MAP_PATH.read_text(encoding="utf-8")))
    in_data = {item["id"] for item in ITEMS}
    assert in_map - in_data == set(), "named in the map but missing from data/knowledge"
    assert in_data - in_map == set(), "in data/knowledge but absent from the map"


def test_map_stays_readable():
    assert len(MAP_PATH.read_text(encoding="utf-8").splitlines()) <= 250


def test_items_have_required_fields_and_known_labels():
    for item in ITEMS:
        for field in REQUIRED:
            assert item.get(field), (item.get("id"), field)
        assert item["topic"] in TOPICS, item["id"]
        assert set(item.get("audience") or ()) <= GROUPS, item["id"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(item["last_reviewed"])), item["id"]


def test_items_have_enough_distinct_variants():
    for name, data in FILES.items():
        # policy.yml predates the 10-variant rule; its items keep at least 8. The ceiling keeps one
        # item from outweighing the others in the classifier; 20 leaves room for the long, dialect
        # and typo phrasings every item carries (issue #20)
        low = 8 if name == "policy.yml" else 10
        for item in data["items"]:
            assert low <= len(item["variants"]) <= 20, (item["id"], len(item["variants"]))


def test_labour_rights_answers_refer_to_12333():
    # a referral names the institution and the hotline in the reply itself
    for item in ITEMS:
        if item["topic"] == "labour_rights":
            assert "12333" in _answer(item), item["id"]


def test_answers_fit_one_reply():
    for item in ITEMS:
        assert len(_answer(item)) <= MAX_ANSWER_CHARS, (item["id"], len(_answer(item)))


def test_figures_only_with_a_cited_source():
    for item in ITEMS:
        figures = FIGURE.findall(_answer(item))
        if figures:
            note = str(item.get("review_note") or "")
            assert CITED.search(note), (item["id"], figures, "needs its own review_note citing 《…》")


def test_figure_guard_catches_amounts_rates_and_periods():
    for text in ("补贴500元", "每月三千元", "补贴标准为2万", "贴息50%", "十五日内申请", "试用期三个月"):
        assert FIGURE.search(text), text
    for text in ("拨打12333", "2023年起不再发放", "一次性求职创业补贴", "一对一面谈"):
        assert not FIGURE.search(text), text


def test_variants_are_not_duplicated_across_items():
    owner: Dict[str, str] = {}
    for item in ITEMS:
        for variant in item["variants"]:
            key = _norm(str(variant))
            assert key, (item["id"], variant)
            first = owner.setdefault(key, item["id"])
            assert first == item["id"], (variant, first, item["id"])


def test_no_heldout_question_is_copied_into_the_data():
    heldout = yaml.safe_load(HELDOUT_PATH.read_text(encoding="utf-8"))["questions"]
    seen = {_norm(str(v)) for item in ITEMS for v in (item["title"], *item["variants"])}
    calibration = [q for data in FILES.values() for q in data.get("off_topic_calibration") or ()]
    seen |= {_norm(str(q)) for q in calibration}
    copied = [row["q"] for row in heldout if _norm(str(row["q"])) in seen]
    assert copied == []


def test_synonym_aliases_are_defined_once():
    aliases = [alias for alias, _ in SYNONYM_PAIRS]
    assert len(aliases) == len(set(aliases)), sorted({a for a in aliases if aliases.count(a) > 1})
    canonicals = {canonical for _, canonical in SYNONYM_PAIRS}
    assert canonicals.isdisjoint(aliases), canonicals & set(aliases)
