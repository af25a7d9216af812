"""Run a domain's criteria over one validated profile: statuses, reasons, verdict, missing facts, benefits."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from evaluators.checks import FAIL, NOT_APPLICABLE, PASS, UNKNOWN, Threshold, Words, plain_number
from evaluators.chinese_keys import english_keys
from evaluators.parameters import Resolved
from evaluators.profile import DOMAINS, InvalidProfile, validate_profile
from evaluators.rulebook import REVIEW, BenefitRule, Criterion, DomainRules, NextStep, Rulebook, load_rulebook
from zhibu.errors import BadInput

QUALIFIES, DOES_NOT_QUALIFY, INCOMPLETE = "qualifies", "does_not_qualify", "incomplete"
# Where the branch stands (工作指南 五(三): 自评达到评定条件后申报, then the upper level's 四评):
# its own conditions not yet all met; met, 四评 still to come (may 申报); everything met, 四评 included.
SELF_CHECK, AWAITING_REVIEW, MAY_APPLY = "self_check", "awaiting_review", "may_apply"
BASIC_FACTS = "basic."  # the facts of rules/basic.yaml (五个基本, 五强 总体标准)


class CriterionResult:
    """One criterion's outcome. Everything but the status is read from the rule on demand, and the
    Chinese reason is only written when first read: a batch of thousands of rows needs statuses only."""

    __slots__ = ("rule", "status", "missing", "parameter", "_values", "_reason")

    def __init__(self, rule: Criterion, status: str, missing: tuple[str, ...], values: dict[str, Any],
                 parameter: Resolved | None = None):
        self.rule = rule
        self.status = status
        self.missing = missing  # for an unknown criterion: the absent facts that made it so
        self.parameter = parameter  # the dated figure it is judged against, and where that figure comes from
        self._values = values
        self._reason: str | None = None

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def requirement(self) -> str:
        return self.rule.requirement

    @property
    def remedy(self) -> str:
        """The rule's fix, filled with the same figures as the reason (a failed 六有 names what is absent)."""
        if self.status != FAIL or "{" not in self.rule.remedy:
            return self.rule.remedy
        return self.rule.remedy.format_map(_variables(self.rule, self._values))

    @property
    def stage(self) -> str:
        """self (the branch states it) or review (the 四评 the upper level carries out at year end)."""
        return self.rule.stage

    @property
    def awaiting_review(self) -> bool:
        return self.status == UNKNOWN and self.stage == REVIEW

    @property
    def conditions(self) -> tuple[str, ...]:
        """Facts that decide whether it applies (branch_kind, social_review_exempt)."""
        return self.rule.conditions

    @property
    def facts(self) -> tuple[str, ...]:
        """The facts this criterion judges."""
        return self.rule.check.judged

    @property
    def compared_with(self) -> tuple[str, ...]:
        """Facts it only measures them against (payroll, school average…)."""
        return self.rule.check.compared

    @property
    def citation(self) -> dict[str, str]:
        return self.rule.citation.as_dict

    @property
    def to_confirm(self) -> bool:
        """Judged against another year's figure: the verdict holds once the year's own figure is confirmed."""
        return self.parameter is not None and self.parameter.to_confirm and self.status in (PASS, FAIL)

    @property
    def reason(self) -> str:
        if self._reason is None:
            self._reason = _reason(self.rule, self.status, self.missing, self._values)
        return self._reason

    def __repr__(self) -> str:
        return f"CriterionResult({self.id!r}, {self.status!r}, missing={self.missing!r})"

    def to_dict(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "status": self.status,
            "stage": self.stage,
            "facts": list(self.facts),
            "compared_with": list(self.compared_with),
            "conditions": list(self.conditions),
            "reason": self.reason,
            "requirement": self.requirement,
            "remedy": self.remedy,
            "citation": dict(self.citation),
            "missing": list(self.missing),
        }
        if self.parameter:  # the dated figure used, its year, basis and clause
            data["parameter"] = self.parameter.to_dict()
        return data


class Benefit(NamedTuple):
    id: str
    title: str
    text: str
    citation: dict[str, str]
    also_cited: tuple[dict[str, str], ...] = ()
    amount_yuan: dict[str, float] | None = None  # {"low", "high"}: an estimate, when the base amount is known
    amount_text: str | None = None
    short: str = ""  # one line, the clause's figures first

    def to_dict(self) -> dict[str, Any]:
        data = {"id": self.id, "title": self.title, "text": self.text, "short": self.short,
                "citation": dict(self.citation),
                "also_cited": [dict(citation) for citation in self.also_cited]}
        if self.amount_yuan:
            data["amount_yuan"] = self.amount_yuan
            data["amount_text"] = self.amount_text
        return data


@dataclass(frozen=True)
class Evaluation:
    name: str | None
    domain: str
    year: int
    verdict: str
    verdict_label: str  # with the count of items to confirm, e.g. 符合评定条件（1项待确认）
    stage: str  # self_check / awaiting_review (may 申报, 四评 to come) / may_apply
    criteria: tuple[CriterionResult, ...]
    missing: tuple[str, ...]
    basic_not_assessed: tuple[CriterionResult, ...]  # basic standards set aside: the profile states none
    _rules: DomainRules = field(repr=False, compare=False)
    _values: dict[str, Any] = field(repr=False, compare=False)
    _next_step: NextStep = field(repr=False, compare=False)

    # Benefits and the next step are built when read: a batch needs neither.
    @cached_property
    def benefits(self) -> tuple[Benefit, ...]:
        """What the policy attaches to a qualifying branch (the contract: only then); empty otherwise."""
        if self.verdict != QUALIFIES:
            return ()
        return tuple(_benefit(rule, self._values, self._rules.words) for rule in self._rules.benefits)

    @cached_property
    def next_step(self) -> dict[str, Any]:
        return self._next_step.to_dict()

    @property
    def may_apply(self) -> bool:
        """The branch meets its own conditions and no 四评 result fails: it may 申报 to the upper level."""
        return self.stage in (AWAITING_REVIEW, MAY_APPLY)

    @property
    def awaiting_review(self) -> list[CriterionResult]:
        """The 四评 criteria whose results are not known yet (the upper level carries them out at year end)."""
        return [result for result in self.criteria if result.awaiting_review]

    @property
    def to_fill(self) -> list[CriterionResult]:
        """Unknown criteria the branch itself can find out (the 四评 excluded)."""
        return [result for result in self.by_status(UNKNOWN) if not result.awaiting_review]

    def label(self, key: str) -> str:
        """The Chinese name of a profile key."""
        return self._rules.words.label(key)

    def show(self, key: str, value: Any) -> str:
        """A profile value in words (是/否, 8万元 → 80,000元, 30%, 场所、设施)."""
        return self._rules.words.show(key, value)

    @property
    def values(self) -> dict[str, Any]:
        """The validated profile the evaluation read, dotted keys (read-only by convention)."""
        return self._values

    def by_status(self, status: str) -> list[CriterionResult]:
        return [result for result in self.criteria if result.status == status]

    @property
    def to_confirm(self) -> list[CriterionResult]:
        """Criteria judged against another year's figure (the year has none in the texts)."""
        return [result for result in self.criteria if result.to_confirm]

    def to_confirm_texts(self) -> list[str]:
        templates = self._rules.words.messages["to_confirm"]
        return [templates[result.parameter.basis].format(**result.parameter._asdict()) for result in self.to_confirm]

    @property
    def failing_facts(self) -> list[str]:
        return list(dict.fromkeys(key for result in self.by_status(FAIL) for key in result.facts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "domain": self.domain,
            "domain_label": DOMAINS[self.domain],
            "year": self.year,
            "verdict": self.verdict,
            "verdict_label": self.verdict_label,
            "stage": self.stage,
            "may_apply": self.may_apply,
            "awaiting_review": [result.id for result in self.awaiting_review],
            "criteria": [result.to_dict() for result in self.criteria],
            "missing": list(self.missing),
            "failing_facts": self.failing_facts,
            "counts": {status: len(self.by_status(status)) for status in (PASS, FAIL, UNKNOWN, NOT_APPLICABLE)},
            "basic_not_assessed": [{"criterion": result.id, "requirement": result.requirement,
                                    "citation": result.citation} for result in self.basic_not_assessed],
            "to_confirm": [
                {"criterion": result.id, "parameter": result.parameter.name, "year_used": result.parameter.year_used,
                 "basis": result.parameter.basis, "text": text}
                for result, text in zip(self.to_confirm, self.to_confirm_texts())
            ],
            "benefits": [benefit.to_dict() for benefit in self.benefits],
            "next_step": self.next_step,
        }


class ProfileError(BadInput):
    """A broken profile; `problems` holds one line per problem, `key (中文名) problem`."""

    def __init__(self, problems: list[str]):
        super().__init__("档案有误：\n" + "\n".join(f"- {line}" for line in problems))
        self.problems = problems


def evaluate(profile: dict, rulebook: Rulebook | None = None) -> Evaluation:
    """Evaluate one branch profile (nested dict per the contract); ProfileError (a BadInput) when broken."""
    rulebook = rulebook or load_rulebook()
    try:
        values = validate_profile(english_keys(profile, rulebook))
    except InvalidProfile as error:
        raise ProfileError(problem_lines(error, rulebook)) from None
    _check_parameter_names(values, rulebook)
    rules = rulebook.domain(values["domain"])
    judged = [_judge(criterion, values) for criterion in rules.criteria]
    # The basic standards (rules/basic.yaml) came after the contract: a profile that states none of them
    # (written to the contract, or by an older template) is judged on the contract's criteria, and the
    # basic standards are listed for the secretary to check before 申报 — not counted as unknown.
    stated_basic = any(key.startswith(BASIC_FACTS) for key in values)
    unassessed = () if stated_basic else tuple(r for r in judged if _reads_only_basic(r))
    results = tuple(r for r in judged if r not in unassessed)
    statuses = {result.status for result in results}
    verdict = DOES_NOT_QUALIFY if FAIL in statuses else INCOMPLETE if UNKNOWN in statuses else QUALIFIES
    stage = _stage(verdict, results)
    missing = tuple(dict.fromkeys(key for result in results for key in result.missing))
    to_confirm = sum(result.to_confirm for result in results)
    label = rulebook.verdict_labels[AWAITING_REVIEW if stage == AWAITING_REVIEW else verdict]
    if stage != SELF_CHECK and to_confirm:
        label = rulebook.verdict_labels[f"{stage}_to_confirm"].format(count=to_confirm)
    return Evaluation(
        name=values.get("name"),
        domain=values["domain"],
        year=values["year"],
        verdict=verdict,
        verdict_label=label,
        stage=stage,
        criteria=results,
        missing=missing,
        basic_not_assessed=unassessed,
        _rules=rules,
        _values=values,
        _next_step=rulebook.next_steps[AWAITING_REVIEW if stage == AWAITING_REVIEW else verdict],
    )


def _reads_only_basic(result: CriterionResult) -> bool:
    return bool(result.facts) and all(key.startswith(BASIC_FACTS) for key in result.facts)


def _stage(verdict: str, results: tuple[CriterionResult, ...]) -> str:
    if verdict == QUALIFIES:
        return MAY_APPLY
    if verdict == INCOMPLETE and all(result.status != UNKNOWN or result.stage == REVIEW for result in results):
        return AWAITING_REVIEW
    return SELF_CHECK


def problem_lines(error: InvalidProfile, rulebook: Rulebook) -> list[str]:
    """One line per problem, `key (中文名) problem`: the English key and its Chinese name."""
    labels = rulebook.labels(error.domain)
    return [
        f"{key} ({labels[key]}) {text}" if key in labels else f"{key} {text}".strip() for key, text in error.problems
    ]


def _check_parameter_names(values: dict[str, Any], rulebook: Rulebook) -> None:
    """A profile may give only the yearly standards its own domain is judged with."""
    given = [key.removeprefix("parameters.") for key in values if key.startswith("parameters.")]
    allowed = {parameter.name: parameter.label for parameter in rulebook.parameters.for_domain(values["domain"])}
    unknown = [name for name in given if name not in allowed]
    if unknown:
        choices = "、".join(f"{name}（{label}）" for name, label in allowed.items()) or "无（本领域没有按年度变化的标准）"
        raise ProfileError([f"parameters.{name} 不是本领域的年度标准，可填：{choices}" for name in unknown])


def _judge(criterion: Criterion, values: dict[str, Any]) -> CriterionResult:
    when = criterion.when
    if when and when.fact in values and values[when.fact] != when.equals:
        return CriterionResult(criterion, NOT_APPLICABLE, (), values)
    check = criterion.check
    parameter = check.resolved(values, values["year"]) if isinstance(check, Threshold) else None
    if not values.keys() >= criterion.needed_keys:
        if criterion.missing_is_not_applicable and _holds(criterion.missing_when, values):
            return CriterionResult(criterion, NOT_APPLICABLE, (), values)
        absent = tuple(key for key in criterion.needs if key not in values)
        return CriterionResult(criterion, UNKNOWN, absent, values, parameter)
    return CriterionResult(criterion, check.status(values, values["year"]), (), values, parameter)


def _reason(criterion: Criterion, status: str, missing: tuple[str, ...], values: dict[str, Any]) -> str:
    words = criterion.check.words
    if status == NOT_APPLICABLE:
        return criterion.texts["not_applicable"]
    if missing:
        labels = "、".join(f"「{words.label(key)}」" for key in missing)  # labels may hold “” themselves
        template = criterion.texts.get("unknown") or words.messages["unknown"]
        return template.format(requirement=criterion.requirement, missing=labels)
    explanation = criterion.check.explain(values, values["year"])
    template = words.messages[explanation.template] if explanation.template else (
        criterion.texts.get(status) or _default(words.messages[status], criterion.check.TYPE)
    )
    return template.format_map(_variables(criterion, values, explanation))


def _variables(criterion: Criterion, values: dict[str, Any], explanation=None) -> dict[str, Any]:
    """What a reason or remedy template may name: the requirement, the year, the fact and the check's figures."""
    year = values["year"]
    explanation = explanation or criterion.check.explain(values, year)
    return {"requirement": criterion.requirement, "year": year,
            "label": criterion.check.words.label(criterion.check.fact)} | explanation.variables


def _default(templates: dict[str, str], check_type: str) -> str:
    return templates.get(check_type) or templates["default"]


def _holds(condition, values: dict[str, Any]) -> bool:
    return condition is None or values.get(condition.fact) == condition.equals


def _benefit(rule: BenefitRule, values: dict[str, Any], words: Words) -> Benefit:
    first, *others = (citation.as_dict for citation in rule.citations)
    base_key = next((key for key in (rule.amount_of, rule.amount_fallback) if key and key in values), None)
    if base_key is None:
        return Benefit(rule.id, rule.title, rule.text, first, tuple(others), short=rule.short)
    base = values[base_key]
    low, high = (round(base * share, 2) for share in rule.amount_shares)  # an estimate; the 党委 sets the amount
    text = rule.amount_text.format(base_label=words.label(base_key), base=words.show(base_key, base),
                                   low=plain_number(low) + "元", high=plain_number(high) + "元",
                                   outside=_outside_usual(rule, low, high))
    return Benefit(rule.id, rule.title, rule.text, first, tuple(others), {"low": low, "high": high}, text, rule.short)


def _outside_usual(rule: BenefitRule, low: float, high: float) -> str:
    """Why an estimate wholly beyond the clause's usual figures is shown at all (empty when they overlap:
    10%—20% of one pay is twice as wide as 2000—3000元, so it never lies inside them)."""
    if not rule.amount_usual or not rule.outside_text:
        return ""
    usual_low, usual_high = rule.amount_usual
    if low <= usual_high and high >= usual_low:
        return ""
    side = "高于" if low > usual_high else "低于"
    return rule.outside_text.format(side=side, usual_low=plain_number(usual_low) + "元",
                                    usual_high=plain_number(usual_high) + "元")
