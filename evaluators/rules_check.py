"""`zhibu rules check`: keep the rulebook honest against the corpus and the profile contract.

- every quoted clause stands in its document's text (both sides through `normalize_for_match`);
- document titles and numbers match the corpus metadata;
- every contract key of every domain is read by some rule, and every key a rule reads is a contract key;
- every key has a Chinese label and a self-check question, yes/no questions ask plainly (never “是否没有…”)
  and carry the words for each recorded answer; every text template uses known variables;
- criterion ids are unique, every clause is cited somewhere.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import yaml

from evaluators.checks import COMMON_VARIABLES
from evaluators.profile import DOMAINS, EXTRA_KEYS, IDENTITY_KEYS, ask_as, contract_fields
from evaluators.rulebook import DomainRules, Rulebook, RulebookError, load_rulebook
from zhibu.text import normalize_for_match

CORPUS_DIR = Path(__file__).resolve().parents[1] / "knowledge" / "corpus"
_UNKNOWN_VARIABLES = frozenset({"requirement", "missing"})
# A yes/no question asked in the negative makes an honest “没有” record the opposite (issue: 两委 “是否确实没有…”).
NEGATED_QUESTION = re.compile(r"是否(确实|真的)?(没有|未|不|无)|有没有不|是不是没")


def check_rulebook(rulebook_dir: Path | None = None, corpus_dir: Path = CORPUS_DIR) -> tuple[list[str], dict]:
    """(problems, stats); no problems means the rulebook passes."""
    try:
        rulebook = load_rulebook(rulebook_dir)
    except RulebookError as error:
        return error.problems, {}
    problems: list[str] = []
    domains: dict[str, DomainRules] = {}
    for domain in DOMAINS:
        try:
            domains[domain] = rulebook.domain(domain)
        except RulebookError as error:
            problems += error.problems
    problems += _document_problems(rulebook, corpus_dir)
    problems += _quote_problems(rulebook, corpus_dir)
    problems += _unused_clauses(rulebook, domains)
    for domain, rules in domains.items():
        problems += _key_problems(domain, rules)
        problems += _template_problems(rules, rulebook.messages)
    stats = {
        "clauses": len(rulebook.citations),
        "criteria": len({criterion.id for rules in domains.values() for criterion in rules.criteria}),
        "keys": len({key for domain in domains for key in contract_fields(domain) if key not in IDENTITY_KEYS}),
    }
    return list(dict.fromkeys(problems)), stats


def _document_problems(rulebook: Rulebook, corpus_dir: Path) -> list[str]:
    problems = []
    for doc_id, document in rulebook.documents.items():
        meta_path = corpus_dir / f"{doc_id}.yaml"
        if not meta_path.is_file():
            problems.append(f"sources.yaml 文件 {doc_id}: 语料中没有 {meta_path.name}")
            continue
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
        for key in ("title", "doc_number"):
            if normalize_for_match(str(document.get(key, ""))) != normalize_for_match(str(meta.get(key, ""))):
                problems.append(f"sources.yaml 文件 {doc_id}: {key} 为 {document.get(key)!r}，语料元数据为 {meta.get(key)!r}")
    return problems


def _quote_problems(rulebook: Rulebook, corpus_dir: Path) -> list[str]:
    texts: dict[str, str | None] = {}
    problems = []
    for clause_id, citation in rulebook.citations.items():
        if citation.doc_id not in texts:
            path = corpus_dir / f"{citation.doc_id}.txt"
            texts[citation.doc_id] = normalize_for_match(path.read_text(encoding="utf-8")) if path.is_file() else None
        text = texts[citation.doc_id]
        if text is None:
            problems.append(f"条款 {clause_id}: 语料中没有文件 {citation.doc_id}.txt")
        elif normalize_for_match(citation.quote) not in text:
            problems.append(f"条款 {clause_id}: 原文在《{citation.document}》中找不到：“{citation.quote}”")
    return problems


def _unused_clauses(rulebook: Rulebook, domains: dict[str, DomainRules]) -> list[str]:
    used = {rulebook.counting_citation.clause_id} | rulebook.parameter_clauses
    used |= {citation.clause_id for step in rulebook.next_steps.values() for citation in step.citations}
    for rules in domains.values():
        for criterion in rules.criteria:
            used.add(criterion.citation.clause_id)
        used |= {citation.clause_id for benefit in rules.benefits for citation in benefit.citations}
    return [f"条款 {clause_id}: 没有任何规则引用" for clause_id in rulebook.citations if clause_id not in used]


def _key_problems(domain: str, rules: DomainRules) -> list[str]:
    contract = contract_fields(domain)
    read = {key for criterion in rules.criteria for key in criterion.reads}
    read |= {benefit.amount_of for benefit in rules.benefits if benefit.amount_of}
    problems = [f"{domain}: 规则读取的 {key} 不是档案字段" for key in sorted(read - set(contract))]
    problems += [f"{domain}: 规则书 facts 中的 {key} 不是档案字段" for key in rules.facts if key not in contract]
    for key in contract:
        if key in IDENTITY_KEYS or (key in EXTRA_KEYS and key not in read):
            continue
        if key not in read:
            problems.append(f"{domain}: 档案字段 {key} 没有被任何规则读取")
        spec = rules.facts.get(key)
        if spec is None or not spec.label or not spec.prompt:
            problems.append(f"{domain}: 档案字段 {key} 缺少 label 或 prompt（自查提问）")
        elif ask_as(contract[key]).kind == "bool" and not (spec.yes_text and spec.no_text):
            problems.append(f"{domain}: 是非题 {key} 缺少 yes_text / no_text（回答后确认记下的意思）")
        if spec and spec.prompt and NEGATED_QUESTION.search(spec.prompt):
            problems.append(f"{domain}: {key} 的提问是否定问法（“是否没有/是否未…”），请直接问问题本身：{spec.prompt}")
    ids = [criterion.id for criterion in rules.criteria]
    problems += [f"{domain}: 评定条件 id {i} 重复" for i in sorted({i for i in ids if ids.count(i) > 1})]
    return problems


def _template_problems(rules: DomainRules, messages: dict) -> list[str]:
    problems = []
    for criterion in rules.criteria:
        checked = COMMON_VARIABLES | criterion.check.VARIABLES
        allowed = {"pass": checked, "fail": checked, "unknown": _UNKNOWN_VARIABLES, "not_applicable": frozenset()}
        for kind, template in criterion.texts.items():
            unknown = _fields(template) - allowed[kind]
            if unknown:
                problems.append(f"{criterion.id}: {kind} 文字中有未知变量 {sorted(unknown)}")
        if (criterion.when or criterion.missing_is_not_applicable) and "not_applicable" not in criterion.texts:
            problems.append(f"{criterion.id}: 有 when 或 if_missing 时须写 not_applicable 文字")
    return problems


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
