"""“能不能评”: yes/no eligibility questions answered from the evaluator's own rulebook, with the clause.

A question is taken only when it asks a yes/no eligibility question (`asks` in data/eligibility.yaml)
and names a condition the rulebook knows: a criterion (负面情形, 四评, 新组建, 软弱涣散, each domain's
standard) or one of its other rules (层级计算, 动态调整). The everyday words live in the data file;
the requirement, the clause, the domain and the comparison come from `evaluators.rulebook`, so an
answer and a self-check can never disagree. Anything else returns None and retrieval answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.answer import ANSWERED, Answer, Citation
from knowledge.clauses import passage_holding
from knowledge.preanswer import follow_up_context
from knowledge.question import domain_mentions
from zhibu.text import chinese_punctuation, quoted

DATA = Path(__file__).parent / "data" / "eligibility.yaml"
# A figure: digits, or Chinese numerals with a unit or an ordinal (两委, 十星级, 八有 are names, not figures).
_NUMBER = re.compile(r"(百分之|第)?([0-9]+(?:\.[0-9]+)?|[零一二两三四五六七八九十]{1,3})(万)?(%|％|成|颗|星|分|名|个|次|人|位|元)?")
_NOT_A_COUNT = re.compile(r"^[年月日号届]")  # 2023年, 6月: dates, not the figure asked about
_NONE_AT_ALL = re.compile(r"^[^，,。？?]{0,8}?都(?:没|不|无)")  # "一个大专生都没有": none, not a count of one
_HEDGED = re.compile(r"一般(?:不得|不能)")
_THIS_YEAR_ONLY = re.compile(r"当年度|当年|本年度")
_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")} | {"两": 2}
_CLAUSE_BREAK = re.compile(r"[，,。；;？?！!：:\s]|呢|吗")
_PARTS = re.compile(r"[？?；;。]+|\s+(?=\S*?(?:能|可以|算|会))")  # "新成立的能评不 软弱涣散的能评不": two questions
_TAIL = re.compile(r"(?:不|没有|没)$")  # "还能评最强不": the question's tail, not a negation
FAILS, PASSES, ASKS = "fails", "passes", "asks"


@dataclass(frozen=True)
class Topic:
    """One thing the data says a question can name: a criterion of the rulebook or another rule."""

    key: str
    phrases: tuple[tuple[str, bool], ...]  # (words, names the failing situation)
    domain: str | None = None  # None: every domain (a common criterion, or a rule)
    answer: str = ""  # for a rule: the answer's first words ("会")


@dataclass(frozen=True)
class Match:
    topic: Topic
    phrase: str
    start: int
    state: str  # FAILS: the question describes the failing situation; PASSES: its opposite; ASKS: only names it


@lru_cache(maxsize=1)
def _data() -> dict:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _asks() -> re.Pattern:
    return re.compile("|".join(f"(?:{pattern})" for pattern in _data()["asks"]))


def _rulebook():
    from evaluators.rulebook import load_rulebook

    return load_rulebook()


@lru_cache(maxsize=1)
def criteria() -> dict[str, tuple[str | None, object, object]]:
    """criterion id → (domain or None when every domain has it, Criterion, DomainRules)."""
    found: dict[str, list] = {}
    domains = _rulebook().all_domains()
    for domain, rules in domains.items():
        for criterion in rules.criteria:
            found.setdefault(criterion.id, [domain, criterion, rules, 0])[3] += 1
    return {cid: (None if count == len(domains) else domain, criterion, rules)
            for cid, (domain, criterion, rules, count) in found.items()}


@lru_cache(maxsize=1)
def topics() -> tuple[Topic, ...]:
    data, known = _data(), criteria()
    rules = tuple(Topic(key, tuple((phrase, False) for phrase in spec["asked_as"]), None, spec["answer"])
                  for key, spec in data["rules"].items())
    return rules + tuple(
        Topic(cid, tuple((p, False) for p in [*spec.get("asked_as", ()), *_listed_items(*known[cid][:2])])
              + tuple((p, True) for p in spec.get("fails_as", ())), known[cid][0])
        for cid, spec in data["criteria"].items() if cid in known)


def _listed_items(domain: str | None, criterion) -> tuple[str, ...]:
    """The items a domain's list criterion requires ("六有": 场所、党旗…): naming one ("没有档案柜") asks
    about it. (The common 五个基本 checklists name what the domains' own criteria name more precisely.)"""
    return tuple(item for item in getattr(criterion.check, "items", ()) if domain and len(item) > 1)


def rule_citation(topic: Topic):
    """The rulebook's citation (clause) of a topic."""
    rulebook = _rulebook()
    if topic.answer:
        clause = _data()["rules"][topic.key]["clause"]
        return rulebook.counting_citation if clause == "counting" else rulebook.citations[clause]
    return criteria()[topic.key][1].citation


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause (between ，。；？…) holding text[start:end]."""
    before = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, start)]
    after = _CLAUSE_BREAK.search(text, end)
    return (before[-1] if before else 0), (after.start() if after else len(text))


def _negated(text: str, start: int, end: int) -> bool:
    """A negation in the phrase's clause ("没拿到班子坚强星", "三务公开没落实"), the question's own
    "能不能 / 会不会" aside."""
    left, right = _clause_bounds(text, start, end)
    rest = _asks().sub("", text[left:start] + "|" + text[end:right])
    if right == len(text):  # only the question's last clause ends in its tail; "一个大专生都没有，" is a negation
        rest = _TAIL.sub("", rest)
    if _asks().search(text, left, start) and left > 0:  # "待遇没保障，算不算做到五个到位": the clause before says it
        rest += "|" + text[_clause_bounds(text, left - 1, left - 1)[0]:left - 1]
    return bool(re.search(_data()["negations"], rest))


def _matches(text: str, domains: set[str]) -> list[Match]:
    found = []
    for topic in topics():
        if topic.domain is not None and domains and topic.domain not in domains:
            continue
        for phrase, fails in topic.phrases:
            start = text.find(phrase)
            if start >= 0:
                negated = _negated(text, start, start + len(phrase))
                state = (PASSES if negated else FAILS) if fails else (FAILS if negated else ASKS)
                found.append(Match(topic, phrase, start, state))
    return found


def best_match(text: str, domains: set[str]) -> Match | None:
    """The rule a question names: another rule before a criterion ("被问责了会不会取消" asks about
    取消), then the longest phrase; phrases of equal length in different domains are ambiguous."""
    found = _matches(text, domains)
    rules = [m for m in found if m.topic.answer]
    if rules:
        return max(rules, key=lambda m: len(m.phrase))
    if not found:
        return None
    longest = max(len(m.phrase) for m in found)
    best = [m for m in found if len(m.phrase) == longest]
    if len({m.topic.domain for m in best if m.topic.domain}) > 1:
        return None
    return min(best, key=lambda m: (m.topic.domain is not None, m.start))


def pre_answer(question: str, context) -> Answer | None:
    """The rulebook's answer to a yes/no eligibility question, else None."""
    text = re.sub(r"\s+", "", question)
    if not _asks().search(text) or re.search(_data()["figure_asked"], text):
        return None  # "一年得挣多少钱才算达标" asks for the figure: retrieval quotes it
    named = {domain for _, domain in domain_mentions(text)}
    domains = named or ({context.domain} if context.domain else set())
    own = re.sub(r"\s+", "", context.own_words or "")
    match = best_match(own, domains) if own else None  # "那要是支部被问责了呢？": its own condition, not the topic's
    said = own if match else text
    match = match or best_match(text, domains)
    if match is None or _several_questions(question.strip(), domains):
        return None
    citation = rule_citation(match.topic)
    line = _rule_line(match, citation) if match.topic.answer else _criterion_line(said, match, citation, context.this_year)
    cited = _citation(citation, context.generation)
    body = f"答：{line}\n依据：{basis(cited)}：{quoted(cited.text)}[1]"
    return Answer(question=question, found=True, answer=body, citations=[cited], mode="rulebook", status=ANSWERED,
                  context=follow_up_context(question, [cited]))


def _several_questions(text: str, domains: set[str]) -> bool:
    """Two parts naming different rules are two questions: the multi-part answer handles them."""
    named = {m.topic.key for part in _PARTS.split(text) if part and (m := best_match(part, domains))}
    return len(named) > 1


def basis(citation: Citation) -> str:
    """Where a clause stands, as the extractive answers say it: 工作指南·四、（三）关于负面情形 第1项."""
    return f"{citation.short_title or '《' + citation.document + '》'}·{chinese_punctuation(citation.section)}"


def _rule_line(match: Match, citation) -> str:
    return f"{match.topic.answer}：{chinese_punctuation(citation.quote)}"


def _criterion_line(text: str, match: Match, citation, year: int) -> str:
    domain, criterion, rules = criteria()[match.topic.key]
    fails = _judged_by_figure(text, match, criterion, year)
    state = match.state if fails is None else (FAILS if fails else PASSES)
    where = f"按{_domain_label(domain)}的评定标准，" if domain else ""
    reply = _reply(text)
    if state == ASKS:
        return f"要看：{where}须{criterion.requirement}，其他各项条件也都要符合。"
    if state == PASSES:
        return f"{reply.get('passes', '要看')}：{where}这一条（{criterion.requirement}）不妨碍评定，其他各项条件也都要符合。"
    refusal = "一般不能" if _HEDGED.search(citation.quote) else "不能"
    situation = _failing_situation(criterion, rules)
    line = f"{reply['fails']}：{situation}的，{refusal}评定" if reply else f"{refusal}，如果{situation}"
    line += f"（{_domain_label(domain)}的评定标准）" if domain else ""
    earlier = next((word for word in _data()["earlier"] if word in text), None)
    if earlier and _THIS_YEAR_ONLY.search(criterion.requirement + citation.quote):
        line += f"；{earlier}的{match.phrase.removeprefix('被')}不在此条之内（此条只看当年度）"
    return line + "。"


def _reply(text: str) -> dict[str, str]:
    """The yes/no words in the question's own terms ("影响…吗": 会影响; "算不算达标": 不算); {} for 能 / 不能."""
    return next((reply for reply in _data()["replies"] if re.search(reply["asked"], text)), {})


def _failing_situation(criterion, rules) -> str:
    """How the failing case reads: the fact's own words for a yes/no fact ("本年度被问责"), else the requirement."""
    check = criterion.check
    fact = rules.facts.get(check.fact)
    if type(check).__name__ == "Equals" and isinstance(check.value, bool) and fact and fact.yes_text:
        failing = not check.value
        return fact.yes_text if failing == fact.yes_value else fact.no_text
    return f"达不到{quoted(criterion.requirement)}"


def _judged_by_figure(text: str, match: Match, criterion, year: int) -> bool | None:
    """Whether a figure the question gives ("7颗星", "85%", "不到5万") fails the criterion's own check;
    None when the criterion compares no figure or the question gives none."""
    kind = type(criterion.check).__name__
    if kind not in ("Threshold", "Ratio"):
        return None
    figure = _figure_near(text, match.start, match.start + len(match.phrase))
    if figure is None:
        return None
    value, percent, short = figure
    if kind == "Ratio":
        if not percent:
            return None
        values = {criterion.check.fact: value, criterion.check.of: 100}
    else:
        values = {criterion.check.fact: value}
    if short:  # "不到5万": below the figure named
        values[criterion.check.fact] = value - max(abs(value) * 1e-6, 1e-6)
    return criterion.check.status(values, year) == "fail"


def _figure_near(text: str, start: int, end: int) -> tuple[float, bool, bool] | None:
    """The figure nearest the phrase: (value, is a percentage, a shortfall word stands before it)."""
    best = None
    for m in _NUMBER.finditer(text):
        named = not m.group(2)[0].isdigit() and not (m.group(1) or m.group(4))
        none_at_all = m.group(2) in ("一", "1") and _NONE_AT_ALL.match(text[m.end():])
        if named or none_at_all or _NOT_A_COUNT.match(text[m.end():]) or start <= m.start() < m.end() <= end:
            continue
        distance = abs(m.start() - start)
        if best is None or distance < best[0]:
            best = (distance, m)
    if best is None:
        return None
    m = best[1]
    value = _number(m.group(2)) * (10_000 if m.group(3) else 1)
    percent = m.group(1) == "百分之" or m.group(4) in ("%", "％", "成")
    if m.group(4) == "成":
        value *= 10
    left, _ = _clause_bounds(text, m.start(), m.end())
    short = bool(re.search(_data()["shortfalls"], text[left:m.start()]))
    return value, percent, short


def _number(token: str) -> float:
    if token[0].isdigit():
        return float(token)
    tens, ten, ones = token.partition("十")
    if not ten:
        return float(_DIGITS.get(token, 0))
    return float(10 * (_DIGITS.get(tens, 1) if tens else 1) + _DIGITS.get(ones, 0))


def _domain_label(domain: str) -> str:
    from evaluators.profile import DOMAINS

    return f"{DOMAINS[domain]}党支部"


def _citation(citation, generation) -> Citation:
    """The rulebook clause as an answer's citation, with the passage holding it when the knowledge base has it."""
    passage = passage_holding(generation, citation.doc_id, citation.quote)
    return Citation(citation.document, citation.doc_number, citation.section, chinese_punctuation(citation.quote), 1.0,
                    passage.chunk_id if passage else "", passage.short_title if passage else "")
