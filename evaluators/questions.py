"""The guided self-check: questions derived from the rulebook, typed-answer parsing, answers → profile.

A question's wording lives in the rulebook (`facts.<key>.prompt`, and for yes/no questions what a “是”
records and the words for each recorded meaning); its kind, bounds and choices come from the profile
model; its help and citation from the first rule that reads the key. Whether it is asked follows that
rule too: a conditional criterion (`when`) is asked only when the condition holds, a fact whose absence
is excused (`if_missing.when`) is skipped when the excuse holds, and the part of a ratio is asked once its
base is known. Questions come in dependency order, so one pass from the top reaches every question that
applies. For a year the texts give no figure for, a question asks for the figure the 上级 announced.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from evaluators.checks import FAIL, Ratio, Threshold, chinese_date, percent, with_unit
from evaluators.engine import DOES_NOT_QUALIFY, evaluate
from evaluators.profile import (
    DOMAINS,
    UPPER_BOUNDS,
    ask_as,
    bounds,
    contract_fields,
    nest,
    parse_date,
    parse_number,
    parse_share,
    split_items,
    typed,
)
from evaluators.report import cite
from evaluators.rulebook import Condition, DomainRules, Rulebook, RulebookError, load_rulebook
from zhibu.errors import BadInput

_NOT_SURE = {"不确定", "不知道", "不清楚", "跳过", "未实行", "不适用", "没实行", "说不准", "?", "？"}
_YES = {"是", "是的", "是啊", "对", "对的", "对啊", "嗯", "有", "有的", "有啊", "做到了", "达到了", "达标", "获得了",
        "落实了", "y", "yes", "true", "1"}
_NO = {"否", "不是", "不", "没有", "没", "无", "还没有", "暂无", "没做到", "没达到", "不达标", "未达标", "没获得", "未获得",
       "n", "no", "false", "0"}
_NONE_OF = {"无", "没有", "都没有", "一个也没有"}
_ALL_OF = {"全部", "都有", "全有", "齐全", "全都有"}


class Question(NamedTuple):  # not a dataclass: cheaper to define at start-up
    key: str  # dotted profile key
    kind: str  # bool | int | number | ratio | date | enum | multi
    prompt: str
    help: str  # why it is asked: the requirement and the clause
    citation: dict[str, str]
    label: str  # short name, for review lists
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    maximum_key: str | None = None  # the answer may not exceed this other answer
    ask_when: Condition | None = None
    skip_when: Condition | None = None
    after: str | None = None  # asked only once this other key has an answer
    yes_value: bool = True  # what “是” records (False when the question asks about a problem)
    yes_text: str = "是"  # the recorded meaning of “是”, e.g. “有此类问题”
    no_text: str = "否"  # …and of “否”, e.g. “没有此类问题”
    hint: str = ""  # how to answer, shown after a rejected answer (fits the kind and the unit)

    def applies(self, answers: dict[str, Any]) -> bool:
        if self.ask_when and answers.get(self.ask_when.fact) != self.ask_when.equals:
            return False
        if self.skip_when and answers.get(self.skip_when.fact) == self.skip_when.equals:
            return False
        return self.after is None or answers.get(self.after) is not None

    @property
    def depends_on(self) -> tuple[str, ...]:
        conditions = (self.ask_when, self.skip_when)
        return tuple(key for key in (self.after, self.maximum_key, *(c.fact for c in conditions if c)) if key)

    def show(self, value: Any) -> str:
        """A recorded answer in plain Chinese: “没有此类问题”, “2008年5月1日”, “8万元”, “30%”, “不确定”."""
        if value is None:
            return "不确定"
        if self.kind == "bool":
            return self.yes_text if value == self.yes_value else self.no_text
        if self.kind == "date":
            return chinese_date(value if isinstance(value, date) else date.fromisoformat(str(value)))
        if self.kind == "ratio":
            return percent(value)
        labels = dict(self.choices)
        if self.kind == "multi":
            return "、".join(labels.get(item, str(item)) for item in value) or "一项也没有"
        if self.kind == "enum":
            return labels.get(value, str(value))
        return with_unit(value, self.unit)


def questions_for(domain: str, year: int | None = None) -> list[Question]:
    """The self-check questions for `domain`: common ones, then the domain's, then benefit inputs.

    With `year`, a year the texts give no figure for adds a question for the figure the 上级 announced
    (key `parameters.<name>`), right after the fact it is compared with.
    """
    if domain not in DOMAINS:
        raise BadInput(f"未知领域 {domain!r}，可选：" + "、".join(f"{k}（{v}）" for k, v in DOMAINS.items()))
    rulebook = load_rulebook()
    questions = list(_questions(domain, rulebook))
    if year is not None:
        for question in _parameter_questions(domain, year, rulebook):
            position = next(i for i, q in enumerate(questions) if q.key == question.after)
            questions.insert(position + 1, question)
    return questions


@lru_cache(maxsize=64)  # the chat asks for the list on every turn; questions are immutable
def _questions(domain: str, rulebook: Rulebook) -> tuple[Question, ...]:
    rules = rulebook.domain(domain)
    fields = contract_fields(domain)
    questions = [
        _question(key, rules, fields[key])
        for key, spec in rules.facts.items()
        if spec.prompt and key in fields and (spec.ask_domains is None or domain in spec.ask_domains)
    ]
    return tuple(_in_dependency_order(questions))


def _in_dependency_order(questions: list[Question]) -> list[Question]:
    """The rulebook's order, except that a question comes after every question it depends on."""
    keys = {question.key for question in questions}
    ordered: list[Question] = []
    placed: set[str] = set()
    waiting = list(questions)
    while waiting:
        ready = next((q for q in waiting if all(key in placed or key not in keys for key in q.depends_on)), None)
        if ready is None:
            raise RulebookError([f"自查问题相互依赖，无法排序：{', '.join(q.key for q in waiting)}"])
        ordered.append(ready)
        placed.add(ready.key)
        waiting.remove(ready)
    return ordered


def _question(key: str, rules: DomainRules, info) -> Question:
    spec, ask = rules.facts[key], ask_as(info)
    low, high = bounds(info)
    reader = next((c for c in rules.criteria if key in c.reads), None)
    if reader:
        requirement, citation = reader.requirement, reader.citation
        judged = key in reader.check.judged
        ask_when = reader.when if judged else None
        skip_when = reader.missing_when if judged and reader.missing_is_not_applicable else None
        after = reader.check.of if isinstance(reader.check, Ratio) and key == reader.check.fact else None
    else:  # read only by a benefit (e.g. the 班子 pay behind the one-off bonus)
        benefit = next(b for b in rules.benefits if b.amount_of == key)
        requirement, citation, ask_when, skip_when, after = benefit.title, benefit.citations[0], None, None, None
    return Question(
        key=key,
        kind=ask.kind,
        prompt=spec.prompt,
        help=f"{requirement}。依据：{cite(citation.as_dict)}",
        citation=citation.as_dict,
        label=spec.label,
        unit=spec.unit,
        choices=ask.choices,
        minimum=low,
        maximum=high,
        maximum_key=UPPER_BOUNDS.get(key),
        ask_when=ask_when,
        skip_when=skip_when,
        after=after,
        yes_value=spec.yes_value,
        yes_text=spec.yes_text or "是",
        no_text=spec.no_text or "否",
        hint=spec.hint or _hint(rules.words.messages["hints"], ask.kind, spec.unit),
    )


def _hint(hints: dict[str, str], kind: str, unit: str) -> str:
    return hints.get(f"{kind}:{unit}") or hints[kind].format(unit=unit)


def _parameter_questions(domain: str, year: int, rulebook: Rulebook) -> list[Question]:
    """For each dated standard the year has no documented figure for: what did the 上级 announce?"""
    rules = rulebook.domain(domain)
    messages = rules.words.messages
    questions = []
    for criterion in rules.criteria:
        check = criterion.check
        if not isinstance(check, Threshold) or check.parameter is None:
            continue
        resolved = rulebook.parameters.resolve(check.parameter, year)
        if not resolved.to_confirm:
            continue
        parameter = rulebook.parameters.parameters[check.parameter]
        kind = "ratio" if parameter.kind == "share" else "number"
        questions.append(Question(
            key=f"parameters.{check.parameter}",
            kind=kind,
            prompt=messages["parameter_prompt"].format(**resolved._asdict()),
            help=f"{criterion.requirement}。依据：{cite(criterion.citation.as_dict)}；"
                 f"{resolved.year_used}年的标准依据：{cite(resolved.source)}",
            citation=criterion.citation.as_dict,
            label=f"上级公布的{year}年度{resolved.label}",
            unit=parameter.unit,
            minimum=0,
            after=check.fact,
            hint=_hint(messages["hints"], kind, parameter.unit),
        ))
    return questions


def parse_answer(question: Question, text: str, answers: dict[str, Any] | None = None) -> Any:
    """A typed answer as the profile value; None for 不确定. BadInput (Chinese) when it cannot be read.

    `answers` (the answers so far) lets a count be checked against the one it may not exceed.
    """
    word = typed(str(text)).rstrip("。.!！")
    if word.lower() in _NOT_SURE or not word:
        return None
    value = _PARSERS[question.kind](question, word)
    _check_range(question, value, answers or {})
    return value


def _parse_bool(question: Question, word: str) -> bool:
    if word.lower() in _YES or word == question.yes_text:
        return question.yes_value
    if word.lower() in _NO or word == question.no_text:
        return not question.yes_value
    raise BadInput(question.hint)


def _parse_int(question: Question, word: str) -> int:
    if word in _NONE_OF:
        return 0
    number = _number(question, word)
    if not float(number).is_integer():
        raise BadInput(f"“{word}”不是整数。{question.hint}")
    return int(number)


def _parse_ratio(question: Question, word: str) -> float:
    try:
        return parse_share(word)  # "35" answers a question about a percentage
    except ValueError:
        raise BadInput(f"“{word}”不是有效的比例。{question.hint}不清楚请答“不确定”。") from None


def _parse_date(question: Question, word: str) -> date:
    try:
        return parse_date(word)
    except ValueError:
        raise BadInput(f"“{word}”不是有效的日期。{question.hint}") from None


def _parse_multi(question: Question, word: str) -> list[str]:
    if word in _ALL_OF:
        return [value for value, _ in question.choices]
    if word in _NONE_OF:
        return []
    picked = [_choice(question, item.removeprefix("有")) for item in split_items(word)]
    return [value for value, _ in question.choices if value in picked]


def _choice(question: Question, word: str) -> str:
    for number, (value, label) in enumerate(question.choices, start=1):
        if word in (value, label, str(number)):
            return value
    partial = [value for value, label in question.choices if word in label or label in word]
    if len(partial) == 1:  # 教师 → 教师党支部, 优秀等次 → 优秀
        return partial[0]
    options = "、".join(f"{number}. {label}" for number, (_, label) in enumerate(question.choices, start=1))
    raise BadInput(f"“{word}”不是可选项，请从以下选择：{options}")


def _number(question: Question, word: str) -> float | int:
    try:
        return parse_number(word)
    except ValueError:
        raise BadInput(f"“{word}”不是有效的数字。{question.hint}不清楚请答“不确定”。") from None


_PARSERS = {
    "bool": _parse_bool,
    "int": _parse_int,
    "number": _number,
    "ratio": _parse_ratio,
    "date": _parse_date,
    "enum": _choice,
    "multi": _parse_multi,
}


def _check_range(question: Question, value: Any, answers: dict[str, Any]) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return

    def show(number: float) -> str:
        return percent(number) if question.kind == "ratio" else with_unit(number, question.unit)

    if question.minimum is not None and value < question.minimum:
        floor = "为负数" if question.minimum == 0 else f"小于{show(question.minimum)}"
        raise BadInput(f"{question.label}不能{floor}（收到{show(value)}）。")
    if question.maximum is not None and value > question.maximum:
        raise BadInput(f"{question.label}不能大于{show(question.maximum)}（收到{show(value)}）。")
    limit = answers.get(question.maximum_key) if question.maximum_key else None
    if limit is not None and value > limit:
        raise BadInput(f"{question.label}（{show(value)}）不能大于已填写的{show(limit)}。")
    # …and a total changed later may not fall below a part already given (else the profile is refused with its keys).
    parts = [answers[part] for part, whole in UPPER_BOUNDS.items() if whole == question.key and answers.get(part) is not None]
    if parts and value < max(parts):
        raise BadInput(f"{question.label}（{show(value)}）不能少于已填写的{show(max(parts))}。")


def profile_from_answers(domain: str, year: int, answers: dict[str, object]) -> dict:
    """The nested, JSON-ready profile `zhibu check` accepts; unanswered and 不确定 (None) answers are left out.

    An answer to the 上级's yearly standard goes under `parameters` (e.g. parameters.gacha_village.collective_income).
    """
    known = {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in answers.items()
        if value is not None
    }
    return {"domain": domain, "year": year, **nest(known)}


def verdict_settled(domain: str, year: int, answers: dict[str, object]) -> bool:
    """True once some criterion already fails for good: the remaining questions cannot change the verdict.

    A failure against another year's figure (to be confirmed) does not settle it: the year's own figure may differ.
    """
    evaluation = evaluate(profile_from_answers(domain, year, answers))
    return evaluation.verdict == DOES_NOT_QUALIFY and any(not result.to_confirm for result in evaluation.by_status(FAIL))
