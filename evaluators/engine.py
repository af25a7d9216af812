"""Run a domain's criteria over one validated profile: statuses, reasons, verdict, missing facts, benefits."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

from evaluators.checks import FAIL, NOT_APPLICABLE, PASS, UNKNOWN, Words, plain_number
from evaluators.profile import DOMAINS, InvalidProfile, validate_profile
from evaluators.rulebook import BenefitRule, Criterion, DomainRules, Rulebook, load_rulebook
from zhibu.errors import BadInput

QUALIFIES, DOES_NOT_QUALIFY, INCOMPLETE = "qualifies", "does_not_qualify", "incomplete"


@dataclass(slots=True)
class CriterionResult:
    id: str
    status: str
    facts: tuple[str, ...]  # the facts this criterion judges
    compared_with: tuple[str, ...]  # facts it only measures them against (payroll, school average…)
    conditions: tuple[str, ...]  # facts that decide whether it applies (branch_kind, social_review_exempt)
    requirement: str
    remedy: str
    citation: dict[str, str]
    parameter_citation: dict[str, str] | None
    missing: tuple[str, ...]  # for an unknown criterion: the absent facts that made it so
    _reason: str | Callable[[], str] = field(repr=False)

    @property
    def reason(self) -> str:
        """The Chinese reason; written on first read, since a batch only needs statuses."""
        if callable(self._reason):
            self._reason = self._reason()
        return self._reason

    def to_dict(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "status": self.status,
            "facts": list(self.facts),
            "compared_with": list(self.compared_with),
            "conditions": list(self.conditions),
            "reason": self.reason,
            "requirement": self.requirement,
            "remedy": self.remedy,
            "citation": dict(self.citation),
            "missing": list(self.missing),
        }
        if self.parameter_citation:
            data["parameter_citation"] = dict(self.parameter_citation)
        return data


@dataclass(frozen=True)
class Benefit:
    id: str
    title: str
    text: str
    citation: dict[str, str]
    also_cited: tuple[dict[str, str], ...] = ()
    amount_yuan: dict[str, float] | None = None  # {"low", "high"} when the base amount is known
    amount_text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"id": self.id, "title": self.title, "text": self.text, "citation": self.citation,
                "also_cited": list(self.also_cited)}
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
    verdict_label: str
    criteria: tuple[CriterionResult, ...]
    missing: tuple[str, ...]
    benefits: tuple[Benefit, ...]
    next_step: dict[str, Any]
    missing_prompts: dict[str, str] = field(default_factory=dict)  # missing key → the self-check question

    def by_status(self, status: str) -> list[CriterionResult]:
        return [result for result in self.criteria if result.status == status]

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
            "criteria": [result.to_dict() for result in self.criteria],
            "missing": list(self.missing),
            "failing_facts": self.failing_facts,
            "counts": {status: len(self.by_status(status)) for status in (PASS, FAIL, UNKNOWN, NOT_APPLICABLE)},
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
        values = validate_profile(profile)
    except InvalidProfile as error:
        raise ProfileError(problem_lines(error, rulebook)) from None
    rules = rulebook.domain(values["domain"])
    results = tuple(_judge(criterion, values, rules.words) for criterion in rules.criteria)
    statuses = {result.status for result in results}
    verdict = DOES_NOT_QUALIFY if FAIL in statuses else INCOMPLETE if UNKNOWN in statuses else QUALIFIES
    missing = tuple(dict.fromkeys(key for result in results for key in result.missing))
    return Evaluation(
        name=values.get("name"),
        domain=values["domain"],
        year=values["year"],
        verdict=verdict,
        verdict_label=rulebook.verdict_labels[verdict],
        criteria=results,
        missing=missing,
        benefits=_benefits(rules, values) if verdict == QUALIFIES else (),
        next_step=rulebook.next_steps[verdict].to_dict(),
        missing_prompts={key: rules.facts[key].prompt or "" for key in missing if key in rules.facts},
    )


def problem_lines(error: InvalidProfile, rulebook: Rulebook) -> list[str]:
    """One line per problem, `key (中文名) problem`: the English key and its Chinese name."""
    labels = rulebook.labels(error.domain)
    return [f"{key} ({labels[key]}) {text}" if key in labels else f"{key} {text}".strip() for key, text in error.problems]


def _judge(criterion: Criterion, values: dict[str, Any], words: Words) -> CriterionResult:
    when = criterion.when
    if when and when.fact in values and values[when.fact] != when.equals:
        return _result(criterion, NOT_APPLICABLE, criterion.texts["not_applicable"])
    absent = tuple(key for key in criterion.needs if key not in values)
    if absent:
        if criterion.missing_is_not_applicable and _holds(criterion.missing_when, values):
            return _result(criterion, NOT_APPLICABLE, criterion.texts["not_applicable"])
        return _result(criterion, UNKNOWN, partial(_unknown_reason, criterion, absent, words), absent)
    status = criterion.check.status(values, values["year"])
    return _result(criterion, status, partial(_checked_reason, criterion, values, words, status))


def _unknown_reason(criterion: Criterion, absent: tuple[str, ...], words: Words) -> str:
    labels = "、".join(f"「{words.label(key)}」" for key in absent)  # labels may hold “” themselves
    template = criterion.texts.get("unknown") or words.messages["unknown"]
    return template.format(requirement=criterion.requirement, missing=labels)


def _checked_reason(criterion: Criterion, values: dict[str, Any], words: Words, status: str) -> str:
    year = values["year"]
    explanation = criterion.check.explain(values, year)
    template = words.messages[explanation.template] if explanation.template else (
        criterion.texts.get(status) or _default(words.messages[status], criterion.check.TYPE)
    )
    variables = {"requirement": criterion.requirement, "year": year, "label": words.label(criterion.check.fact)}
    return template.format_map(variables | explanation.variables)


def _default(templates: dict[str, str], check_type: str) -> str:
    return templates.get(check_type) or templates["default"]


def _result(criterion: Criterion, status: str, reason: str | Callable[[], str], missing: tuple[str, ...] = ()):
    check, parameter = criterion.check, criterion.parameter_citation
    return CriterionResult(
        criterion.id,
        status,
        check.judged,
        check.compared,
        criterion.conditions,
        criterion.requirement,
        criterion.remedy,
        criterion.citation.as_dict,
        parameter.as_dict if parameter else None,
        missing,
        reason,
    )


def _holds(condition, values: dict[str, Any]) -> bool:
    return condition is None or values.get(condition.fact) == condition.equals


def _benefits(rules: DomainRules, values: dict[str, Any]) -> tuple[Benefit, ...]:
    return tuple(_benefit(rule, values, rules.words) for rule in rules.benefits)


def _benefit(rule: BenefitRule, values: dict[str, Any], words: Words) -> Benefit:
    first, *others = (citation.as_dict for citation in rule.citations)
    base = values.get(rule.amount_of) if rule.amount_of else None
    if base is None:
        return Benefit(rule.id, rule.title, rule.text, first, tuple(others))
    low, high = (round(base * share, 2) for share in rule.amount_shares)
    text = rule.amount_text.format(
        base=words.show(rule.amount_of, base), low=plain_number(low) + "元", high=plain_number(high) + "元"
    )
    return Benefit(rule.id, rule.title, rule.text, first, tuple(others), {"low": low, "high": high}, text)
