"""The guided self-check as pure functions over the per-user state dict.

The state is a plain JSON-friendly dict (persistence stores it as is); `CheckState` is only a typed
view over it. Button data are short strings (Telegram allows 64 bytes) that name the question by
its index in `questions_for(domain)`, so a stale button can be recognised and refused.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from evaluators import DOMAINS, questions_for

from bot.events import Button, Reply

IDLE, DOMAIN, YEAR, QUESTION, SETTLED, REVIEW, CHANGE, DONE = (
    "idle", "domain", "year", "question", "settled", "review", "change", "done")
IN_CHECK = frozenset({DOMAIN, YEAR, QUESTION, SETTLED, REVIEW, CHANGE})
FIRST_RATED_YEAR = 2020  # the 最强党支部 programme starts with the 2020 documents
TYPED_KINDS = frozenset({"int", "number", "ratio", "date"})
_BOOL_TOKENS = {"yes": "是", "no": "否", "unsure": "不确定"}
_KIND_HINTS = {
    "int": "请直接输入整数。",
    "number": "请直接输入数字。",
    "ratio": "请输入比例，例如 0.85 或 85%。",
    "date": "请输入日期，例如 2019-06-01。",
    "multi": "可多选：点选已具备的各项，选好后点“完成”（也可以直接输入，用顿号隔开）。",
    "enum": "请选择一项。",
    "bool": "请选择 是 / 否 / 不确定。",
}


def _field(name: str, default: Any = None) -> property:
    return property(lambda self: self.data.get(name, default), lambda self, value: self.data.__setitem__(name, value))


class CheckState:
    """Typed view over the persisted dict; every field has a default so old or empty dicts work."""

    def __init__(self, data: dict) -> None:
        self.data = data

    phase = _field("phase", IDLE)
    domain = _field("domain")
    year = _field("year")
    pending = _field("pending")
    settled_ack = _field("settled_ack", False)

    @property
    def answers(self) -> dict[str, Any]:
        return self.data.setdefault("answers", {})

    @property
    def history(self) -> list[str]:
        """Answered keys in the order given, for /back."""
        return self.data.setdefault("history", [])

    @property
    def undone(self) -> dict[str, Any]:
        """Answers taken back with /back, kept only to show "上次回答"."""
        return self.data.setdefault("undone", {})

    @property
    def picked(self) -> list[str]:
        """Choices ticked so far on the pending multi-select question."""
        return self.data.setdefault("picked", [])

    def start(self) -> None:
        sources = self.data.get("sources")
        self.data.clear()
        if sources:
            self.data["sources"] = sources
        self.phase = DOMAIN

    def reset(self) -> None:
        self.start()
        self.phase = IDLE

    def questions(self) -> list:
        return questions_for(self.domain)

    def question(self, key: str | None):
        return next((q for q in self.questions() if q.key == key), None)

    def index_of(self, key: str) -> int:
        return next(i for i, q in enumerate(self.questions()) if q.key == key)

    def record(self, question, value: Any) -> None:
        """Store an answer; None (不确定) is kept too: it counts as answered and stays out of the profile."""
        key = question.key
        self.answers[key] = plain(value)
        if key in self.history:
            self.history.remove(key)
        self.history.append(key)
        self.undone.pop(key, None)
        self.data.pop("picked", None)

    def take_back(self) -> str | None:
        """Undo the last answer; returns its key, or None when nothing was answered."""
        if not self.history:
            return None
        key = self.history.pop()
        if key in self.answers:
            self.undone[key] = self.answers.pop(key)
        self.data.pop("picked", None)
        return key

    def scan(self) -> tuple[dict[str, Any], list, Any]:
        """One pass over the questionnaire in order: the answers of questions that apply, the questions
        answered (the review list), and the next question to ask (None when done)."""
        kept: dict[str, Any] = {}
        listed, upcoming = [], None
        for question in self.questions():
            if not question.applies(kept):
                continue
            if question.key in self.answers:
                kept[question.key] = self.answers[question.key]
                listed.append(question)
            elif upcoming is None:
                upcoming = question
        return kept, listed, upcoming


def plain(value: Any) -> Any:
    """JSON-friendly form of a parsed answer (the state is persisted as JSON)."""
    return value.isoformat() if isinstance(value, date) else value


def default_year(today: date) -> int:
    # 评定 happens "一般年底前后": early in a year the secretary is still assessing the year before.
    return today.year - 1 if today.month < 3 else today.year


def parse_year(text: str, today: date) -> int | None:
    match = re.fullmatch(r"\s*(\d{4})\s*年?(度)?\s*", text)
    if match and FIRST_RATED_YEAR <= int(match.group(1)) <= today.year:
        return int(match.group(1))
    return None


def match_domain(text: str) -> str | None:
    """A domain from its value, its exact label, or a unique part of a label ("嘎查" → 嘎查村)."""
    text = text.strip()
    if text in DOMAINS:
        return text
    exact = [value for value, label in DOMAINS.items() if label == text]
    partial = [value for value, label in DOMAINS.items() if text and text in label]
    found = exact or partial
    return found[0] if len(found) == 1 else None


def show_value(question, value: Any) -> str:
    if question.kind == "bool" or value is None:
        return {True: "是", False: "否", None: "不确定"}[value]
    labels = dict(question.choices or ())
    if question.kind == "multi":
        return "、".join(labels.get(v, str(v)) for v in value) or "（一项也没有）"
    if question.kind == "enum":
        return labels.get(value, str(value))
    return str(value)


def bool_token_label(token: str) -> str:
    return _BOOL_TOKENS[token]  # KeyError for forged data: refused like a stale button


def domain_prompt() -> Reply:
    items = list(DOMAINS.items())
    rows = tuple(tuple(Button(label, f"dom|{value}") for value, label in items[i:i + 2]) for i in range(0, len(items), 2))
    return Reply("请选择党支部所处领域：", rows)


def year_prompt(today: date) -> Reply:
    year = default_year(today)
    buttons = (Button(f"{year} 年度（默认）", f"year|{year}"), Button(f"{year - 1} 年度", f"year|{year - 1}"))
    return Reply("请选择评定年度，或直接输入年份（例如 2023）：", (buttons,), typed_numbers=True)


def question_prompt(state: CheckState, question) -> Reply:
    qi = state.index_of(question.key)
    number = len(state.scan()[1]) + 1
    lines = [f"第 {number} 题", question.prompt, _KIND_HINTS.get(question.kind, "")]
    for earlier in (state.answers, state.undone):
        if question.key in earlier:
            lines.append(f"（上次回答：{show_value(question, earlier[question.key])}）")
            break
    rows = list(_answer_rows(state, question, qi))
    extra = [Button("为什么问这个", f"why|{qi}")]
    if question.kind != "bool":
        extra.append(Button("不清楚，跳过", f"skip|{qi}"))
    rows.append(tuple(extra))
    return Reply("\n".join(line for line in lines if line), tuple(rows), typed_numbers=question.kind in TYPED_KINDS)


def _answer_rows(state: CheckState, question, qi: int):
    if question.kind == "bool":
        yield tuple(Button(label, f"ans|{qi}|{token}") for token, label in _BOOL_TOKENS.items())
    elif question.kind == "enum":
        buttons = [Button(label, f"ans|{qi}|{ci}") for ci, (_, label) in enumerate(question.choices)]
        yield from (tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2))
    elif question.kind == "multi":
        ticks = [Button(("☑ " if value in state.picked else "☐ ") + label, f"tog|{qi}|{ci}")
                 for ci, (value, label) in enumerate(question.choices)]
        yield from (tuple(ticks[i:i + 2]) for i in range(0, len(ticks), 2))
        yield (Button("完成", f"done|{qi}"),)


def settled_prompt(year: int, failures: list[str]) -> Reply:
    reasons = "\n".join(f"• {reason}" for reason in failures)
    text = (f"根据目前的回答，本支部 {year} 年度已不能评为“最强党支部”。"
            + (f"\n{reasons}" if reasons else "")
            + "\n\n可以继续回答其余问题，找全所有短板；也可以直接看结果。")
    buttons = ((Button("继续检查其余条件（找全短板）", "settled|more"),), (Button("直接看结果", "settled|result"),))
    return Reply(text, buttons)


def review_prompt(state: CheckState) -> Reply:
    listed = state.scan()[1]
    lines = [f"请核对您的回答（{DOMAINS[state.domain]}，{state.year} 年度）："]
    lines += [f"{n}. {q.prompt} —— {show_value(q, state.answers[q.key])}" for n, q in enumerate(listed, 1)]
    lines.append("\n确认无误后查看结果；如需更正，请点“修改答案”。")
    buttons = ((Button("确认，查看结果", "review|confirm"),), (Button("修改答案", "review|change"),))
    return Reply("\n".join(lines), buttons)


def change_prompt(state: CheckState) -> Reply:
    listed = state.scan()[1]
    numbers = [Button(str(n), f"chg|{state.index_of(q.key)}") for n, q in enumerate(listed, 1)]
    rows = [tuple(numbers[i:i + 6]) for i in range(0, len(numbers), 6)]
    rows.append((Button("返回核对", "review|show"),))
    return Reply("要修改哪一项？请点核对清单中的序号（或直接输入序号）。", tuple(rows))


def why_text(question) -> str:
    # `help` names the requirement and quotes the clause with its document and section.
    return f"为什么问这个：\n{question.help}"
