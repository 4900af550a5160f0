#!/usr/bin/env python
"""Today's place matcher (`bot/language/places.py`: str.find over every surface form) against
spaCy's PhraseMatcher on a blank `zh` pipeline (character segmentation, no model download), on the
same surface forms and the same selection and resolution rules: only the finder differs.

Accuracy: the cases of tests/bot/language/test_places.py, every lookup form (a form must find
itself), and every example of nlu_data/ and tests/nlu_test.yml (the two finders must agree).
Speed: microseconds per message over the same texts, best of five rounds.

    .venv/bin/python scripts/bench_place_matcher.py
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.language import places  # noqa: E402

Finder = Callable[[str], List[places._Match]]
# The expectations of tests/bot/language/test_places.py::test_normalize_place (kept in step by hand).
TEST_CASES: Sequence[Tuple[str, Tuple[object, object]]] = (
    ("济南市中区有没有能帮忙改简历的地方", ("济南市", "市中区")), ("枣庄市中区", ("枣庄市", "市中区")),
    ("市中区", (None, "市中区")), ("济南", ("济南市", None)), ("历下", ("济南市", "历下区")),
    ("我在莱芜", ("济南市", "莱芜区")), ("即墨市", ("青岛市", "即墨区")), ("胶南", ("青岛市", "黄岛区")),
    ("济宁市中区", ("济宁市", "任城区")), ("菏泽单县", ("菏泽市", "单县")), ("东营区", ("东营市", "东营区")),
    ("东营", ("东营市", None)), ("济南的黄岛区", ("青岛市", "黄岛区")), ("北京朝阳区", (None, None)),
)
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


def spacy_finder() -> Finder:
    import spacy
    from spacy.matcher import PhraseMatcher

    nlp = spacy.blank("zh")  # the default segmenter is "char": one token per character
    matcher = PhraseMatcher(nlp.vocab)
    idx = places._index()
    label_kind: Dict[int, str] = {}
    for kind, forms in (("city", idx.city_forms), ("district", idx.district_forms), ("old", idx.old_forms)):
        matcher.add(kind, [nlp.make_doc(form) for form in forms])
        label_kind[nlp.vocab.strings[kind]] = kind

    def find(text: str) -> List[places._Match]:
        doc = nlp.make_doc(text)
        found = []
        for label, start, end in matcher(doc):
            span = doc[start:end]
            found.append(places._Match(span.start_char, span.end_char, label_kind[label], span.text))
        return found

    return find


def normalize_with(finder: Finder, text: str) -> Tuple[object, object]:
    original = places._find_matches
    places._find_matches = finder
    try:
        return places.normalize_place(text)
    finally:
        places._find_matches = original


def corpus_texts() -> List[str]:
    texts: List[str] = []
    files = sorted((ROOT / "nlu_data" / "nlu").glob("*.yml")) + [ROOT / "tests" / "nlu_test.yml"]
    for path in files:
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or ():
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip().removeprefix("- ").strip()
                if line:
                    texts.append(_ANNOTATION.sub(lambda m: m.group(1) or m.group(2), line))
    return texts


def per_message_us(finder: Finder, texts: Sequence[str], rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            normalize_with(finder, text)
        best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1e6


def main() -> int:
    started = time.perf_counter()
    import spacy  # noqa: F401  (thinc imports TensorFlow when it is installed, as in .venv)

    import_ms = (time.perf_counter() - started) * 1e3
    started = time.perf_counter()
    spacy_find = spacy_finder()
    build_ms = (time.perf_counter() - started) * 1e3
    ours = places._find_matches
    finders = {"str.find (today)": ours, "spaCy PhraseMatcher": spacy_find}
    forms = places.all_place_surface_forms()
    lookups = forms["city"] + forms["district"]
    corpus = corpus_texts()
    for name, finder in finders.items():
        right = sum(normalize_with(finder, text) == want for text, want in TEST_CASES)
        found_self = sum(any(m.form == form for m in finder(form)) for form in lookups)
        print(f"{name:<22} test cases {right}/{len(TEST_CASES)}  lookup forms found {found_self}/{len(lookups)}")
    disagree = [t for t in corpus + lookups if normalize_with(ours, t) != normalize_with(spacy_find, t)]
    print(f"normalize_place disagreements on {len(corpus)} NLU examples + {len(lookups)} lookup forms: {len(disagree)}")
    for text in disagree[:10]:
        print(f"  {text!r}: {normalize_with(ours, text)} vs {normalize_with(spacy_find, text)}")
    for name, finder in finders.items():
        print(f"{name:<22} {per_message_us(finder, corpus):7.1f} µs per message (normalize_place, {len(corpus)} texts)")
    print(f"spaCy import {import_ms:.0f} ms, blank zh pipeline + matcher build {build_ms:.0f} ms (once per process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
