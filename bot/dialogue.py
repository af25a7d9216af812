"""The dialogue core: `(state, event) -> replies`, shared by the Telegram bot and `zhibu chat`.

No transport here. The state is the caller's plain dict (it persists as JSON); every step of the
self-check is one named phase with one handler per kind of input. Free text that is not an answer
but looks like a question is answered from the knowledge base and the pending step is asked again.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import date

from evaluators import DOMAINS, evaluate, parse_answer, profile_from_answers, render_report, verdict_settled

from bot import selfcheck as sc
from bot.events import Button, Document, Event, Reply
from bot.library import Library
from zhibu.errors import BadInput
from zhibu.text import chinese_punctuation

Busy = Callable[[], AbstractAsyncContextManager]
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for inline button data
_KEPT_SOURCES = 50
_QUESTION_LIKE = re.compile(r"[?？]|吗|什么|怎么|怎样|如何|哪|为什么|为何|是否|能否|可否|可以|多少|请问|要求|规定|条件|标准")

WELCOME = (
    "您好！我是“支部”助手，帮助党支部书记学习“最强党支部”建设政策。\n"
    "• 直接发送问题，我会依据政策原文回答并注明出处；\n"
    "• 发送 /check，逐项自检本支部能否申报“最强党支部”。"
)
HELP = (
    "使用说明：\n"
    "• 直接输入问题，例如“党员评议优秀比例要达到多少？”，回答附出处，可点“查看原文”。\n"
    "/check 开始自检（选领域、年度，逐题回答）\n"
    "/back 回到上一题重新回答\n"
    "/cancel 取消当前自检\n"
    "/export 导出自检档案（JSON，可用 zhibu check 复核）\n"
    "/new 开始新话题（之后的提问不再接着上一问）\n"
    "/help 查看本说明\n"
    "自检途中随时可以提问，答完后会接着问原来的题目。"
)
# The menu the transports show (Telegram's command list, the terminal's help); order as listed.
COMMANDS = (("start", "开始使用"), ("check", "自检：能否申报“最强党支部”"), ("back", "回到上一题"),
            ("cancel", "取消当前自检"), ("export", "导出自检档案（JSON）"), ("new", "开始新话题（不再接着上一问）"),
            ("help", "使用说明"))
STALE = "这个按钮已失效，请使用最新的消息。"
LAST_EXCHANGE = "qa_last"  # the previous question's context, for follow-ups ("那社区呢？", "第三条")
FOLLOW_UP_SECONDS = 30 * 60  # after this a message is read as a new topic


def looks_like_question(text: str) -> bool:
    return bool(_QUESTION_LIKE.search(text))


@dataclass(frozen=True)
class Turn:
    """One call of `Dialogue.handle`: the user's state and the transport's "working…" indicator."""

    state: sc.CheckState
    busy: Busy


Handler = Callable[[Turn, list[str]], Awaitable[list[Reply]]]


class Dialogue:
    def __init__(self, library: Library, today: Callable[[], date] = date.today,
                 clock: Callable[[], float] = time.time) -> None:
        self._library = library
        self._today = today
        self._clock = clock
        self._commands: dict[str, Handler] = {
            "start": self._start, "help": self._help, "check": self._check,
            "back": self._back, "cancel": self._cancel, "export": self._export, "new": self._new,
        }
        self._buttons: dict[str, Handler] = {
            "cmd": self._command_button, "src": self._source, "srh": self._source_by_hash,
            "dom": self._domain_button, "year": self._year_button, "ans": self._answer_button,
            "tog": self._toggle_button, "done": self._done_button, "skip": self._skip_button,
            "why": self._why_button, "settled": self._settled_button, "review": self._review_button,
            "chg": self._change_button,
        }
        self._steps: dict[str, Callable[[Turn, str], list[Reply]]] = {
            sc.DOMAIN: self._domain_text, sc.YEAR: self._year_text, sc.QUESTION: self._answer_text,
            sc.SETTLED: self._settled_text, sc.REVIEW: self._review_text, sc.CHANGE: self._change_text,
        }

    async def handle(self, data: dict, event: Event, busy: Busy = nullcontext) -> list[Reply]:
        """Mutates `data` (the user's state) in place and returns what to say."""
        turn = Turn(sc.CheckState(data), busy)
        if event.button is not None:
            return await self._on_button(turn, event.button)
        if event.command is not None:
            handler = self._commands.get(event.command)
            if handler is None:
                return [Reply(f"没有 /{event.command} 这个命令。发送 /help 查看可用命令。")]
            return await handler(turn, list(event.args))
        return await self._on_text(turn, event.text)

    # ---- free text -----------------------------------------------------------------------
    async def _on_text(self, turn: Turn, text: str) -> list[Reply]:
        step = self._steps.get(turn.state.phase)
        if step is None:
            return await self._ask(turn, text)
        try:
            return step(turn, text)
        except BadInput as exc:
            if looks_like_question(text):
                return await self._ask(turn, text) + self._prompt(turn.state, "接着自检——\n")
            return self._prompt(turn.state, f"{exc}\n\n")

    def _domain_text(self, turn: Turn, text: str) -> list[Reply]:
        domain = sc.match_domain(text)
        if domain is None:
            raise BadInput("没有找到这个领域。请点下面的按钮选择（也可以输入名称，例如“社区”）。")
        return self._choose_domain(turn.state, domain)

    def _year_text(self, turn: Turn, text: str) -> list[Reply]:
        today = self._today()
        year = sc.parse_year(text, today)
        if year is None:
            raise BadInput(f"年份不对：请输入 {sc.FIRST_RATED_YEAR}–{today.year} 之间的四位年份，例如 {sc.default_year(today)}。")
        return self._choose_year(turn.state, year)

    def _answer_text(self, turn: Turn, text: str) -> list[Reply]:
        state = turn.state
        question = state.question(state.pending)
        if question is None:  # the questionnaire changed since this state was saved
            return self._advance(state)
        value = parse_answer(question, text, state.scan()[0])
        # 不确定 has many spellings (未实行, 不清楚…): echo the user's own word for it.
        note = text.strip() if value is None else sc.show_value(question, value)
        return self._after_answer(state, question, value, note=note)

    def _settled_text(self, turn: Turn, text: str) -> list[Reply]:
        raise BadInput("请选择：继续检查其余条件，或直接看结果。")

    def _review_text(self, turn: Turn, text: str) -> list[Reply]:
        raise BadInput("请点“确认，查看结果”，或点“修改答案”更正某一项。")

    def _change_text(self, turn: Turn, text: str) -> list[Reply]:
        listed = turn.state.scan()[1]
        number = int(text) if text.strip().isdigit() else 0
        if not 1 <= number <= len(listed):
            raise BadInput(f"请输入核对清单中的序号（1–{len(listed)}）。")
        return self._reask(turn.state, listed[number - 1])

    # ---- buttons -------------------------------------------------------------------------
    async def _on_button(self, turn: Turn, data: str) -> list[Reply]:
        head, *parts = data.split("|")
        handler = self._buttons.get(head)
        try:
            replies = await handler(turn, parts) if handler else None
        except (ValueError, IndexError, KeyError, TypeError):
            replies = None  # data from an old or foreign keyboard: refuse it like a stale button
        except BadInput as exc:
            return self._prompt(turn.state, f"{exc}\n\n")
        return replies if replies is not None else [Reply(STALE, kind="notice")]

    async def _command_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        handler = self._commands.get(parts[0])
        return await handler(turn, []) if handler else None

    async def _domain_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        if turn.state.phase != sc.DOMAIN or parts[0] not in DOMAINS:
            return None
        return [Reply(f"领域：{DOMAINS[parts[0]]}", kind="edit")] + self._choose_domain(turn.state, parts[0])

    async def _year_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        if turn.state.phase != sc.YEAR:
            return None
        year = int(parts[0])
        return [Reply(f"评定年度：{year}", kind="edit")] + self._choose_year(turn.state, year)

    def _pending_question(self, state: sc.CheckState, index: str):
        if state.phase != sc.QUESTION:
            return None
        question = state.questions()[int(index)]
        return question if question.key == state.pending else None

    async def _answer_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        question = self._pending_question(turn.state, parts[0])
        if question is None:
            return None
        token = parts[1]
        if question.kind == "bool":
            value = parse_answer(question, sc.bool_token_label(token))
        else:
            value = question.choices[int(token)][0]
        return self._answered_by_button(turn.state, question, value)

    async def _toggle_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        question = self._pending_question(turn.state, parts[0])
        if question is None or question.kind != "multi":
            return None
        value = question.choices[int(parts[1])][0]
        picked = turn.state.picked
        if value in picked:
            picked.remove(value)
        else:
            picked.append(value)
        return [replace(sc.question_prompt(turn.state, question), kind="edit")]

    async def _done_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        question = self._pending_question(turn.state, parts[0])
        if question is None or question.kind != "multi":
            return None
        picked = set(turn.state.picked)
        value = [choice for choice, _ in question.choices if choice in picked]
        return self._answered_by_button(turn.state, question, value)

    async def _skip_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        question = self._pending_question(turn.state, parts[0])
        if question is None:
            return None
        return self._answered_by_button(turn.state, question, parse_answer(question, "跳过"))

    def _answered_by_button(self, state: sc.CheckState, question, value) -> list[Reply]:
        replies = self._after_answer(state, question, value)
        return [Reply(f"{question.prompt}\n✔ {sc.show_value(question, value)}", kind="edit")] + replies

    async def _why_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        if not turn.state.domain:
            return None
        return [Reply(sc.why_text(turn.state.questions()[int(parts[0])]))]

    async def _settled_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        state = turn.state
        if state.phase != sc.SETTLED:
            return None
        if parts[0] == "result":
            return [Reply("直接看结果。", kind="edit")] + self._verdict(state)
        state.settled_ack = True
        return [Reply("继续检查其余条件，找全短板。", kind="edit")] + self._advance(state)

    async def _review_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        state = turn.state
        if state.phase not in (sc.REVIEW, sc.CHANGE):
            return None
        if parts[0] == "confirm" and state.phase == sc.REVIEW:
            return self._verdict(state)
        state.phase = sc.CHANGE if parts[0] == "change" else sc.REVIEW
        return self._prompt(state)

    async def _change_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        if turn.state.phase != sc.CHANGE:
            return None
        return self._reask(turn.state, turn.state.questions()[int(parts[0])])

    # ---- commands ------------------------------------------------------------------------
    async def _start(self, turn: Turn, args: list[str]) -> list[Reply]:
        buttons = ((Button("开始自检", "cmd|check"), Button("使用说明", "cmd|help")),)
        return [Reply(WELCOME, buttons)] + self._prompt(turn.state, "您有一项自检尚未完成——\n")

    async def _help(self, turn: Turn, args: list[str]) -> list[Reply]:
        return [Reply(HELP)] + self._prompt(turn.state, "您有一项自检尚未完成——\n")

    async def _check(self, turn: Turn, args: list[str]) -> list[Reply]:
        restarted = turn.state.phase in sc.IN_CHECK
        turn.state.start()
        return self._prompt(turn.state, "已放弃未完成的自检，重新开始。\n" if restarted else "开始自检。\n")

    async def _cancel(self, turn: Turn, args: list[str]) -> list[Reply]:
        if turn.state.phase not in sc.IN_CHECK:
            return [Reply("当前没有进行中的自检。发送 /check 开始。")]
        turn.state.reset()
        return [Reply("已取消自检。随时发送 /check 重新开始。")]

    async def _back(self, turn: Turn, args: list[str]) -> list[Reply]:
        state = turn.state
        if state.phase == sc.DOMAIN:
            return self._prompt(state, "已经是第一步了。\n")
        if state.phase == sc.YEAR:
            state.phase = sc.DOMAIN
            return self._prompt(state)
        if state.phase == sc.CHANGE:
            state.phase = sc.REVIEW
            return self._prompt(state)
        if state.phase not in sc.IN_CHECK:
            return [Reply("当前没有进行中的自检，无法返回。发送 /check 开始。")]
        key = state.take_back()
        if key is None:
            state.phase, state.pending = sc.YEAR, None
            return self._prompt(state, "回到上一步：")
        if state.settled_ack and not verdict_settled(state.domain, state.year, state.scan()[0]):
            state.settled_ack = False
        return self._reask(state, state.question(key), "回到上一题。\n")

    async def _export(self, turn: Turn, args: list[str]) -> list[Reply]:
        state = turn.state
        if not state.domain or state.year is None:
            return [Reply("还没有可导出的自检记录。发送 /check 开始自检。")]
        profile = profile_from_answers(state.domain, state.year, state.scan()[0])
        content = json.dumps(profile, ensure_ascii=False, indent=2).encode("utf-8")
        document = Document(f"zhibu-profile-{state.domain}-{state.year}.json", content)
        note = "自检档案（JSON）。可以用命令 `zhibu check 文件名` 复核，或交给上级党组织参考。"
        return [Reply(note, kind="document", document=document)] + self._prompt(state, "接着自检——\n")

    # ---- the self-check flow -------------------------------------------------------------
    def _prompt(self, state: sc.CheckState, prefix: str = "") -> list[Reply]:
        """The message of the current step (empty outside a check), with `prefix` before it."""
        phase = state.phase
        if phase == sc.DOMAIN:
            reply = sc.domain_prompt()
        elif phase == sc.YEAR:
            reply = sc.year_prompt(self._today())
        elif phase == sc.QUESTION:
            question = state.question(state.pending)
            if question is None:  # the questionnaire changed since this state was saved
                return self._advance(state)
            reply = sc.question_prompt(state, question)
        elif phase == sc.SETTLED:
            reply = sc.settled_prompt(state.year, self._failures(state))
        elif phase == sc.REVIEW:
            reply = sc.review_prompt(state)
        elif phase == sc.CHANGE:
            reply = sc.change_prompt(state)
        else:
            return []
        return [replace(reply, text=prefix + reply.text)]

    def _choose_domain(self, state: sc.CheckState, domain: str) -> list[Reply]:
        state.domain, state.phase = domain, sc.YEAR
        return self._prompt(state)

    def _choose_year(self, state: sc.CheckState, year: int) -> list[Reply]:
        state.year = year
        return self._advance(state)

    def _reask(self, state: sc.CheckState, question, prefix: str = "") -> list[Reply]:
        state.phase, state.pending = sc.QUESTION, question.key
        state.data.pop("picked", None)
        return self._prompt(state, prefix)

    def _after_answer(self, state: sc.CheckState, question, value, *, note: str = "") -> list[Reply]:
        """Record an answer the evaluator accepts (contradictions are refused here, while the user
        still remembers the question), then move on."""
        before = copy.deepcopy(state.data)
        state.record(question, value)
        try:
            self._evaluate(state)
        except BadInput:
            state.data.clear()
            state.data.update(before)
            raise
        replies = self._advance(state, check_settled=True)
        if note:  # a typed answer: confirm what was understood on top of the next step
            replies[0] = replace(replies[0], text=f"✔ 已记录：{note}\n\n{replies[0].text}")
        return replies

    def _advance(self, state: sc.CheckState, *, check_settled: bool = False) -> list[Reply]:
        answers, _, upcoming = state.scan()
        state.pending = None
        if upcoming is None:
            state.phase = sc.REVIEW
        elif check_settled and not state.settled_ack and verdict_settled(state.domain, state.year, answers):
            state.phase = sc.SETTLED
        else:
            state.phase, state.pending = sc.QUESTION, upcoming.key
            state.data.pop("picked", None)
        return self._prompt(state)

    def _evaluate(self, state: sc.CheckState):
        return evaluate(profile_from_answers(state.domain, state.year, state.scan()[0]))

    def _failures(self, state: sc.CheckState) -> list[str]:
        return [c["reason"] for c in self._evaluate(state).to_dict()["criteria"] if c["status"] == "fail"]

    def _verdict(self, state: sc.CheckState) -> list[Reply]:
        try:
            report = render_report(self._evaluate(state))
        except BadInput as exc:
            state.phase = sc.REVIEW
            return self._prompt(state, f"回答之间有矛盾：{exc}\n请修改后再看结果。\n\n")
        state.phase, state.pending = sc.DONE, None
        buttons = ((Button("导出自检档案", "cmd|export"), Button("重新自检", "cmd|check")),)
        return [Reply(report, buttons)]

    # ---- questions and answers -----------------------------------------------------------
    async def _ask(self, turn: Turn, text: str) -> list[Reply]:
        """The grounded answer; the exchange is kept (for a while) so that a follow-up can refer to it."""
        data = turn.state.data
        last = data.get(LAST_EXCHANGE)
        fresh = last and self._clock() - last.get("at", 0) <= FOLLOW_UP_SECONDS
        async with turn.busy():
            answer = await self._library.ask(text, context=last["context"] if fresh else None, domain=turn.state.domain)
        if answer.context:
            data[LAST_EXCHANGE] = {"context": answer.context, "at": self._clock()}
        lines = [answer.answer]
        if answer.citations:
            lines += ["", "出处："] + [f"[{n}] {c.label}" for n, c in enumerate(answer.citations, 1)]
        if answer.related:
            lines += ["", "更多相关条文：" + "；".join(dict.fromkeys(c.label for c in answer.related))]
        buttons = [_source_button(n, c.chunk_id, data) for n, c in enumerate(answer.citations, 1)]
        rows = tuple(tuple(buttons[i:i + 3]) for i in range(0, len(buttons), 3))
        return [Reply("\n".join(lines), rows)]

    async def _new(self, turn: Turn, args: list[str]) -> list[Reply]:
        turn.state.data.pop(LAST_EXCHANGE, None)
        return [Reply("好的，开始新话题。请直接输入问题。")]

    async def _source(self, turn: Turn, parts: list[str]) -> list[Reply]:
        passage = await self._library.passage("|".join(parts))
        if passage is None:
            return [Reply("这段原文已不在知识库中（文件可能已更新），请重新提问。")]
        return [Reply(f"{passage.label}\n\n{chinese_punctuation(passage.text)}")]

    async def _source_by_hash(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        chunk_id = turn.state.data.get("sources", {}).get(parts[0])
        return await self._source(turn, [chunk_id]) if chunk_id else None


def _source_button(number: int, chunk_id: str, data: dict) -> Button:
    """A 查看原文 button; a chunk id too long for Telegram's button data is kept in the user's state."""
    label = f"查看原文 [{number}]"
    payload = f"src|{chunk_id}"
    if len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
        return Button(label, payload)
    digest = hashlib.sha1(chunk_id.encode("utf-8")).hexdigest()[:16]
    sources = data.setdefault("sources", {})
    sources[digest] = chunk_id
    for stale in list(sources)[:-_KEPT_SOURCES]:
        del sources[stale]
    return Button(label, f"srh|{digest}")
