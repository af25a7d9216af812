"""The guided self-check as pure functions over the per-user state dict.

The state is a plain JSON-friendly dict (persistence stores it as is); `CheckState` is only a typed
view over it. Button data are short strings (Telegram allows 64 bytes) that name the question by
its index in `questions_for(domain)`, so a stale button can be recognised and refused; the data are
read with the same checks as typed input, so a forged button can do nothing a typed answer cannot.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from evaluators import DOMAINS, questions_for, resolve_domain
from evaluators.checks import NOT_APPLICABLE, PASS
from evaluators.profile import parse_number
from evaluators.replies import dialogue_words, is_word

from bot.events import Button, Reply

IDLE, DOMAIN, YEAR, QUESTION, SETTLED, REVIEW, CHANGE, DONE = (
    "idle", "domain", "year", "question", "settled", "review", "change", "done")
IN_CHECK = frozenset({DOMAIN, YEAR, QUESTION, SETTLED, REVIEW, CHANGE})
FIRST_RATED_YEAR = 2020  # the 最强党支部 programme starts with the 2020 documents
_BOOL_TOKENS = {"yes": "是", "no": "否", "unsure": "不确定"}

# Everyday words for the steps of the dialogue (evaluators/data/replies.yaml, `dialogue:`), compared after
# `plain_words` (punctuation and spaces dropped); the words that start the self-check are there too.
EXIT_WORDS, BACK_WORDS, YES_WORDS, NO_WORDS, MORE_WORDS, RESULT_WORDS, CHANGE_WORDS = (
    dialogue_words(step) for step in ("exit", "back", "yes", "no", "more", "result", "change"))
# Typed words that mean a command, in every phase ("/check" still works everywhere).
COMMAND_WORDS = {word: command for command in ("help", "export") for word in dialogue_words(command)}
_CHANGE_ONE = re.compile(r"(?:修改|改|更正|重答|重新回答)第?([0-9一二两三四五六七八九十]+)(?:题|项|个)?(?:的)?(?:答案|回答)?")
_RELATIVE_YEARS = {"今年": 0, "本年": 0, "本年度": 0, "当年": 0, "去年": -1, "上一年": -1, "上年": -1, "前年": -2}
_PLAIN = re.compile(r"[\s，,。.！!？?、；;：:~～…“”\"'（）()]+")
_MULTI_HINT = "可多选：逐项选择已具备的，选好后选“完成”；也可以直接输入，如“{example}”“都有”“除了{last}都有”。"


def _field(name: str, default: Any = None) -> property:
    return property(lambda self: self.data.get(name, default), lambda self, value: self.data.__setitem__(name, value))


class CheckState:
    """Typed view over the persisted dict; every field has a default so old or empty dicts work."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self._questions: tuple[tuple, list] | None = None  # (domain, year) and their questions, for this turn

    phase = _field("phase", IDLE)
    domain = _field("domain")
    year = _field("year")
    pending = _field("pending")
    settled_ack = _field("settled_ack", False)
    # A command that would discard the answers, waiting for the user's yes ("check" or "cancel").
    confirming = _field("confirming")
    # True while an answer is changed after the verdict: the new verdict follows at once.
    revising = _field("revising", False)
    # Questions left unanswered when the verdict came early ("直接看结果"): a change does not ask them.
    left_open = _field("left_open", ())
    # Readings offered for the pending question: an approximate one said back ("超过5万元，对吗？"), or
    # the ways to read an unclear reply ("基本上是": 是 / 只做到一部分): {"options": [[value, words]], "confirm"}.
    offer = _field("offer")

    @property
    def refused(self) -> dict[str, int]:
        """How often a reply to each question could not be read: the second time, choices are offered."""
        return self.data.setdefault("refused", {})

    @property
    def shown(self) -> dict[str, str]:
        """What an approximate answer meant, in words ("超过5万元"), for the review list."""
        return self.data.setdefault("shown", {})

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
        # With the year: a year the texts give no figure for adds a question for the 上级's figure.
        # Built once per (domain, year) of this view: a turn asks for them a dozen times (scan, number_of).
        key = (self.domain, self.year)
        if self._questions is None or self._questions[0] != key:
            self._questions = (key, questions_for(*key))
        return self._questions[1]

    def question(self, key: str | None):
        return next((q for q in self.questions() if q.key == key), None)

    def index_of(self, key: str) -> int:
        return next(i for i, q in enumerate(self.questions()) if q.key == key)

    def record(self, question, value: Any, words: str | None = None) -> None:
        """Store an answer; None (不确定) is kept too: it counts as answered and stays out of the profile.
        `words`: what an approximate answer meant ("超过5万元"), shown instead of the recorded figure."""
        key = question.key
        self.answers[key] = plain(value)
        if words:
            self.shown[key] = words
        else:
            self.shown.pop(key, None)
        if key in self.history:
            self.history.remove(key)
        self.history.append(key)
        self.undone.pop(key, None)
        for step in ("picked", "offer"):
            self.data.pop(step, None)
        self.refused.pop(key, None)

    def take_back(self) -> str | None:
        """Undo the last answer; returns its key, or None when nothing was answered."""
        for step in ("picked", "offer"):  # ticks and readings offered belong to the question left behind
            self.data.pop(step, None)
        if not self.history:
            return None
        key = self.history.pop()
        if key in self.answers:
            self.undone[key] = self.answers.pop(key)
        return key

    def scan(self) -> tuple[dict[str, Any], list, Any]:
        """One pass over the questionnaire (in dependency order): the answers of questions that apply,
        the questions answered (the review list) and the next question to ask (None when done)."""
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

    def open_questions(self) -> list:
        """Every question that applies and has no answer yet (the scan's upcoming is the first)."""
        kept: dict[str, Any] = {}
        waiting = []
        for question in self.questions():
            if not question.applies(kept):
                continue
            if question.key in self.answers:
                kept[question.key] = self.answers[question.key]
            else:
                waiting.append(question)
        return waiting

    def number_of(self, question) -> int:
        """The question's number as the review lists it: answered questions before it, plus one."""
        listed = self.scan()[1]
        if question in listed:
            return listed.index(question) + 1
        position = self.index_of(question.key)
        return 1 + sum(1 for q in listed if self.index_of(q.key) < position)


def plain(value: Any) -> Any:
    """JSON-friendly form of a parsed answer (the state is persisted as JSON)."""
    return value.isoformat() if isinstance(value, date) else value


def plain_words(text: str) -> str:
    """Typed text without spaces and punctuation, for comparing with the word sets."""
    return _PLAIN.sub("", text).lower()


def default_year(today: date) -> int:
    # 评定 happens "一般年底前后": early in a year the secretary is still assessing the year before.
    return today.year - 1 if today.month < 3 else today.year


def parse_year(text: str, today: date) -> int | None:
    """A rated year from "2023", "2023年度", "今年", "去年"; None outside 2020…this year."""
    word = plain_words(text)
    if word in _RELATIVE_YEARS:
        year = today.year + _RELATIVE_YEARS[word]
    else:
        match = re.fullmatch(r"(\d{4})年?度?", word)
        year = int(match.group(1)) if match else None
    return year if year is not None and FIRST_RATED_YEAR <= year <= today.year else None


def match_domain(text: str) -> str | None:
    """A domain from its value, its label or an everyday name ("社区党支部", "村", "国企")."""
    return resolve_domain(plain_words(text))


def parse_small_number(text: str) -> int | None:
    """"12", "十二", "两" → the number; None for anything that is not a positive whole number."""
    try:
        number = parse_number(text)
    except ValueError:
        return None
    return int(number) if number > 0 and float(number).is_integer() else None


def change_request(text: str) -> int | None:
    """The number in "修改第3题" / "改第三题的答案"; None when the text asks for no change."""
    match = _CHANGE_ONE.fullmatch(plain_words(text))
    return parse_small_number(match.group(1)) if match else None


def show_value(question, value: Any, state: CheckState | None = None) -> str:
    """An answer as the user reads it back: a yes/no in the words of what it records ("没有此类问题"),
    an approximate figure in the words it was confirmed in ("超过5万元")."""
    words = state.shown.get(question.key) if state is not None else None
    return words or question.show(value)


def confirm_words(text: str) -> bool:
    """"对的", "确认无误", "没问题": the review is confirmed."""
    return is_word(text, "confirm")


def bool_token_label(token: str) -> str:
    return _BOOL_TOKENS[token]  # KeyError for forged data: refused like a stale button


def index_in(text: str, size: int) -> int:
    """A list index from button data: plain digits below `size`, else ValueError (refused as stale)."""
    if not text.isdigit() or int(text) >= size:
        raise ValueError(text)
    return int(text)


def domain_prompt() -> Reply:
    items = list(DOMAINS.items())
    buttons = [Button(label, f"dom|{value}", choice=True) for value, label in items]
    rows = tuple(tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2))
    return Reply("请选择党支部所处领域（也可以直接输入，如“社区”“村”）：", rows)


def year_prompt(today: date, coverage: str) -> Reply:
    year = default_year(today)
    buttons = (Button(f"{year}年度（默认）", f"year|{year}", choice=True),
               Button(f"{year - 1}年度", f"year|{year - 1}", choice=True))
    lines = [coverage, f"请选择评定年度，或直接输入年份（如“{year - 3}”“去年”）："]
    return Reply("\n".join(line for line in lines if line), (buttons,))


def question_prompt(state: CheckState, question) -> Reply:
    qi = state.index_of(question.key)
    lines = [f"第 {state.number_of(question)} 题", question.prompt, multi_hint(question) if question.kind == "multi" else ""]
    for earlier in (state.answers, state.undone):
        if question.key in earlier:
            lines.append(f"（上次回答：{show_value(question, earlier[question.key], state)}）")
            break
    rows = list(_answer_rows(state, question, qi))
    extra = [Button("为什么问这个", f"why|{qi}")]
    if question.kind != "bool":
        extra.append(Button("不清楚，跳过", f"skip|{qi}"))
    rows.append(tuple(extra))
    return Reply("\n".join(line for line in lines if line), tuple(rows))


def _answer_rows(state: CheckState, question, qi: int):
    if question.kind == "bool":
        yield tuple(Button(label, f"ans|{qi}|{token}", choice=True) for token, label in _BOOL_TOKENS.items())
    elif question.kind == "enum":
        buttons = [Button(label, f"ans|{qi}|{ci}", choice=True) for ci, (_, label) in enumerate(question.choices)]
        yield from (tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2))
    elif question.kind == "multi":
        ticks = [Button(("☑ " if value in state.picked else "☐ ") + label, f"tog|{qi}|{ci}", choice=True)
                 for ci, (value, label) in enumerate(question.choices)]
        yield from (tuple(ticks[i:i + 2]) for i in range(0, len(ticks), 2))
        yield (Button("完成", f"done|{qi}", choice=True),)


def multi_hint(question) -> str:
    labels = [label for _, label in question.choices]
    return _MULTI_HINT.format(example="、".join(labels[:2]), last=labels[-1])


def tick_previous(state: CheckState, question) -> None:
    """A multi-select asked again starts with the choices of its last answer ticked."""
    state.data.pop("picked", None)
    earlier = state.answers.get(question.key, state.undone.get(question.key))
    if question.kind == "multi" and earlier:
        state.picked.extend(earlier)


def offer_prompt(state: CheckState, question) -> Reply:
    """Say back an approximate answer for a yes, or offer the readings of an unclear one."""
    options = state.offer["options"]
    if state.offer.get("confirm"):
        text = f"第 {state.number_of(question)} 题：您回答“{state.offer['typed']}”，{options[0][1]}，对吗？"
        buttons = ((Button("对，就这样记", "pick|0", choice=True), Button("不对，重新填写", "pick|no", choice=True)),)
        return Reply(text, buttons)
    rows = tuple((Button(words, f"pick|{i}", choice=True),) for i, (_, words) in enumerate(options))
    return Reply(f"第 {state.number_of(question)} 题：{state.offer['message']}请选择：", rows)


def settled_prompt(year: int, failures: list[str]) -> Reply:
    reasons = "\n".join(f"• {reason}" for reason in failures)
    text = (f"根据目前的回答，本支部{year}年度已不能评为“最强党支部”。"
            + (f"\n{reasons}" if reasons else "")
            + "\n\n可以继续回答其余问题，找全所有短板；也可以直接看结果。")
    buttons = ((Button("继续检查其余条件（找全短板）", "settled|more", choice=True),),
               (Button("直接看结果", "settled|result", choice=True),))
    return Reply(text, buttons)


def answer_lines(state: CheckState) -> list[str]:
    """One short line per answer, numbered as "修改第N题" counts. A yes/no recorded in words of its
    own stands alone ("没有被通报过"); words several answers share ("没有此类问题") get the label."""
    listed = state.scan()[1]
    shown = [show_value(q, state.answers[q.key], state) for q in listed]
    lines = []
    for number, (question, text) in enumerate(zip(listed, shown), 1):
        alone = question.kind == "bool" and text not in _BOOL_TOKENS.values() and shown.count(text) == 1
        lines.append(f"{number}. {text}" if alone else f"{number}. {question.label}：{text}")
    return lines


def review_prompt(state: CheckState) -> Reply:
    lines = [f"请核对您的回答（{DOMAINS[state.domain]}，{state.year}年度）：", *answer_lines(state),
             "\n确认无误后查看结果；要更正某一项，选“修改答案”或输入“修改第几题”。"]
    buttons = ((Button("确认，查看结果", "review|confirm", choice=True),),
               (Button("修改答案", "review|change", choice=True),))
    return Reply("\n".join(lines), buttons)


def change_prompt(state: CheckState) -> Reply:
    count = len(state.scan()[1])
    numbers = [Button(str(n), f"chg|{n}", choice=True) for n in range(1, count + 1)]
    rows = [tuple(numbers[i:i + 6]) for i in range(0, len(numbers), 6)]
    back = Button("返回结果", "review|verdict") if state.revising else Button("返回核对", "review|show")
    rows.append((back,))
    lines = ["您的回答：", *answer_lines(state), ""] if state.revising else []
    lines.append("要修改哪一题？请选择序号（也可以输入“修改第3题”）。")
    return Reply("\n".join(lines), tuple(rows))


def confirm_prompt(state: CheckState, action: str) -> Reply:
    answered = len(state.scan()[1]) if state.domain else 0
    done = f"（{DOMAINS[state.domain]}，{state.year}年度，已答{answered}题）" if state.domain and state.year else ""
    if action == "cancel":
        text, yes = f"确定取消当前的自检{done}吗？已答的回答将不再保留。", "确定取消"
    elif state.phase == DONE:
        text, yes = f"重新自检会清除上一次的回答{done}，需要的话请先导出自检档案。确定重新开始吗？", "确定，重新开始"
    else:
        text, yes = f"您有一项自检尚未完成{done}。重新开始会放弃已答的回答，确定吗？", "确定，重新开始"
    keep = "不，保留结果" if state.phase == DONE else "不，继续自检"
    buttons = ((Button(yes, f"confirm|{action}", choice=True), Button(keep, "confirm|no", choice=True)),)
    return Reply(text, buttons)


def why_text(question) -> str:
    # `help` names the requirement and quotes the clause with its document and section.
    ending = "" if question.help.endswith(("。", "。”")) else "。"
    return f"为什么问这个：\n{question.help}{ending}"


def passed_text(evaluation) -> str:
    """The criteria met (and those that do not apply), shown on request under the verdict."""
    passed = evaluation.by_status(PASS)
    lines = [f"已达标 {len(passed)} 项："] + [f"✓ {result.requirement}" for result in passed]
    lines += [f"－ 不适用：{result.reason}" for result in evaluation.by_status(NOT_APPLICABLE)]
    return "\n".join(lines)
