"""scripts/bench_cais.py: exact-span scoring, the config copy, the CAIS-derived jieba dictionary."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_cais", ROOT / "scripts" / "bench_cais.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
score_spans = bench.score_spans


def test_all_exact_matches_score_one():
    gold = [[(2, 5, "singer_name"), (6, 10, "song_name")], [(0, 2, "date")]]
    r = score_spans(gold, [list(reversed(gold[0])), list(gold[1])])
    assert (r["tp"], r["fp"], r["fn"]) == (3, 0, 0)
    assert r["precision"] == r["recall"] == r["f1"] == 1.0
    assert r["per_type"]["song_name"]["support"] == 1


def test_partial_overlaps_are_wrong_both_ways():
    # "我想听周杰伦的稻香": gold singer 3-6, song 7-9
    gold = [[(3, 6, "singer_name"), (7, 9, "song_name")]]
    pred = [[(3, 7, "singer_name"),    # one character too long
             (8, 9, "song_name")]]     # one character too short
    r = score_spans(gold, pred)
    assert (r["tp"], r["fp"], r["fn"]) == (0, 2, 2)
    assert r["f1"] == 0.0
    assert r["per_type"]["singer_name"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                           "tp": 0, "fp": 1, "fn": 1, "support": 1}


def test_right_span_wrong_type_is_wrong():
    r = score_spans([[(0, 3, "song_name")]], [[(0, 3, "album_name")]])
    assert (r["tp"], r["fp"], r["fn"]) == (0, 1, 1)
    assert r["per_type"]["album_name"]["support"] == 0
    assert r["per_type"]["song_name"]["recall"] == 0.0


def test_micro_average_and_spans_do_not_match_across_utterances():
    gold = [[(0, 2, "date"), (3, 6, "song_name")], [(0, 3, "song_name")], []]
    pred = [[(0, 2, "date")], [(0, 3, "song_name"), (4, 6, "singer_name")], [(3, 6, "song_name")]]
    r = score_spans(gold, pred)
    # utterance 3 predicts utterance 1's song span: a false positive there, and utterance 1 misses it
    assert (r["tp"], r["fp"], r["fn"]) == (2, 2, 1)
    assert r["precision"] == pytest.approx(0.5)
    assert r["recall"] == pytest.approx(2 / 3)
    assert r["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert r["per_type"]["song_name"]["precision"] == pytest.approx(0.5)


def test_duplicate_prediction_counts_once():
    r = score_spans([[(1, 4, "song_name")]], [[(1, 4, "song_name"), (1, 4, "song_name")]])
    assert (r["tp"], r["fp"], r["fn"]) == (1, 1, 0)


def test_empty_and_mismatched_inputs():
    r = score_spans([[], []], [[], []])
    assert (r["precision"], r["recall"], r["f1"], r["per_type"]) == (0.0, 0.0, 0.0, {})
    with pytest.raises(ValueError):
        score_spans([[]], [])


def test_weakest_types_ignores_types_absent_from_gold():
    r = score_spans(
        [[(0, 2, "a"), (3, 5, "b")], [(0, 2, "b"), (3, 4, "c")]],
        [[(0, 2, "a"), (3, 5, "b")], [(0, 1, "b"), (3, 4, "c"), (5, 6, "zz")]],
    )
    weakest = bench.weakest_types(r["per_type"], n=2)
    assert [w["type"] for w in weakest] == ["b", "a"]
    assert weakest[0]["f1"] == pytest.approx(round(2 * 0.5 * 0.5, 4))
    assert all(w["type"] != "zz" for w in bench.weakest_types(r["per_type"], n=10))


def test_bench_config_copies_current_config_and_only_moves_the_dictionary(tmp_path):
    from rasa.shared.utils.io import read_yaml_file

    target = tmp_path / "config.yml"
    bench.write_bench_config(ROOT / "config.yml", tmp_path / "dict", target)
    ours, copy = read_yaml_file(str(ROOT / "config.yml")), read_yaml_file(str(target))
    assert [c["name"] for c in copy["pipeline"]] == [c["name"] for c in ours["pipeline"]]
    for a, b in zip(ours["pipeline"], copy["pipeline"]):
        if a["name"].endswith("JiebaTokenizer"):
            assert b["dictionary_path"] == str(tmp_path / "dict")
            assert {k: v for k, v in a.items() if k != "dictionary_path"} == \
                   {k: v for k, v in b.items() if k != "dictionary_path"}
        else:
            assert a == b
    assert copy["language"] == ours["language"]


def test_examples_read_offsets_with_rasas_loader(tmp_path):
    f = tmp_path / "nlu.yml"
    f.write_text('version: "3.1"\nnlu:\n- intent: PlayMusic\n  examples: |\n'
                 "    - 我想听[周杰伦](singer_name)的[稻香](song_name)\n", encoding="utf-8")
    [(text, intent, spans)] = bench._examples(f)
    assert (text, intent) == ("我想听周杰伦的稻香", "PlayMusic")
    assert spans == [(3, 6, "singer_name"), (7, 9, "song_name")]
    assert [text[s:e] for s, e, _ in spans] == ["周杰伦", "稻香"]


def test_slot_dictionary_puts_training_entities_on_token_boundaries(tmp_path):
    # jieba's own dictionary glues 今天天气, so the two dates below are cut off (rasa #7409). 今天天气 is
    # also a song title here: as a slot value it would glue the dates again, so it is demoted (frequency
    # 0); the song then spans two tokens 今天|天气, still on boundaries. A stand-in project dictionary
    # keeps the test independent of nlu_data/jieba, which changes. Run in a subprocess: loading user
    # dictionaries changes jieba's global state.
    data = tmp_path / "train.yml"
    data.write_text('version: "3.1"\nnlu:\n- intent: Weather\n  examples: |\n'
                    "    - [今天](date)天气怎么样\n    - 北京[今天](date)天气好吗\n"
                    "- intent: PlayMusic\n  examples: |\n"
                    "    - 放一首[晴天娃娃之歌](song_name)\n    - 来一首[今天天气](song_name)\n", encoding="utf-8")
    project = tmp_path / "project_userdict.txt"
    project.write_text("历下区 30000 ns\n", encoding="utf-8")
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);\n"
        "from pathlib import Path; import bench_cais as b\n"
        "print(json.dumps(b.build_slot_dictionary([Path(sys.argv[2])], Path(sys.argv[3]),"
        " project_userdict=Path(sys.argv[4]))))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(ROOT / "scripts"), str(data), str(tmp_path / "dict"),
                           str(project)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert stats["training_entities"] == 4
    assert stats["on_token_boundaries_project_dict_only"] == 0.5  # both dates cut by 今天天气
    assert stats["on_token_boundaries_with_slot_dict"] == 1.0
    assert sorted(p.name for p in (tmp_path / "dict").iterdir()) == ["cais_slots.txt", "project_userdict.txt"]
    lines = (tmp_path / "dict" / "cais_slots.txt").read_text(encoding="utf-8").splitlines()
    assert f"晴天娃娃之歌 {bench.SLOT_VALUE_FREQ}" in lines and f"今天 {bench.SLOT_VALUE_FREQ}" in lines
    assert "今天天气 0" in lines and f"今天天气 {bench.SLOT_VALUE_FREQ}" not in lines
