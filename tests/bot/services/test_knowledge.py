"""The knowledge layer: loading data/knowledge/, retrieval decisions, tuning, reply texts."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from bot.services.knowledge.base import KNOWLEDGE_DIR, MatcherSettings, load_knowledge
from bot.services.knowledge.lexical import normalise
from bot.services.knowledge.replies import answer_text, choice_text, nothing_close_text
from bot.services.knowledge.retrieval import (
    ANSWER,
    CHOOSE,
    NONE,
    Decision,
    Ranked,
    Retriever,
    answers_the_named_subject,
    asks_for_money_if_needed,
    calibration,
    decide,
    decision_from_payload,
    reply_kind,
    the_named_subject_over_the_group,
    tune,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
from eval_policy import configured_retriever, evaluate, load_heldout  # noqa: E402
from tests.helpers.knowledge_items import ITEM  # noqa: E402

KB = load_knowledge()


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")




def test_every_file_joins_one_base():
    files = sorted(p.name for p in KNOWLEDGE_DIR.glob("*.yml"))
    assert len(files) >= 2
    assert len(KB.items) == len({i.id for i in KB.items}) >= 30
    assert KB.item("resume_writing") is not None and KB.item("unemployment_registration") is not None
    assert KB.item("no_such_item") is None
    # synonyms of every file apply: aliases are rewritten before matching
    assert normalise("失业金", KB.synonyms) == normalise("失业保险金", KB.synonyms)


def test_shared_settings_may_live_in_one_file_only(tmp_path):
    write(tmp_path, "a.yml", "matcher: {threshold: 0.5}\nitems:" + ITEM.format(id="a", title=甲, variants="问一"))
    write(tmp_path, "b.yml", "matcher: {threshold: 0.6}\nitems:" + ITEM.format(id="b", title=乙, variants="问二"))
    with pytest.raises(ValueError, match="matcher"):
        load_knowledge(tmp_path)


def test_duplicate_ids_and_missing_fields_are_refused(tmp_path):
    write(tmp_path, "a.yml", "items:" + ITEM.format(id="a", title=甲, variants="问一"))
    write(tmp_path, "b.yml", "items:" + ITEM.format(id="a", title=乙, variants="问二"))
    with pytest.raises(ValueError, match="unique"):
        load_knowledge(tmp_path)
    write(tmp_path, "b.yml", "items:\n  - {id: b, title: 乙, variants: [问]}\n")
    with pytest.raises(ValueError, match="lacks answer"):
        load_knowledge(tmp_path)
    write(tmp_path, "b.yml", "matcher: {thresold: 0.5}\nitems: []\n")
    with pytest.raises(ValueError, match="unknown matcher settings"):
        load_knowledge(tmp_path)


甲, 乙 = "失业登记", "就业登记"


def ranked(*scores: float) -> list:
    return [Ranked(KB.items[i], s) for i, s in enumerate(scores)]


def test_decision_answer_choice_or_none():
    settings = MatcherSettings(threshold=0.5, min_margin=0.1, choice_floor=0.3)
    assert decide(ranked(0.8, 0.4, 0.1), settings).kind == ANSWER
    close = decide(ranked(0.8, 0.75, 0.35, 0.31), settings)
    assert close.kind == CHOOSE and [r.score for r in close.options] == [0.8, 0.75, 0.35]  # at most three
    assert decide(ranked(0.45, 0.1), settings).kind == CHOOSE  # one topic, not sure: ask
    nothing_close = decide(ranked(0.2, 0.1), settings)
    assert nothing_close.kind == NONE and nothing_close.item is None
    assert [r.score for r in nothing_close.options] == [0.2, 0.1]  # the nearest, for a sure question
    assert decide([], settings).kind == NONE



def test_reply_kind_offers_the_nearest_topics_only_to_a_sure_question():
    nothing_close = Decision(NONE, tuple(ranked(0.2, 0.1)))
    assert reply_kind("ask_policy", nothing_close) == CHOOSE
    assert reply_kind("nlu_fallback", nothing_close) == NONE
    assert reply_kind("ask_policy", Decision(NONE)) == NONE  # nothing at all to offer
    assert reply_kind("nlu_fallback", Decision(ANSWER, tuple(ranked(0.9)))) == ANSWER
    assert reply_kind("nlu_fallback", Decision(CHOOSE, tuple(ranked(0.5, 0.45)))) == CHOOSE

def test_payload_round_trip_and_bad_payloads():
    decision = Decision(CHOOSE, tuple(ranked(0.7, 0.65)))
    again = decision_from_payload(decision.as_payload(), KB)
    assert again is not None and [o.item.id for o in again.options] == [o.item.id for o in decision.options]
    assert decision_from_payload(None, KB) is None
    assert decision_from_payload({"decision": "answer", "options": [{"id": "gone"}]}, KB) is None
    assert decision_from_payload({"decision": "maybe"}, KB) is None


def test_character_only_retrieval_answers_plain_questions():
    lexical = Retriever(KB)  # what the action server uses when a parse carries no decision
    assert lexical.settings.dense_weight == 0
    assert lexical.decide("失业金怎么领").item.id == "unemployment_insurance_benefit"
    assert lexical.decide("").kind == NONE and lexical.rank("？？") == []


def test_configured_retrieval_on_held_out_paraphrases():
    report = evaluate(configured_retriever(), load_heldout())
    assert report.top1_accuracy >= 0.9, report.misses
    assert report.wrong_confident <= 3, report.misses


def test_sentence_vectors_help_where_no_character_is_shared():
    """e5 knows that being 炒 by the boss is losing one's job; character n-grams see nothing alike."""
    question = "老板把俺炒了接下来咋整"
    with_vectors = configured_retriever().rank(question)
    assert with_vectors[0].item.id in ("layoff_next_steps", "unemployment_insurance_benefit", "labour_dispute_arbitration")
    assert 0 < sum(r.score for r in with_vectors) <= 1.0 + 1e-6  # a distribution over items (and the off-topic class)


def test_tuned_settings_answer_held_back_variants_and_decline_off_topic_questions():
    questions = [(q, None) for q in KB.off_topic_calibration]
    settings, _ = tune(KB, None, questions)
    assert settings.dense_weight == 0  # no embedder: character n-grams only
    cal = calibration(Retriever(KB, settings=settings), questions)
    variants = cal.expect >= 0
    best = cal.scores.argmax(axis=1)
    top, second = np.sort(cal.scores, axis=1)[:, -1], np.sort(cal.scores, axis=1)[:, -2]
    answered = (top >= settings.threshold) & (top - second >= settings.min_margin)
    assert np.mean(answered[variants] & (best[variants] == cal.expect[variants])) >= 0.6
    assert np.mean(answered[~variants]) <= 0.15


def test_reply_texts():
    item = KB.item("unemployment_registration")
    text = answer_text(item, KB.hotline)
    assert text.startswith(f"【{item.title}】") and item.source in text and "确认" in text and "整理于" in text
    assert len(text.encode("utf-8")) <= 2048  # a WeChat passive reply
    choice = choice_text(tuple(ranked(0.6, 0.55)))
    assert "1. " in choice and "2. " in choice and "回复序号" in choice
    assert "12333" in nothing_close_text() and "转人工" in nothing_close_text()


def test_a_two_item_base_ranks_both(tmp_path):
    write(tmp_path, "a.yml", "items:" + ITEM.format(id="lost_job", title=甲, variants="丢了工作去哪登记, 失业了怎么登记")
          + ITEM.format(id="new_job", title=乙, variants="找到工作了要登记吗, 入职后就业登记"))
    ranked = Retriever(load_knowledge(tmp_path)).rank("失业登记在哪办")
    assert [r.item.id for r in ranked] == ["lost_job", "new_job"] and ranked[0].score > ranked[1].score


def test_the_off_topic_class_declines_near_domain_questions_and_keeps_answering_the_rest(tmp_path):
    write(tmp_path, "a.yml", "off_topic_calibration: [公积金怎么取, 医保卡丢了去哪补, 今天天气怎么样, 个税怎么算]\nitems:"
          + ITEM.format(id="lost_job", title=甲, variants="丢了工作去哪登记, 失业了怎么登记")
          + ITEM.format(id="new_job", title=乙, variants="找到工作了要登记吗, 入职后就业登记"))
    kb = load_knowledge(tmp_path)
    plain = Retriever(kb, settings=MatcherSettings(threshold=0.4, min_margin=0.0, choice_floor=0.1))
    with_class = Retriever(kb, settings=MatcherSettings(threshold=0.4, min_margin=0.0, choice_floor=0.1, off_topic_class=1.0))
    question = "公积金咋取出来"
    assert plain.decide(question).kind != NONE  # without the class, some item is nearest
    declined = with_class.decide(question)
    assert declined.kind == NONE and declined.options == ()  # nothing offered, even to a sure question
    assert reply_kind("ask_policy", declined) == NONE
    assert with_class.decide("失业了去哪登记").item.id == "lost_job"
    assert with_class.scores(["个税咋算"]).sum() == 0.0


def test_a_subsidy_answer_needs_a_question_about_money():
    settings = MatcherSettings(threshold=0.5, min_margin=0.1, choice_floor=0.2)
    subsidy = KB.item("flexible_employment_social_insurance_subsidy")
    paying = KB.item("social_insurance_after_leaving")
    ranking = [Ranked(subsidy, 0.7), Ranked(paying, 0.25), Ranked(KB.item("service_list"), 0.05)]
    sure = decide(ranking, settings)
    assert sure.kind == ANSWER
    assert asks_for_money_if_needed(sure, "灵活就业交社保有补贴吗", ranking, settings) is sure
    # no money word, and once the subsidy is set aside paying it oneself is clear (0.25 of the 0.3 left)
    asked_how = asks_for_money_if_needed(sure, "送快递的社保自己咋交", ranking, settings)
    assert asked_how.kind == ANSWER and asked_how.item is paying
    even = [Ranked(subsidy, 0.5), Ranked(paying, 0.22), Ranked(KB.item("service_list"), 0.22)]
    unsure = asks_for_money_if_needed(decide(even, settings), "送快递的社保自己咋交", even, settings)
    assert unsure.kind == CHOOSE and [r.item.id for r in unsure.options] == [subsidy.id, paying.id, "service_list"]
    offered = Decision(CHOOSE, (Ranked(subsidy, 0.45), Ranked(paying, 0.4)))
    split = [Ranked(subsidy, 0.45), Ranked(paying, 0.4), Ranked(KB.item("service_list"), 0.05)]
    assert asks_for_money_if_needed(offered, "灵活就业交社保档次咋选", split, settings).item is paying  # 0.4 of 0.55
    assert asks_for_money_if_needed(offered, "灵活就业社保补贴咋选档次", split, settings) is offered
    other = [Ranked(paying, 0.7), Ranked(subsidy, 0.1)]
    assert asks_for_money_if_needed(decide(other, settings), "社保断了咋续", other, settings).kind == ANSWER


def test_a_choice_becomes_the_answer_when_the_question_names_the_best_items_subject_alone():
    resume, interview, exams = KB.item("resume_writing"), KB.item("interview_preparation"), KB.item("public_sector_exams")
    assert "简历" in resume.key_terms and "面试" in interview.key_terms
    close = Decision(CHOOSE, (Ranked(resume, 0.3), Ranked(interview, 0.28)))
    named = answers_the_named_subject(close, "俺那个简历是一页好还是两页好", KB.synonyms)
    assert named.kind == ANSWER and named.item is resume
    both = "面试要带几份简历"
    assert answers_the_named_subject(close, both, KB.synonyms) is close  # two subjects named: still a choice
    assert answers_the_named_subject(close, "hr老问我有啥缺点", KB.synonyms) is close  # none named
    lower = Decision(CHOOSE, (Ranked(exams, 0.3), Ranked(interview, 0.28)))
    assert answers_the_named_subject(lower, "面试咋准备", KB.synonyms) is lower  # only a lower item named
    alone = Decision(CHOOSE, (Ranked(interview, 0.2),))
    assert answers_the_named_subject(alone, "群面老被刷", KB.synonyms).kind == ANSWER
    sure = Decision(ANSWER, (Ranked(resume, 0.8),))
    assert answers_the_named_subject(sure, "面试咋准备", KB.synonyms) is sure  # only choices are reconsidered


def test_key_terms_are_read_like_the_question():
    benefit = KB.item("unemployment_insurance_benefit")
    choice = Decision(CHOOSE, (Ranked(benefit, 0.2), Ranked(KB.item("unemployment_registration"), 0.18)))
    assert answers_the_named_subject(choice, "失叶金能领几个月", KB.synonyms).kind == ANSWER  # a synonym of 失业金


def test_a_group_overview_yields_to_the_one_other_subject_the_message_names():
    veterans, startup = KB.item("veterans_employment"), KB.item("startup_subsidy")
    loan, exams = KB.item("startup_guaranteed_loan"), KB.item("public_sector_exams")
    ranking = [Ranked(veterans, 0.8), Ranked(startup, 0.1), Ranked(loan, 0.05), Ranked(exams, 0.01)]
    sure = decide(ranking, MatcherSettings(threshold=0.5, min_margin=0.1, choice_floor=0.2))
    named = the_named_subject_over_the_group(sure, "退役军人开修车铺 一次性创业补贴去哪申请", ranking, KB.synonyms)
    assert named.kind == ANSWER and named.item is startup
    assert the_named_subject_over_the_group(sure, "退伍回来想学门技术", ranking, KB.synonyms) is sure  # none named
    both = "退伍的 一次性创业补贴跟创业担保贷款能一块申请不"
    assert the_named_subject_over_the_group(sure, both, ranking, KB.synonyms) is sure  # two named: who asks decides
    assert the_named_subject_over_the_group(sure, "退伍兵能考公务员不", ranking, KB.synonyms) is sure  # too far off
    topic_first = Decision(ANSWER, (Ranked(startup, 0.8),))
    assert the_named_subject_over_the_group(topic_first, "退役军人一次性创业补贴", ranking, KB.synonyms) is topic_first
