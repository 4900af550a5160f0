"""Questions like "我35了还能报吗": the 实训营 rules applied to whatever the user has said so far, as an answer.

`check_eligibility` decides one complete application; here the facts may be partial (an age and
nothing else), so every way into every open cohort — a (cohort, target group) pair — is decided as
far as the facts allow: in, out (with the reason) or open (with the fact that would decide it).
The answer says yes, no or "要看…" first, then per target group which cohorts take the user and
which do not and why, worded from the same config (`group_condition`) as the camp text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.services.eligibility import EligibilityRules, Group, group_checks, group_condition
from bot.services.eligibility_facts import Facts
from bot.services.reply_size import PASSIVE_REPLY_MAX_BYTES, byte_len, fit_lines

YES, NO, OPEN = "yes", "no", "open"
NEED_WORDS = {"identity": "身份", "graduation_year": "毕业年份", "age": "年龄"}
MORE = "\n……详细期次请说“实训营”"
# What config/eligibility.yml does not decide, said as such rather than guessed: where the user is
# from (the rules set no residence condition) and identities with support of their own.
RESIDENCE = re.compile(r"不是山东|外省|省外|外地|户口|户籍|老家")
SPECIAL_IDENTITY = re.compile(r"退役军人|退伍|残疾|灵活就业")
RESIDENCE_NOTE = "实训营的报名条件只看身份、年龄和毕业年份，没有列户籍要求；外地户籍的具体安排以当地人社部门答复为准，可拨打12333咨询。"
SPECIAL_NOTE = "退役军人、残疾人、灵活就业人员另有专项就业扶持政策，具体请咨询当地人社部门或拨打12333。"


@dataclass(frozen=True)
class Way:
    """One way into a cohort: through one target group, with that cohort's limits."""

    cohort: Any
    group: Group
    status: str  # YES | NO | OPEN
    reason: str = ""  # why not (NO)
    needs: Tuple[str, ...] = ()  # facts that would decide it (OPEN)


@dataclass(frozen=True)
class Assessment:
    ways: Tuple[Way, ...]
    cohorts: Tuple[Any, ...]

    @property
    def verdict(self) -> str:
        statuses = {w.status for w in self.ways}
        return YES if YES in statuses else OPEN if OPEN in statuses else NO

    def needs(self) -> List[str]:
        found: List[str] = []
        for way in self.ways:
            found += [n for n in way.needs if way.status == OPEN and n not in found]
        return found

    def accepting(self) -> List[Any]:
        ids = {w.cohort.id for w in self.ways if w.status == YES}
        return [c for c in self.cohorts if c.id in ids]


def _way(cohort: Any, group: Group, profile: Dict[str, str], today: date) -> Way:
    identity = profile.get("identity")
    if identity and identity not in group.identities:
        return Way(cohort, group, NO, f"“{identity}”不在{group.label}之列")
    checks = group_checks(group, profile, today)
    failed = next((c for c in checks if c.ok is False), None)
    if failed is not None:
        return Way(cohort, group, NO, failed.reason)
    needs = tuple(([] if identity else ["identity"]) + [c.need for c in checks if c.ok is None])
    return Way(cohort, group, OPEN if needs else YES, "", needs)


def assess(facts: Facts, cohorts: Sequence[Any], today: date, rules: EligibilityRules) -> Assessment:
    """Every way into every cohort in `cohorts` (the open ones, as the caller chose them)."""
    profile = facts.as_profile()
    ways = [_way(c, g, profile, today) for c in cohorts for g in rules.groups_for(c.id)]
    return Assessment(tuple(ways), tuple(cohorts))


def _titles(cohorts: Sequence[Any], everyone: Sequence[Any]) -> str:
    if len(everyone) > 1 and len(cohorts) == len(everyone):
        return "各期"
    return "、".join(c.title for c in cohorts)


def _condition(group: Group, facts: Facts, today: date) -> str:
    condition = group_condition(group, today)
    if facts.age is not None and group.min_age is None and group.max_age is None:
        condition = "，".join(p for p in ("不限年龄", condition) if p)  # the age asked about does not matter here
    return condition


def _group_line(group: Group, assessment: Assessment, facts: Facts, today: date) -> Optional[str]:
    """One target group's line, e.g. "· 失业青年：线上第4期可报（16–35周岁）；济南第12期不行：需在24周岁及以下（您35岁）"."""
    ways = [w for w in assessment.ways if w.group.key == group.key]
    if not ways:
        return None
    takers: Dict[str, List[Any]] = {}
    refusals: Dict[str, List[Any]] = {}
    for way in ways:
        if way.status == NO:
            refusals.setdefault(way.reason.removeprefix(group.label), []).append(way.cohort)
        else:
            takers.setdefault(_condition(way.group, facts, today), []).append(way.cohort)
    everyone = assessment.cohorts
    parts = [f"{_titles(cs, everyone)}可报" + (f"（{cond}）" if cond else "") for cond, cs in takers.items()]
    parts += [f"{_titles(cs, everyone)}不行：{why}" for why, cs in refusals.items()]
    missing = [c for c in everyone if all(w.cohort.id != c.id for w in ways)]
    if missing:
        parts.append(f"{_titles(missing, everyone)}不招")
    return f"· {group.label}：" + "；".join(parts)


def _shown_groups(assessment: Assessment, facts: Facts, rules: EligibilityRules) -> List[Group]:
    """Target groups worth a line: those that take the user when the answer is yes, else every
    group the user could belong to (all of them while the identity is unknown)."""
    verdict = assessment.verdict
    shown = []
    for key, group in rules.groups.items():
        ways = [w for w in assessment.ways if w.group.key == key]
        if verdict == YES and not any(w.status == YES for w in ways):
            continue
        if facts.identity and facts.identity not in group.identities:
            continue
        shown.append(group)
    return shown


def _joined(words: Sequence[str]) -> str:
    return "和".join(words) if len(words) < 3 else "、".join(words[:-1]) + "和" + words[-1]


def _headline(assessment: Assessment, facts: Facts, today: date) -> str:
    said = facts.summary(today)
    lead = f"按您的情况（{said}）：" if said else ""
    verdict = assessment.verdict
    if verdict == YES:
        text = f"{lead}可以报名"
        if facts.identity_inferred and facts.identity:
            text += f"（按{facts.identity}算）"
        return text + ("，前提是您目前未就业。" if _needs_no_job(assessment, facts) else "。")
    if verdict == OPEN:
        needs = assessment.needs()
        # the identity decides which other facts matter: ask for it alone first
        wanted = NEED_WORDS["identity"] if "identity" in needs else _joined([NEED_WORDS.get(n, n) for n in needs])
        return f"{lead}能报，但要看您的{wanted}：" if said else f"能不能报，要看您的{wanted}。各期条件："
    return f"{lead}很抱歉，暂不能报名。"


def _needs_no_job(assessment: Assessment, facts: Facts) -> bool:
    takers = [w.group for w in assessment.ways if w.status == YES]
    return facts.employed is None and bool(takers) and all(g.must_be_unemployed for g in takers)


def settled_assessment(facts: Facts, cohorts: Sequence[Any], today: date, rules: EligibilityRules) -> Tuple[Facts, Assessment]:
    """The assessment an answer gives, with the facts it went by."""
    assessment = assess(facts, cohorts, today, rules)
    if assessment.verdict == NO and facts.identity_inferred:
        # a presumed identity must not shut other doors: "2021年毕业" may still be a 失业青年
        facts = replace(facts, identity=None, identity_inferred=False)
        assessment = assess(facts, cohorts, today, rules)
    return facts, assessment


def ruled_out(facts: Facts, cohorts: Sequence[Any], today: date, rules: EligibilityRules) -> bool:
    """The facts said already close every open cohort (or none is open): the answer is a plain no."""
    return not cohorts or settled_assessment(facts, cohorts, today, rules)[1].verdict == NO


# "能的话给俺报上": the answer is followed by the enrolment itself, not by how to start it
THEN_ENROL = "下面直接为您报名。"
# a yes reached by answering the question the last answer asked: the user is asked whether to enrol now
# (a yes to it, or "报名", starts the form: actions/flow_start.py `enrol_after_camp_answer`)
ENROL_NOW = "现在就为您报名吗？回复“是”开始报名（回复“报名”也可以）。"


def eligibility_answer(
    facts: Facts, cohorts: Sequence[Any], today: date, rules: EligibilityRules, text: str = "", enrolling: bool = False,
    offer: bool = False,
) -> str:
    """The reply to an eligibility question (`text`), ≤ 2,048 bytes: verdict, per-group reasons,
    what the rules do not decide, next step (the enrolment, when it follows: `enrolling`; asked
    whether to enrol now on a yes: `offer`)."""
    notes = [note for pattern, note in ((RESIDENCE, RESIDENCE_NOTE), (SPECIAL_IDENTITY, SPECIAL_NOTE))
             if pattern.search(text or "")]
    if not cohorts:
        return "\n".join(["目前没有正在报名的实训营期次，开班后我们会通知您。", *notes, "您可以考虑：\n" + _alternatives(rules)])
    facts, assessment = settled_assessment(facts, cohorts, today, rules)
    lines = [_headline(assessment, facts, today)]
    groups = _shown_groups(assessment, facts, rules)
    lines += [line for group in groups if (line := _group_line(group, assessment, facts, today))]
    lines += _graduated_too_long_ago(facts, cohorts, today, rules)
    lines += notes
    verdict = assessment.verdict
    if verdict == NO and facts.identity and len(lines) == 1:
        lines.append(f"实训营招收{rules.target_labels()}，“{facts.identity}”不在招收范围。")
    closing = ""  # the next step, kept whole when the reasons above are cut to fit
    if verdict != NO and enrolling:
        closing = THEN_ENROL
    elif verdict == YES and offer:
        closing = ENROL_NOW
    elif verdict == YES:
        closing = "回复“报名”即可报名实训营。"
    elif verdict == OPEN:
        accepted = [i for i in rules.identities if any(i in g.identities for g in groups)]
        if facts.stated():  # the answer may still be no: what else there is, as for a no
            lines.append("如果不符合条件，也可以考虑：\n" + _alternatives(rules))
        closing = one_question(assessment.needs()[0], accepted) + "也可以直接回复“报名”。"  # last: what to answer
    else:
        lines.append("您可以考虑：\n" + _alternatives(rules))
    if not closing:
        return fit_lines("\n".join(lines), MORE)
    return fit_lines("\n".join(lines), MORE, PASSIVE_REPLY_MAX_BYTES - byte_len("\n" + closing)) + "\n" + closing


# The one question an open answer ends with: the first fact that decides it, asked as the enrolment
# form asks it, so that the user sees a question to answer (the reply is read by actions/camp_eligibility.py).
IDENTITY_QUESTION = "请选择您的身份（回复序号或直接说）："
YEAR_QUESTION = "请问您哪一年毕业（在校生说预计毕业年份）？"
AGE_QUESTION = "请问您今年多少周岁？"


def asked_one_question(reply: str) -> bool:
    """`reply` (an answer of this module) ended with one of the questions above."""
    return any(q in (reply or "") for q in (IDENTITY_QUESTION, YEAR_QUESTION, AGE_QUESTION))


def one_question(need: str, identities: Sequence[str]) -> str:
    """The question for `need` (identity: the `identities` that can be taken, numbered)."""
    if need == "identity" and identities:
        return IDENTITY_QUESTION + "\n" + "\n".join(f"{i}. {name}" for i, name in enumerate(identities, 1)) + "\n"
    if need in ("graduation_year", "age"):
        return YEAR_QUESTION if need == "graduation_year" else AGE_QUESTION
    return f"告诉我您的{NEED_WORDS.get(need, need)}，我帮您确认；"


def _graduated_too_long_ago(facts: Facts, cohorts: Sequence[Any], today: date, rules: EligibilityRules) -> List[str]:
    """"毕业五六年了": why the graduates' group is closed to someone it does not list (a graduate that
    long ago counts as a 失业青年, eligibility_facts.py), one line per such group."""
    if facts.graduation_year is None:
        return []
    lines = []
    for key, group in rules.groups.items():
        if group.max_years_since_graduation is None or (facts.identity in group.identities):
            continue
        ways = [
            (c, cohort_group)
            for c in cohorts
            for cohort_group in rules.groups_for(c.id)
            if cohort_group.key == key
        ]
        profile = {"graduation_year": str(facts.graduation_year)}
        failed = [(c, next((ch for ch in group_checks(g, profile, today) if ch.ok is False), None)) for c, g in ways]
        if not ways or not all(check for _, check in failed):
            continue
        refusals: Dict[str, List[Any]] = {}
        for cohort, check in failed:
            refusals.setdefault(check.reason.removeprefix(group.label), []).append(cohort)
        lines.append(f"· {group.label}：" + "；".join(f"{_titles(cs, cohorts)}不行：{why}" for why, cs in refusals.items()))
    return lines


def _alternatives(rules: EligibilityRules) -> str:
    return "\n".join(f"· {a}" for a in rules.alternatives)
