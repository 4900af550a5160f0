"""Who may join the 青年求职能力实训营: rules from config/eligibility.yml, applied to a profile.

The rules are configuration (target groups, age bounds, graduation-year windows, per-cohort
limits, the alternatives offered on refusal); this module only interprets them, so operators
change policy without touching code. `check_eligibility` never raises on a sparse profile: a
missing fact becomes a reason ("需要提供毕业年份") so the caller can ask for it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from bot.settings import PROJECT_ROOT

RULES_PATH = PROJECT_ROOT / "config" / "eligibility.yml"

_TRUE = {"1", "true", "yes", "是", "已就业", "在职"}


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

    def describe(self, cohort_id: Optional[str] = None) -> str:
        """One line a user reads: who may join (optionally for one cohort)."""
        parts = []
        for group in self.groups_for(cohort_id) if cohort_id else self.groups.values():
            parts.append(_describe_group(group))
        return "；".join(parts)


def _applies(group: Group, attribute: str) -> bool:
    if attribute in ("min_age", "max_age"):
        return group.min_age is not None or group.max_age is not None
    return group.max_years_since_graduation is not None


def _replace(group: Group, **changes: Any) -> Group:
    values = {name: getattr(group, name) for name in group.__dataclass_fields__}
    values.update(changes)
    return Group(**values)


def _describe_group(group: Group) -> str:
    if group.final_year_only:
        return f"{group.label}（当年毕业）"
    if group.max_years_since_graduation is not None:
        return f"{group.label}（毕业{group.max_years_since_graduation}年内）"
    if group.min_age is not None or group.max_age is not None:
        return f"{group.label}（{group.min_age or 16}–{group.max_age}周岁）"
    return group.label


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


def _check_group(group: Group, profile: Mapping[str, Any], today: date) -> Optional[str]:
    """None when the group accepts the profile, else the reason it does not."""
    grad_year = _int(profile.get("graduation_year"))
    age = _int(profile.get("age"))
    if group.final_year_only:
        if grad_year is None:
            return "需要提供预计毕业年份"
        season = graduation_season(today, group)
        if grad_year != season:
            return f"在校生需为{season}年毕业的毕业年级学生（您预计{grad_year}年毕业）"
    if group.max_years_since_graduation is not None:
        if grad_year is None:
            return "需要提供毕业年份"
        left = grad_year < today.year or (
            grad_year == today.year and today.month >= group.graduation_month
        )
        if not left:
            return f"{grad_year}年尚未离校，请按在校生报名"
        years = today.year - grad_year
        if years > group.max_years_since_graduation:
            return (
                f"离校未就业毕业生需在毕业{group.max_years_since_graduation}年内"
                f"（{today.year - group.max_years_since_graduation}年及以后毕业），您于{grad_year}年毕业"
            )
        if group.must_be_unemployed and str(profile.get("employed", "")).strip().lower() in _TRUE:
            return "本营面向未就业毕业生，您已就业"
    if group.min_age is not None or group.max_age is not None:
        if age is None:
            return "需要提供年龄"
        if group.min_age is not None and age < group.min_age:
            return f"失业青年需年满{group.min_age}周岁（您{age}岁）"
        if group.max_age is not None and age > group.max_age:
            return f"失业青年需在{group.max_age}周岁及以下（您{age}岁）"
    return None


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
            reasons.append(f"本期招收{rules.describe(cohort.id)}，“{identity}”不在招收范围")
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
