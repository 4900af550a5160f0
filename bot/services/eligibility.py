"""Who may join the 青年求职能力实训营: rules from config/eligibility.yml, applied to a profile.

The rules are configuration (target groups, age bounds, graduation-year windows, per-cohort
limits, the alternatives offered on refusal); this module only interprets them, so operators
change policy without touching code. `check_eligibility` never raises on a sparse profile: a
missing fact becomes a reason ("需要提供毕业年份") so the caller can ask for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from bot.settings import PROJECT_ROOT

RULES_PATH = PROJECT_ROOT / "config" / "eligibility.yml"

_TRUE = {"1", "true", "yes", "是", "已就业", "在职"}
_FALSE = {"0", "false", "no", "否", "未就业", "失业"}


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    identities: Tuple[str, ...]
    final_year_only: bool = False
    academic_year_start_month: int = 9
    graduation_month: int = 7
    max_years_since_graduation: Optional[int] = None
    must_be_unemployed: bool = False
    min_age: Optional[int] = None
    max_age: Optional[int] = None
    # accepted 学历 when the applicant has said theirs (empty: any); never asked for
    education_levels: Tuple[str, ...] = ()


@dataclass(frozen=True)
class EligibilityRules:
    identities: Tuple[str, ...]
    groups: Dict[str, Group]
    cohort_limits: Dict[str, Dict[str, Any]]
    alternatives: Tuple[str, ...]

    def groups_for(self, cohort_id: str) -> List[Group]:
        """The groups a cohort takes, with that cohort's limits applied over the defaults."""
        limits = self.cohort_limits.get(cohort_id, {})
        keys = limits.get("groups") or list(self.groups)
        result = []
        for key in keys:
            group = self.groups[key]
            overrides = {
                name: limits[name]
                for name in ("min_age", "max_age", "max_years_since_graduation")
                if name in limits and _applies(group, name)
            }
            result.append(_replace(group, **overrides) if overrides else group)
        return result

    def describe(self, cohort_id: Optional[str] = None, today: Optional[date] = None) -> str:
        """One line a user reads: who may join (optionally for one cohort, with its own limits).

        Without a cohort the group defaults are described, which some cohorts override: text
        shown about cohorts should describe each cohort (see `audiences`)."""
        groups = self.groups_for(cohort_id) if cohort_id else self.groups.values()
        return "；".join(describe_group(group, today) for group in groups)

    def target_labels(self) -> str:
        """The target groups by name only, true of every cohort ("A、B、C")."""
        return "、".join(group.label for group in self.groups.values())

    def audiences(self, cohort_ids: Iterable[str], today: Optional[date] = None) -> List[Tuple[str, List[str]]]:
        """(who may join, cohort ids) for the given cohorts, cohorts with the same audience
        together, in the order first seen: the "招收对象" lines of the camp text."""
        grouped: Dict[str, List[str]] = {}
        for cohort_id in cohort_ids:
            grouped.setdefault(self.describe(cohort_id, today), []).append(cohort_id)
        return list(grouped.items())


def _applies(group: Group, attribute: str) -> bool:
    if attribute in ("min_age", "max_age"):
        return group.min_age is not None or group.max_age is not None
    return group.max_years_since_graduation is not None


def _replace(group: Group, **changes: Any) -> Group:
    values = {name: getattr(group, name) for name in group.__dataclass_fields__}
    values.update(changes)
    return Group(**values)


def group_condition(group: Group, today: Optional[date] = None) -> str:
    """The group's limit in a few words ("2027年毕业", "毕业2年内", "16–24周岁"); "" for none."""
    if group.final_year_only:
        return f"{graduation_season(today, group)}年毕业" if today else "当年毕业"
    if group.max_years_since_graduation is not None:
        return f"毕业{group.max_years_since_graduation}年内"
    if group.min_age is not None and group.max_age is not None:
        return f"{group.min_age}–{group.max_age}周岁"
    if group.max_age is not None:
        return f"{group.max_age}周岁及以下"
    if group.min_age is not None:
        return f"年满{group.min_age}周岁"
    return ""


def describe_group(group: Group, today: Optional[date] = None) -> str:
    condition = group_condition(group, today)
    return f"{group.label}（{condition}）" if condition else group.label


def parse_rules(raw: Mapping[str, Any]) -> EligibilityRules:
    groups = {}
    for key, spec in (raw.get("groups") or {}).items():
        groups[key] = Group(
            key=key,
            label=str(spec.get("label", key)),
            identities=tuple(spec.get("identities") or ()),
            final_year_only=bool(spec.get("final_year_only", False)),
            academic_year_start_month=int(spec.get("academic_year_start_month", 9)),
            graduation_month=int(spec.get("graduation_month", 7)),
            max_years_since_graduation=spec.get("max_years_since_graduation"),
            must_be_unemployed=bool(spec.get("must_be_unemployed", False)),
            min_age=spec.get("min_age"),
            max_age=spec.get("max_age"),
            education_levels=tuple(str(e) for e in spec.get("education_levels") or ()),
        )
    limits = {str(k): dict(v or {}) for k, v in (raw.get("cohorts") or {}).items()}
    for cohort_id, spec in limits.items():
        for key in spec.get("groups") or []:
            if key not in groups:
                raise ValueError(f"eligibility: cohort {cohort_id} names unknown group {key!r}")
    return EligibilityRules(
        identities=tuple(raw.get("identities") or ()),
        groups=groups,
        cohort_limits=limits,
        alternatives=tuple(raw.get("alternatives") or ()),
    )


@lru_cache(maxsize=4)
def load_rules(path: Optional[Path] = None) -> EligibilityRules:
    with open(path or RULES_PATH, encoding="utf-8") as fh:
        return parse_rules(yaml.safe_load(fh) or {})


@dataclass(frozen=True)
class Decision:
    eligible: bool
    reasons: Tuple[str, ...] = ()
    alternatives: Tuple[str, ...] = ()
    group: Optional[str] = None  # the group key that accepted the applicant

    def message(self) -> str:
        """The refusal (or acceptance) as the user reads it."""
        if self.eligible:
            return "您符合本期实训营的报名条件。"
        text = "很抱歉，您暂不符合本期实训营的报名条件：" + "；".join(self.reasons) + "。"
        if self.alternatives:
            text += "\n您可以考虑：\n" + "\n".join(f"· {a}" for a in self.alternatives)
        return text


def _int(value: Any) -> Optional[int]:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def graduation_season(today: date, group: Group) -> int:
    """The calendar year of the graduation that final-year students are heading for."""
    return today.year + 1 if today.month >= group.academic_year_start_month else today.year


@dataclass(frozen=True)
class Check:
    """One condition of a group against what is known: passed (True), failed (False) or
    undecided (None: the fact `need` is not known yet)."""

    ok: Optional[bool]
    reason: str = ""  # why it failed, or what is needed
    need: str = ""  # the profile field that would decide it


def group_checks(group: Group, profile: Mapping[str, Any], today: date) -> List[Check]:
    """The group's conditions (identity aside) in order, each decided as far as `profile` allows."""
    checks: List[Check] = []
    grad_year = _int(profile.get("graduation_year"))
    if group.final_year_only:
        checks.append(_final_year_check(group, grad_year, today))
    if group.max_years_since_graduation is not None:
        checks.extend(_graduate_checks(group, grad_year, profile, today))
    if group.min_age is not None or group.max_age is not None:
        checks.append(_age_check(group, _int(profile.get("age"))))
    education = str(profile.get("education") or "").strip()
    if group.education_levels and education:
        ok = education in group.education_levels
        checks.append(Check(ok, "" if ok else f"{group.label}需为{'/'.join(group.education_levels)}学历（您是{education}）"))
    return checks


def _final_year_check(group: Group, grad_year: Optional[int], today: date) -> Check:
    if grad_year is None:
        return Check(None, "需要提供预计毕业年份", "graduation_year")
    season = graduation_season(today, group)
    if grad_year != season:
        return Check(False, f"在校生需为{season}年毕业的毕业年级学生（您预计{grad_year}年毕业）")
    return Check(True)


def _graduate_checks(group: Group, grad_year: Optional[int], profile: Mapping[str, Any], today: date) -> List[Check]:
    if grad_year is None:
        return [Check(None, "需要提供毕业年份", "graduation_year")]
    left = grad_year < today.year or (grad_year == today.year and today.month >= group.graduation_month)
    if not left:
        return [Check(False, f"{grad_year}年尚未离校，请按在校生报名")]
    limit = group.max_years_since_graduation or 0
    if today.year - grad_year > limit:
        return [Check(False, f"{group.label}需在毕业{limit}年内（{today.year - limit}年及以后毕业），您于{grad_year}年毕业")]
    if group.must_be_unemployed and employment(profile) is True:
        return [Check(False, "本营面向未就业毕业生，您已就业")]
    return [Check(True)]


def _age_check(group: Group, age: Optional[int]) -> Check:
    if age is None:
        return Check(None, "需要提供年龄", "age")
    if group.min_age is not None and age < group.min_age:
        return Check(False, f"{group.label}需年满{group.min_age}周岁（您{age}岁）")
    if group.max_age is not None and age > group.max_age:
        return Check(False, f"{group.label}需在{group.max_age}周岁及以下（您{age}岁）")
    return Check(True)


def employment(profile: Mapping[str, Any]) -> Optional[bool]:
    """Whether the profile says the applicant has a job: True, False, or None when unsaid."""
    value = str(profile.get("employed", "")).strip().lower()
    if value in _TRUE:
        return True
    return False if value in _FALSE else None


def _check_group(group: Group, profile: Mapping[str, Any], today: date) -> Optional[str]:
    """None when the group accepts the profile, else the first reason it does not (a missing
    fact counts as a reason: the enrolment form asks for it)."""
    return next((c.reason for c in group_checks(group, profile, today) if c.ok is not True), None)


def check_eligibility(
    profile: Mapping[str, Any],
    cohort: Any,
    today: date,
    *,
    rules: Optional[EligibilityRules] = None,
    other_cohorts: Iterable[Any] = (),
) -> Decision:
    """Whether `profile` may enrol in `cohort` on `today`; a refusal says why and what else fits.

    `cohort` needs `.id` and `.enroll_deadline` (a date); `other_cohorts`, when given, are
    checked too and the ones that would accept the applicant are offered as alternatives.
    """
    rules = rules or load_rules()
    reasons: List[str] = []
    deadline = getattr(cohort, "enroll_deadline", None)
    if deadline is not None and today > deadline:
        reasons.append(f"本期报名已于{deadline.month}月{deadline.day}日截止")
    identity = str(profile.get("identity") or "").strip()
    groups = rules.groups_for(cohort.id)
    accepted: Optional[str] = None
    if not identity:
        reasons.append("需要提供您的身份（在校生/毕业生/失业青年等）")
    else:
        matching = [g for g in groups if identity in g.identities]
        if not matching:
            reasons.append(f"本期招收{rules.describe(cohort.id, today)}，“{identity}”不在招收范围")
        group_reasons = []
        for group in matching:
            why = _check_group(group, profile, today)
            if why is None:
                accepted = group.key
                break
            group_reasons.append(why)
        if accepted is None:
            reasons.extend(group_reasons)
    if accepted is not None and not reasons:
        return Decision(True, (), (), accepted)
    alternatives: List[str] = []
    for other in other_cohorts:
        if other.id == cohort.id:
            continue
        if check_eligibility(profile, other, today, rules=rules).eligible:
            alternatives.append(f"{getattr(other, 'label', other.id)}（可报名）")
    alternatives.extend(rules.alternatives)
    return Decision(False, tuple(reasons), tuple(alternatives), None)


def identity_choices(rules: Optional[EligibilityRules] = None) -> Sequence[str]:
    return (rules or load_rules()).identities
