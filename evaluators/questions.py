"""The guided self-check: questions derived from the rulebook, typed-answer parsing, answers → profile.

A question's wording lives in the rulebook (`facts.<key>.prompt`); its kind, bounds and choices come from
the profile model; its help and citation from the first rule that reads the key. Whether it is asked
follows that rule too: a conditional criterion (`when`) is asked only when the condition holds, a fact
whose absence is excused (`if_missing.when`) is skipped when the excuse holds, and the part of a ratio
is asked once its base is known.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from evaluators.checks import Ratio, percent, plain_number
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
    split_items,
    typed,
)
from evaluators.report import cite
from evaluators.rulebook import Condition, DomainRules, Rulebook, load_rulebook
from zhibu.errors import BadInput

_NOT_SURE = {"不确定", "不知道", "不清楚", "跳过", "未实行", "不适用", "?", "？"}
_YES = {"是", "是的", "对", "有", "y", "yes", "true", "1"}
_NO = {"否", "不是", "不", "没有", "无", "n", "no", "false", "0"}
_NONE_OF = {"无", "没有", "都没有"}
_ALL_OF = {"全部", "都有", "全有", "齐全"}


class Question(NamedTuple):  # not a dataclass: cheaper to define at start-up
    key: str  # dotted profile key
    kind: str  # bool | int | number | ratio | date | enum | multi
    prompt: str
    help: str  # why it is asked: the requirement and the clause
    citation: dict[str, str]
    label: str
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    maximum_key: str | None = None  # the answer may not exceed this other answer
    ask_when: Condition | None = None
    skip_when: Condition | None = None
    after: str | None = None  # asked only once this other key has an answer

    def applies(self, answers: dict[str, Any]) -> bool:
        if self.ask_when and answers.get(self.ask_when.fact) != self.ask_when.equals:
            return False
        if self.skip_when and answers.get(self.skip_when.fact) == self.skip_when.equals:
            return False
        return self.after is None or answers.get(self.after) is not None


def questions_for(domain: str) -> list[Question]:
    """The self-check questions for `domain`: common ones, then the domain's, then benefit inputs."""
    if domain not in DOMAINS:
        raise BadInput(f"未知领域 {domain!r}，可选：" + "、".join(f"{k}（{v}）" for k, v in DOMAINS.items()))
    return list(_questions(domain, load_rulebook()))


@lru_cache(maxsize=64)  # the chat asks for the list on every turn; questions are immutable
def _questions(domain: str, rulebook: Rulebook) -> tuple[Question, ...]:
    rules = rulebook.domain(domain)
    fields = contract_fields(domain)
    return tuple(
        _question(key, rules, fields[key])
        for key, spec in rules.facts.items()
        if spec.prompt and key in fields and (spec.ask_domains is None or domain in spec.ask_domains)
    )


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
    )


def parse_answer(question: Question, text: str, answers: dict[str, Any] | None = None) -> Any:
    """A typed answer as the profile value; None for 不确定. BadInput (Chinese) when it cannot be read.

    `answers` (the answers so far) lets a count be checked against the one it may not exceed.
    """
    word = typed(str(text))
    if word.lower() in _NOT_SURE or not word:
        return None
    value = _PARSERS[question.kind](question, word)
    _check_range(question, value, answers or {})
    return value


def _parse_bool(question: Question, word: str) -> bool:
    if word.lower() in _YES:
        return True
    if word.lower() in _NO:
        return False
    raise BadInput("请回答“是”“否”或“不确定”。")


def _parse_int(question: Question, word: str) -> int:
    if word in _NONE_OF:
        return 0
    number = _number(word)
    if not float(number).is_integer():
        raise BadInput(f"“{word}”不是整数，请填写整数。")
    return int(number)


def _parse_ratio(question: Question, word: str) -> float:
    if word.endswith("%"):
        return _number(word[:-1]) / 100
    number = _number(word)
    return number / 100 if number > 1 else number  # "35" answers a question about a percentage


def _parse_date(question: Question, word: str) -> date:
    try:
        return parse_date(word)
    except ValueError as error:
        raise BadInput(str(error)) from None


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
    options = "、".join(f"{number}. {label}" for number, (_, label) in enumerate(question.choices, start=1))
    raise BadInput(f"“{word}”不是可选项，请从以下选择：{options}")


def _number(word: str) -> float | int:
    try:
        return parse_number(word)
    except ValueError:
        raise BadInput(f"“{word}”不是有效的数字（可以写“8万”“80000元”）；不清楚请答“不确定”。") from None


_PARSERS = {
    "bool": _parse_bool,
    "int": _parse_int,
    "number": lambda question, word: _number(word),
    "ratio": _parse_ratio,
    "date": _parse_date,
    "enum": _choice,
    "multi": _parse_multi,
}


def _check_range(question: Question, value: Any, answers: dict[str, Any]) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return

    def show(number: float) -> str:
        return percent(number) if question.kind == "ratio" else plain_number(number) + question.unit

    if question.minimum is not None and value < question.minimum:
        floor = "为负数" if question.minimum == 0 else f"小于{show(question.minimum)}"
        raise BadInput(f"{question.label}不能{floor}（收到{show(value)}）。")
    if question.maximum is not None and value > question.maximum:
        raise BadInput(f"{question.label}不能大于{show(question.maximum)}（收到{show(value)}）。")
    limit = answers.get(question.maximum_key) if question.maximum_key else None
    if limit is not None and value > limit:
        raise BadInput(f"{question.label}（{show(value)}）不能大于已填写的{show(limit)}。")


def profile_from_answers(domain: str, year: int, answers: dict[str, object]) -> dict:
    """The nested, JSON-ready profile `zhibu check` accepts; unanswered and 不确定 (None) answers are left out."""
    known = {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in answers.items()
        if value is not None
    }
    return {"domain": domain, "year": year, **nest(known)}


def verdict_settled(domain: str, year: int, answers: dict[str, object]) -> bool:
    """True once some criterion already fails: the remaining questions cannot change the verdict."""
    return evaluate(profile_from_answers(domain, year, answers)).verdict == DOES_NOT_QUALIFY
