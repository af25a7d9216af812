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

import re
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from evaluators import replies
from evaluators.checks import FAIL, Equals, Ratio, Threshold, chinese_date, percent, with_unit
from evaluators.engine import DOES_NOT_QUALIFY, evaluate
from evaluators.profile import (
    DOMAINS,
    UPPER_BOUNDS,
    ask_as,
    bounds,
    contract_fields,
    nest,
    parse_date,
    typed,
)
from evaluators.report import cite
from evaluators.rulebook import Condition, DomainRules, Rulebook, RulebookError, load_rulebook
from zhibu.errors import BadInput

PART = "#"  # a split question's key: the fact's key, "#", the part's number (facts.mechanism_and_secretary#2)
_MONTH_GIVEN = re.compile(r"月|\d[-/.]\d")
_DAY_GIVEN = re.compile(r"[日号]|\d[-/.]\d{1,2}[-/.]\d")
_FULL_WIDTH = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！", "?": "？"})
_TENTHS = re.compile(r"^([一二两三四五六七八九十\d])成")  # 三成 = 30%
_NOUNS = {"人": "人数", "名": "人数", "次": "次数", "颗星": "星数"}  # what an exact count is called


class Reading(NamedTuple):
    """A reply as understood: the value to record and what it means in words."""

    value: Any
    shown: str
    confirm: bool = False  # approximate ("五万多", "三四次"): said back, recorded only after a yes


class Unclear(BadInput):
    """A reply that could mean more than one thing: the readings to offer, at once or when it comes again."""

    def __init__(self, message: str, options: tuple[Reading, ...] = (), *, ask_now: bool = False) -> None:
        super().__init__(message)
        self.options = options
        self.ask_now = ask_now


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
    not_applicable: str = ""  # how a "未实行/不适用" answer reads, when the rule lets the fact be absent
    good: Any = True  # the value the rule wants (False for 被问责; True for committee_clean): what "没问题" means

    @property
    def fact(self) -> str:
        """The profile key the answer goes to (a split question's whole fact)."""
        return self.key.partition(PART)[0]

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
    questions = [_in_year(question, year) for question in _questions(domain, rulebook)]
    if year is not None:
        for question in _parameter_questions(domain, year, rulebook):
            position = next(i for i, q in enumerate(questions) if q.key == question.after)
            questions.insert(position + 1, question)
    return questions


def _in_year(question: Question, year: int | None) -> Question:
    """The prompt with its year: "{year}年度" → "2023年度" (without a year: "本年度"), "{last_year}年" → "2022年"."""
    if "{" not in question.prompt:
        return question
    return question._replace(prompt=question.prompt.format(year=year or "本", last_year=year - 1 if year else "上"))


@lru_cache(maxsize=64)  # the chat asks for the list on every turn; questions are immutable
def _questions(domain: str, rulebook: Rulebook) -> tuple[Question, ...]:
    rules = rulebook.domain(domain)
    fields = contract_fields(domain)
    questions = [
        question
        for key, spec in rules.facts.items()
        if spec.prompt and key in fields and (spec.ask_domains is None or domain in spec.ask_domains)
        for question in _split(_question(key, rules, fields[key]), spec.parts)
    ]
    return tuple(_in_dependency_order(questions))


def _split(question: Question, parts: tuple[dict, ...]) -> list[Question]:
    """A fact the texts state as several things, asked one thing per question (all must hold)."""
    if not parts:
        return [question]
    return [
        question._replace(key=f"{question.key}{PART}{number}", prompt=part["prompt"], label=part["label"],
                          yes_value=part.get("yes_value", True), yes_text=part["yes_text"], no_text=part["no_text"])
        for number, part in enumerate(parts, start=1)
    ]


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
        # When the rule does not apply without the fact (a 学生党支部's 晋升职称比例), neither it nor its base is asked.
        excused = reader.missing_is_not_applicable and (judged or key in reader.check.compared)
        skip_when = reader.missing_when if excused else None
        after = reader.check.of if isinstance(reader.check, Ratio) and key == reader.check.fact else None
        absent = reader.texts.get("not_applicable", "") if reader.missing_is_not_applicable and not reader.missing_when else ""
    else:  # read only by a benefit (e.g. the 班子 pay behind the one-off bonus)
        benefit = next(b for b in rules.benefits if b.amount_of == key)
        requirement, citation, ask_when, skip_when, after = benefit.title, benefit.citations[0], None, None, None
        absent = ""
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
        hint=spec.hint or _hint(rules.words.messages["hints"], ask.kind, spec.unit, ask.choices),
        good=reader.check.value if reader and isinstance(reader.check, Equals) and reader.check.fact == key else True,
        not_applicable="不适用（" + re.split(r"[（，。]", absent)[0] + "）" if absent else "",
    )


def _hint(hints: dict[str, str], kind: str, unit: str, choices: tuple = ()) -> str:
    example = "、".join(label for _, label in choices[:2])  # real options: “党旗、党员名册”
    return hints.get(f"{kind}:{unit}") or hints[kind].format(unit=unit, example=example)


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

    The value only: an approximate reply ("五万多") is taken as `read_answer` reads it, unconfirmed.
    """
    return read_answer(question, text, answers).value


def read_answer(question: Question, text: str, answers: dict[str, Any] | None = None) -> Reading:
    """A typed answer as understood (`Reading`): the value, what it means in words, and whether it is
    approximate and so to be said back before it counts. `Unclear` (a BadInput) when it cannot be read or
    could mean several things; `answers` (the answers so far) lets a count be checked against its whole.
    """
    word = typed(str(text)).rstrip("。.!！")
    if not word or replies.is_word(word, "unsure"):
        return Reading(None, "不确定")
    if replies.is_word(word, "not_in_use") or (question.not_applicable and replies.mentions(word, "not_in_use")):
        if question.not_applicable:
            return Reading(None, question.not_applicable)
        # “没搞积分” typed at a question that has no 不适用 (a step out of turn): said, never read as 不确定.
        raise Unclear(f"“{_said(word)}”不是这一题的回答：这一题没有“不适用”。{question.hint}",
                      (Reading(None, "不确定"),))
    whole = (answers or {}).get(question.maximum_key) if question.maximum_key else None
    if whole is not None and replies.is_word(word, "everyone"):  # 都是优秀: as many as the whole
        return Reading(whole, f"全部，{_show(question, whole)}")
    try:
        reading = _READERS[question.kind](question, word)
    except Unclear:
        if question.kind != "bool" and replies.meanings(word) == {"unsure"}:  # 上级还没评，不清楚
            return Reading(None, "不确定")
        raise
    _check_range(question, reading.value, answers or {})
    _check_unit(question, word, reading)
    return reading


def _check_unit(question: Question, word: str, reading: Reading) -> None:
    """A reply counting another thing than the question ("9颗" at a points question) is said back, not
    recorded silently in the question's unit."""
    said, wanted = replies.unit_kind_said(word), replies.unit_kind(question.unit)
    if question.kind in ("int", "number") and said and wanted and said != wanted and reading.value is not None:
        raise Unclear(f"“{_said(word)}”的单位和这一题不一样：这一题问的是多少{question.unit}。",
                      (reading._replace(shown=f"按{_show(question, reading.value)}记", confirm=False),
                       Reading(None, "不确定")))


def _read_bool(question: Question, word: str) -> Reading:
    yes, no = Reading(question.yes_value, question.yes_text), Reading(not question.yes_value, question.no_text)
    unsure = Reading(None, "不确定")
    said = {question.yes_text: {"yes"}, question.no_text: {"no"}}.get(word) or replies.meanings(word)
    met = yes if question.good == question.yes_value else no  # what "没问题/不错" means for this question
    readings = {{"yes": yes, "no": no, "fine": met, "unsure": unsure}.get(meaning) for meaning in said}
    options = (yes._replace(shown=f"是：{yes.shown}"), no._replace(shown=f"否：{no.shown}"), unsure)
    if "partly" in said:  # 基本上是: met, or only in part? The person says which.
        part = "只做到一部分" if question.good == question.yes_value else "否"
        raise Unclear(f"“{_said(word)}”是指哪一种？", (options[0], no._replace(shown=f"{part}：{no.shown}"), unsure),
                      ask_now=True)
    if len(readings) == 1 and None not in readings:
        return readings.pop()
    if len(readings) > 1:  # its parts say different things: ask rather than guess
        raise Unclear(f"“{_said(word)}”里有几种说法，是指哪一种？", options, ask_now=True)
    raise Unclear(question.hint, options)


def _read_count(question: Question, word: str) -> Reading:
    if replies.is_word(word, "none_of") or replies.meanings(word) == {"no"}:  # 没有失联的, 一个都没失联
        return Reading(0, _show(question, 0))
    amount = _amount(question, word)
    low = amount.low
    if amount.kind in ("more", "under"):  # a count feeds a ratio or a minimum: ask for the figure itself
        noun = _NOUNS.get(question.unit, "数字")
        bound = f"超过{_show(question, low)}" if amount.kind == "more" else f"不到{_show(question, low)}"  # 30多: 31 or more
        guess = low + 1 if amount.kind == "more" else low - 1
        raise Unclear(f"“{_said(word)}”：请给出确切{noun}（{bound}）。",
                      (Reading(int(guess), f"按{_show(question, guess)}记"), Reading(None, "不确定")))
    if not float(low).is_integer():
        raise Unclear(f"“{_said(word)}”不是整数。{question.hint}")
    return _approximate(question, int(low), amount)


def _read_number(question: Question, word: str) -> Reading:
    amount = _amount(question, word)
    return _approximate(question, amount.low, amount)


def _read_ratio(question: Question, word: str) -> Reading:
    spoken = _TENTHS.sub(lambda match: match[1] + ("0%" if match[1].isdigit() else "十%"), word.removeprefix("百分之"))  # 三成多 → 三十%多
    percent_given = spoken != word or "%" in spoken
    amount = _amount(question, spoken.replace("%", ""))
    scale = 100 if percent_given or amount.low > 1 else 1  # "35" answers a question about a percentage
    shares = amount._replace(low=amount.low / scale, high=amount.high / scale if amount.high is not None else None)
    return _approximate(question, shares.low, shares, step=0.01)


def _approximate(question: Question, value: float, amount: replies.Amount, step: float = 1) -> Reading:
    """An exact figure as is; an approximate one as the least it can mean, said back for a yes."""
    show = lambda number: _show(question, number)  # noqa: E731
    if amount.kind == "exact":
        return Reading(value, show(value))
    if amount.kind == "more":  # 五万多 → 超过5万元 (recorded as the least amount above it)
        return Reading(_tidy(value + step), f"超过{show(value)}", confirm=True)
    if amount.kind == "under":  # 将近5万 → 不到5万元
        return Reading(_tidy(value - step), f"不到{show(value)}（按{show(_tidy(value - step))}记）", confirm=True)
    if amount.kind == "range":  # 三四次 → 3到4次，按3次记: the lower end
        return Reading(value, f"{show(value)}到{show(amount.high)}，按{show(value)}记", confirm=True)
    return Reading(value, f"约{show(value)}，按{show(value)}记", confirm=True)  # 大概8万左右


def _tidy(number: float) -> float | int:
    number = round(number, 6)
    return int(number) if float(number).is_integer() else number


def _said(word: str) -> str:
    """A reply quoted back with the Chinese punctuation it was typed with (typed() made it plain)."""
    return word.translate(_FULL_WIDTH)


def _show(question: Question, number: float) -> str:
    """A figure as said back: 30%, 3次, and whole 万 of yuan as people say them (超过5万元, not 50,000元)."""
    if question.kind == "ratio":
        return percent(number)
    if question.unit == "元" and number >= 10_000 and number % 10_000 == 0:
        return with_unit(number / 10_000, "万元")
    return with_unit(number, question.unit)


def _amount(question: Question, word: str) -> replies.Amount:
    try:
        return replies.read_amount(word)
    except ValueError:
        what = "比例" if question.kind == "ratio" else "数字"
        raise Unclear(f"“{_said(word)}”不是有效的{what}。{question.hint}不清楚请答“不确定”。",
                      (Reading(None, "不确定"),)) from None


def _read_date(question: Question, word: str) -> Reading:
    word = replies.date_text(word)  # 1998年七一建的 → 1998年7月1日
    try:
        day = parse_date(word)
    except ValueError:
        raise Unclear(f"“{_said(word)}”不是有效的日期。{question.hint}", (Reading(None, "不确定"),)) from None
    if _DAY_GIVEN.search(word):
        return Reading(day, chinese_date(day))
    shown = f"{day.year}年{day.month}月" if _MONTH_GIVEN.search(word) else f"{day.year}年"
    return Reading(day, shown)  # a month (or year) is enough: read as its first day, which 组建满一年 allows


def _read_items(question: Question, word: str) -> Reading:
    labels = {label: value for value, label in question.choices}
    found = replies.read_items(word, list(labels))
    if found is None:  # "书报也配齐了，六样都有": the one clause that reads as a list
        clauses = [read for clause in re.split(r"[，,。；;]", word) if (read := replies.read_items(clause, list(labels)))]
        found = clauses[0] if len(clauses) == 1 else None
    if found is None:
        raise Unclear(f"“{_said(word)}”中有不是选项的内容，请从以下选择：{_options(question)}。{question.hint}")
    named, _ = found
    value = [labels[label] for label in named]
    missing = [label for label in labels if label not in named]
    shown = ("已具备：" + "、".join(named) if named else "一项也没有") + ("；缺少：" + "、".join(missing) if named and missing else "")
    return Reading(value, shown)


def _read_choice(question: Question, word: str) -> Reading:
    value = _choice(question, replies.choice_word(word) or word)  # 教工 → 教师党支部; 镇党委给的优秀 → 优秀
    return Reading(value, question.show(value))


def _choice(question: Question, word: str) -> str:
    for number, (value, label) in enumerate(question.choices, start=1):
        if word in (value, label, str(number)):
            return value
    partial = [value for value, label in question.choices if word in label or label in word]
    if len(partial) == 1:  # 教师 → 教师党支部, 优秀等次 → 优秀
        return partial[0]
    raise Unclear(f"“{_said(word)}”不是可选项，请从以下选择：{_options(question)}",
                  tuple(Reading(value, label) for value, label in question.choices))


def _options(question: Question) -> str:
    return "、".join(f"{number}. {label}" for number, (_, label) in enumerate(question.choices, start=1))


_READERS = {
    "bool": _read_bool,
    "int": _read_count,
    "number": _read_number,
    "ratio": _read_ratio,
    "date": _read_date,
    "enum": _read_choice,
    "multi": _read_items,
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
        for key, value in _whole_facts(domain, answers).items()
        if value is not None
    }
    return {"domain": domain, "year": year, **nest(known)}


def _whole_facts(domain: str, answers: dict[str, object]) -> dict[str, object]:
    """Split questions joined into their fact: met when every part is met, not met when one is not."""
    whole = {key: value for key, value in answers.items() if PART not in key}
    facts = load_rulebook().domain(domain).facts
    for key, spec in facts.items():
        parts = [answers.get(f"{key}{PART}{number}") for number in range(1, len(spec.parts) + 1)]
        if False in parts:
            whole[key] = False
        elif parts and all(part is True for part in parts):
            whole[key] = True
    return whole


def verdict_settled(domain: str, year: int, answers: dict[str, object]) -> bool:
    """True once some criterion already fails for good: the remaining questions cannot change the verdict.

    A failure against another year's figure (to be confirmed) does not settle it: the year's own figure may differ.
    """
    evaluation = evaluate(profile_from_answers(domain, year, answers))
    return evaluation.verdict == DOES_NOT_QUALIFY and any(not result.to_confirm for result in evaluation.by_status(FAIL))
