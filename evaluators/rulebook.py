"""Load the rulebook (`evaluators/rules/*.yaml`) into plain objects the engine runs.

Files: `sources.yaml` (documents and quoted clauses), `common.yaml` (messages, common facts and criteria),
`basic.yaml` (the basic standards every domain shares: 五个基本, 五强), one `<domain>.yaml` per domain (附件2), `parameters.yaml` (dated figures: yearly targets, the 嘎查村
income standard), `outcomes.yaml` (verdict labels, benefits, next steps). A domain file is read only when that domain is first evaluated, so a single `zhibu check`
parses four small files. `ZHIBU_RULES_DIR` points the loader at another folder (tests, drafts).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from evaluators.checks import Check, Words, from_spec
from evaluators.parameters import KINDS, DatedValue, Parameter, ParameterTable, staff_file, zhibu_home
from evaluators.profile import DOMAINS, ask_as, contract_fields
from evaluators.yaml_text import read_rule_file

RULES_DIR = Path(__file__).with_name("rules")
SELF, REVIEW = "self", "review"  # who settles a criterion: the branch itself, or the upper level's 四评


class RulebookError(Exception):
    """The rulebook itself is broken; `problems` lists every finding."""

    def __init__(self, problems: list[str]):
        super().__init__("规则书有误：\n" + "\n".join(f"- {problem}" for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class Citation:
    clause_id: str
    doc_id: str
    document: str
    doc_number: str
    section: str
    quote: str

    @cached_property
    def as_dict(self) -> dict[str, str]:
        """The JSON form; built once and shared by every result that cites this clause (do not mutate)."""
        return {
            "document": self.document,
            "doc_number": self.doc_number,
            "section": self.section,
            "quote": self.quote,
            "doc_id": self.doc_id,
        }


# Simple records are NamedTuples: each dataclass costs ~1 ms to define, and `zhibu check` starts cold.
class FactSpec(NamedTuple):
    label: str
    unit: str = ""
    prompt: str | None = None
    ask_domains: tuple[str, ...] | None = None
    yes_value: bool = True  # what a “是” records: False when the question asks about the bad thing
    yes_text: str = ""  # the recorded meaning in words (“没有此类问题”)
    no_text: str = ""
    hint: str = ""  # how to answer, when the kind's default hint does not fit (a rank: “第2名”)
    parts: tuple[dict, ...] = ()  # a yes/no fact asked as several one-fact questions (prompt, yes/no words each)


class Condition(NamedTuple):
    fact: str
    equals: Any


@dataclass(frozen=True)
class Criterion:
    id: str
    requirement: str
    check: Check
    citation: Citation
    remedy: str
    texts: dict[str, str]  # optional overrides: pass / fail / unknown / not_applicable
    when: Condition | None = None
    missing_is_not_applicable: bool = False
    missing_when: Condition | None = None  # ...only when this holds (e.g. social_review_exempt)
    stage: str = SELF  # self: the branch states it; review: the 四评 the upper level carries out at year end

    @cached_property
    def needs(self) -> tuple[str, ...]:
        """Every fact without which the criterion cannot be decided (condition first)."""
        return ((self.when.fact,) if self.when else ()) + self.check.judged + self.check.compared

    @cached_property
    def needed_keys(self) -> frozenset[str]:
        return frozenset(self.needs)

    @cached_property
    def conditions(self) -> tuple[str, ...]:
        return tuple(c.fact for c in (self.when, self.missing_when) if c)

    @property
    def reads(self) -> tuple[str, ...]:
        return self.needs + self.conditions


class BenefitRule(NamedTuple):
    id: str
    title: str
    text: str
    short: str  # one line for the phone-sized report
    citations: tuple[Citation, ...]
    domains: tuple[str, ...] | None = None
    amount_of: str | None = None  # the fact the estimate is computed from (asked)
    amount_fallback: str | None = None  # an older fact used when `amount_of` is not given (not asked)
    amount_shares: tuple[float, float] | None = None
    amount_usual: tuple[float, float] | None = None  # the clause's usual figures (一般可按2000元至3000元掌握)
    amount_text: str | None = None
    outside_text: str | None = None  # said when the estimate leaves `amount_usual`


class NextStep(NamedTuple):
    text: str
    citations: tuple[Citation, ...]

    def to_dict(self) -> dict[str, Any]:
        first, *others = (citation.as_dict for citation in self.citations)
        return {"text": self.text, "citation": first, "also_cited": others}


class DomainRules(NamedTuple):
    domain: str
    facts: dict[str, FactSpec]  # asking order: common, domain, outcome (benefit) facts
    criteria: tuple[Criterion, ...]
    benefits: tuple[BenefitRule, ...]
    words: Words


def _read(path: Path) -> dict:
    try:
        data = read_rule_file(path, zhibu_home() / "cache" / "rules")
    except Exception as error:  # OSError, UnicodeDecodeError, yaml.YAMLError (PyYAML is imported only on a cache miss)
        raise RulebookError([f"{path.name}: 无法读取（{error}）"]) from None
    if not isinstance(data, dict):
        raise RulebookError([f"{path.name}: 顶层应为键值对"])
    return data


class Rulebook:
    def __init__(self, directory: Path):
        self.directory = directory
        sources = _read(directory / "sources.yaml")
        common = _read(directory / "common.yaml")
        self._basic = _read(directory / "basic.yaml")
        outcomes = _read(directory / "outcomes.yaml")
        self.documents: dict[str, dict] = sources.get("documents", {})
        self.messages: dict = common["messages"]
        self.verdict_labels: dict[str, str] = outcomes["verdicts"]
        self._common = common
        self._outcomes = outcomes
        self._domains: dict[str, DomainRules] = {}
        problems: list[str] = []
        self.citations = {cid: self._citation(cid, spec, problems) for cid, spec in sources.get("clauses", {}).items()}
        self.parameters = ParameterTable(self._parameters(_read(directory / "parameters.yaml"), problems), staff_file)
        self.counting_citation = self._cite(outcomes["targets"]["counting_clause"], "outcomes.targets", problems)
        self.next_steps = {
            verdict: NextStep(
                step["text"], tuple(self._cite(clause, f"next_steps.{verdict}", problems) for clause in step["clauses"])
            )
            for verdict, step in outcomes["next_steps"].items()
        }
        if problems:
            raise RulebookError(problems)

    def _citation(self, clause_id: str, spec: dict, problems: list[str]) -> Citation | None:
        document = self.documents.get(spec.get("document"))
        if document is None or not spec.get("quote") or not spec.get("section"):
            problems.append(f"sources.yaml 条款 {clause_id}: 须有 document（已登记的文件）、section、quote")
            return None
        return Citation(clause_id, spec["document"], document["title"], document.get("doc_number", ""),
                        spec["section"], spec["quote"])

    def _cite(self, clause_id: Any, where: str, problems: list[str]) -> Citation | None:
        citation = self.citations.get(clause_id)
        if citation is None:
            problems.append(f"{where}: 引用了不存在的条款 {clause_id!r}")
        return citation

    def _parameters(self, spec: dict, problems: list[str]) -> dict[str, Parameter]:
        parameters = {}
        self.parameter_clauses = {value.get("clause") for item in spec.values() if isinstance(item, dict)
                                  for value in item.get("values") or []}
        for name, item in spec.items():
            where = f"parameters.yaml {name}"
            if not isinstance(item, dict) or item.get("kind") not in KINDS or not item.get("values"):
                problems.append(f"{where}: 须有 label、kind（{'/'.join(KINDS)}）、wording、values")
                continue
            values = tuple(
                DatedValue(int(value["from"]), int(value.get("until", value["from"])), value["value"],
                           citation.as_dict)
                for value in item["values"]
                if (citation := self._cite(value.get("clause"), where, problems))
            )
            parameters[name] = Parameter(name, item["label"], item["kind"], item["wording"],
                                         tuple(item.get("domains") or ()), values)
        return parameters

    def target_share(self, year: int):
        """The yearly qualifying-share target as a `Resolved` (another year's figure when `year` has none)."""
        return self.parameters.resolve("targets.share", year)

    def domain(self, domain: str) -> DomainRules:
        if domain not in self._domains:
            self._domains[domain] = self._compile(domain)
        return self._domains[domain]

    def _compile(self, domain: str) -> DomainRules:
        spec = _read(self.directory / f"{domain}.yaml")
        problems: list[str] = []
        if spec.get("domain") != domain:
            problems.append(f"{domain}.yaml: domain 应为 {domain}")
        facts = {
            key: FactSpec(label=item.get("label", ""), unit=item.get("unit", ""), prompt=item.get("prompt"),
                          ask_domains=tuple(item["ask_domains"]) if "ask_domains" in item else None,
                          yes_value=item.get("yes_value", True), yes_text=item.get("yes_text", ""),
                          no_text=item.get("no_text", ""), hint=item.get("hint", ""),
                          parts=tuple(item.get("parts") or ()))
            for source in (self._common, spec, self._basic, self._outcomes)
            for key, item in (source.get("facts") or {}).items()
        }
        problems += [f"{domain}: facts.{key} 缺少 label" for key, fact in facts.items() if not fact.label]
        fields = contract_fields(domain)
        words = Words(
            self.messages,
            labels={key: fact.label for key, fact in facts.items()},
            units={key: fact.unit for key, fact in facts.items() if fact.unit},
            kinds={key: ask_as(info) for key, info in fields.items()},
        )
        criteria = tuple(
            criterion
            for source, name in ((self._common, "common.yaml"), (spec, f"{domain}.yaml"), (self._basic, "basic.yaml"))
            for item in source.get("criteria") or []
            if domain in item.get("domains", (domain,))
            and (criterion := self._criterion(item, words, f"{name} {item.get('id', '?')}", problems))
        )
        benefits = tuple(
            self._benefit(item, problems)
            for item in self._outcomes.get("benefits") or []
            if "domains" not in item or domain in item["domains"]
        )
        if problems:
            raise RulebookError(problems)
        return DomainRules(domain, facts, criteria, benefits, words)

    def _criterion(self, item: dict, words: Words, where: str, problems: list[str]) -> Criterion | None:
        required = ("id", "clause", "requirement", "check", "remedy")
        if not isinstance(item, dict) or any(key not in item for key in required):
            problems.append(f"{where}: 须有 {', '.join(required)}")
            return None
        try:
            check = from_spec(item["check"], words, self.parameters)
        except (ValueError, TypeError) as error:
            problems.append(f"{where}: {error}")
            return None
        if_missing = item.get("if_missing") or {}
        if if_missing and if_missing.get("status") != "not_applicable":
            problems.append(f"{where}: if_missing.status 只能是 not_applicable")
        if item.get("stage", SELF) not in (SELF, REVIEW):
            problems.append(f"{where}: stage 只能是 {SELF}（自评）或 {REVIEW}（四评）")
        try:
            when, missing_when = _condition(item.get("when")), _condition(if_missing.get("when"))
        except (KeyError, TypeError, AttributeError):
            problems.append(f"{where}: when 应为 {{fact: 字段, equals: 值}}")
            return None
        return Criterion(
            id=item["id"],
            requirement=item["requirement"],
            check=check,
            citation=self._cite(item["clause"], where, problems),
            remedy=item["remedy"],
            texts={key: item[key] for key in ("pass", "fail", "unknown", "not_applicable") if key in item},
            when=when,
            missing_is_not_applicable=bool(if_missing),
            missing_when=missing_when,
            stage=item.get("stage", SELF),
        )

    def _benefit(self, item: dict, problems: list[str]) -> BenefitRule:
        amount = item.get("amount") or {}
        where = f"outcomes.yaml benefit {item.get('id')}"
        return BenefitRule(
            id=item["id"],
            title=item["title"],
            text=item["text"],
            short=item.get("short") or item["title"],
            citations=tuple(self._cite(clause, where, problems) for clause in item["clauses"]),
            domains=tuple(item["domains"]) if "domains" in item else None,
            amount_of=amount.get("of"),
            amount_fallback=amount.get("fallback"),
            amount_shares=tuple(amount["shares"]) if amount else None,
            amount_usual=tuple(amount["usual"]) if amount.get("usual") else None,
            amount_text=item.get("amount_text"),
            outside_text=item.get("outside_text"),
        )

    def labels(self, domain: str | None) -> dict[str, str]:
        """Chinese names of the keys of `domain` (only the common keys when the domain is unknown)."""
        if domain in DOMAINS:
            return self.domain(domain).words.labels
        return {key: item["label"] for key, item in self._common["facts"].items()}

    def all_domains(self) -> dict[str, DomainRules]:
        return {domain: self.domain(domain) for domain in DOMAINS}


def _condition(spec: dict | None) -> Condition | None:
    return Condition(spec["fact"], spec["equals"]) if spec else None


def rules_dir() -> Path:
    return Path(os.environ.get("ZHIBU_RULES_DIR") or RULES_DIR)


def load_rulebook(directory: Path | str | None = None) -> Rulebook:
    """The rulebook in `directory`, else $ZHIBU_RULES_DIR, else the shipped one; parsed once per folder."""
    return _load(str(directory or os.environ.get("ZHIBU_RULES_DIR") or RULES_DIR))


@lru_cache(maxsize=4)
def _load(directory: str) -> Rulebook:
    return Rulebook(Path(directory))
