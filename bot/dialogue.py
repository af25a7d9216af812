"""The dialogue core: `(state, event) -> replies`, shared by the Telegram bot and `zhibu chat`.

No transport here. The state is the caller's plain dict (it persists as JSON); every step of the
self-check is one named phase with one handler per kind of input. Free text that is not an answer
but looks like a question is answered from the knowledge base and the pending step is asked again.
Button data are read with the same checks as typed text: a forged button can do no more than typing.
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

from evaluators import (DOMAINS, evaluate, parse_answer, profile_from_answers, render_report, verdict_settled,
                        year_coverage, year_notice)
from evaluators.checks import FAIL
from evaluators.questions import Reading, Unclear, read_answer
from evaluators.report import sorted_results
from evaluators.replies import edit_request, is_word, wants_to_start

from bot import selfcheck as sc
from bot.feedback import Feedback, Origin
from bot.events import Button, Document, Event, Reply
from bot.library import Library
from zhibu.errors import BadInput
from zhibu.text import chinese_punctuation

Busy = Callable[[], AbstractAsyncContextManager]
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for inline button data
_KEPT_SOURCES = 50
_QUESTION_LIKE = re.compile(r"[?？]|吗|什么|啥|怎么|咋|怎样|如何|哪|为什么|为何|是否|能否|可否|可以|多少|请问|要求|规定|条件|标准")
REPORT_PIECE = 1500  # characters: a verdict longer than this goes out in several messages, cut between sections

WELCOME = (
    "您好！我是“支部”助手，帮助党支部书记学习“最强党支部”建设政策。\n"
    "• 直接发送问题，我会依据政策原文回答并注明出处；\n"
    "• 发送 /check，逐项自检本支部能否申报“最强党支部”。"
)
HELP = (
    "使用说明：\n"
    "• 直接输入问题，例如“党员评议优秀比例要达到多少？”，回答附出处，可以查看原文。\n"
    "/check 开始自检（选领域、年度，逐题回答；也可以输入“自查”“自检”）\n"
    "/back 回到上一题重新回答（也可以输入“返回”）\n"
    "/cancel 取消当前自检（也可以输入“取消”）\n"
    "/export 导出自检档案和申报表（Word），可交上级党组织复核（也可以输入“导出”）\n"
    "/new 开始新话题（之后的提问不再接着上一问）\n"
    "/help 查看本说明\n"
    "自检途中随时可以提问，答完后会接着问原来的题目；输入“第3题改成是”可以直接改一题，看到结果后改题马上得到新结论。"
)
# The menu the transports show (Telegram's command list, the terminal's help); order as listed.
COMMANDS = (("start", "开始使用"), ("check", "自检：能否申报“最强党支部”"), ("back", "回到上一题"),
            ("cancel", "取消当前自检"), ("export", "导出自检档案"), ("new", "开始新话题（不再接着上一问）"),
            ("help", "使用说明"))
STALE = "这个选项已失效，请按最新的消息操作。"
EXPORT_NOTE = "自检档案（{domain}，{year}年度）：可交上级党组织复核，组织部工作人员也可以用它重新核对结论。"
APPLICATION_NOTE = "申报表（Word 文档，{verdict}）：可以修改、补充佐证材料后打印签字，向上一级党组织申报。"
LAST_EXCHANGE = "qa_last"  # the previous question's context, for follow-ups ("那社区呢？", "第三条")
FOLLOW_UP_SECONDS = 30 * 60  # after this a message is read as a new topic


def looks_like_question(text: str) -> bool:
    return bool(_QUESTION_LIKE.search(text))


def report_pieces(report: str, limit: int = REPORT_PIECE) -> list[str]:
    """The verdict in phone-sized messages, cut only between its sections (一、二、…)."""
    pieces: list[str] = []
    for section in report.split("\n\n"):
        if pieces and len(pieces[-1]) + 2 + len(section) <= limit:
            pieces[-1] += "\n\n" + section
        else:
            pieces.append(section)
    return pieces


@dataclass(frozen=True)
class Turn:
    """One call of `Dialogue.handle`: the user's state and the transport's "working…" indicator."""

    state: sc.CheckState
    busy: Busy
    origin: Origin | None = None  # who talks (for the question log and feedback)


Handler = Callable[[Turn, list[str]], Awaitable[list[Reply]]]


class Dialogue:
    def __init__(self, library: Library, today: Callable[[], date] = date.today,
                 clock: Callable[[], float] = time.time, feedback: Feedback | None = None) -> None:
        self._library = library
        self._today = today
        self._clock = clock
        self._feedback = feedback or Feedback(None)
        self._commands: dict[str, Handler] = {
            "start": self._start, "help": self._help, "check": self._check,
            "back": self._back, "cancel": self._cancel, "export": self._export, "new": self._new,
        }
        self._buttons: dict[str, Handler] = {
            "cmd": self._command_button, "src": self._source, "srh": self._source_by_hash,
            "dom": self._domain_button, "year": self._year_button, "ans": self._answer_button,
            "tog": self._toggle_button, "done": self._done_button, "skip": self._skip_button,
            "why": self._why_button, "settled": self._settled_button, "review": self._review_button,
            "chg": self._change_button, "confirm": self._confirm_button, "passed": self._passed_button,
            "pick": self._pick_button,
            **self._feedback.buttons(),
        }
        self._steps: dict[str, Callable[[Turn, str], list[Reply]]] = {
            sc.DOMAIN: self._domain_text, sc.YEAR: self._year_text, sc.QUESTION: self._answer_text,
            sc.SETTLED: self._settled_text, sc.REVIEW: self._review_text, sc.CHANGE: self._change_text,
        }

    async def handle(self, data: dict, event: Event, busy: Busy = nullcontext, origin: Origin | None = None) -> list[Reply]:
        """Mutates `data` (the user's state) in place and returns what to say."""
        turn = Turn(sc.CheckState(data), busy, origin)
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
        state = turn.state
        words = sc.plain_words(text)
        if state.confirming:  # anything but a yes or a no drops the question and is read as usual
            action, state.confirming = state.confirming, None
            if words in sc.YES_WORDS | sc.NO_WORDS:
                return await self._confirmed(turn, "no" if words in sc.NO_WORDS else action)
        if words in sc.COMMAND_WORDS:
            return await self._commands[sc.COMMAND_WORDS[words]](turn, [])
        if wants_to_start(text):
            return await self._check(turn, [])
        if state.phase in sc.IN_CHECK | {sc.DONE} and words in sc.EXIT_WORDS:
            return await self._cancel(turn, [])
        if state.phase in sc.IN_CHECK | {sc.DONE} and words in sc.BACK_WORDS:
            return await self._back(turn, [])
        edit = edit_request(text) if state.phase in sc.IN_CHECK | {sc.DONE} and state.answers else None
        if edit is not None:
            return self._guarded(state, lambda: self._edit(state, *edit))
        if state.phase in sc.IN_CHECK | {sc.DONE} and state.answers:
            number = sc.change_request(text)
            if number is not None or (state.phase == sc.DONE and words in sc.CHANGE_WORDS):
                return self._guarded(state, lambda: self._change_number(state, number))
        step = self._steps.get(state.phase)
        if step is None:
            return await self._ask(turn, text)
        try:
            return step(turn, text)
        except BadInput as exc:
            if looks_like_question(text):
                return await self._ask(turn, text) + self._prompt(state, "接着自检——\n")
            return self._prompt(state, f"{exc}\n\n")

    def _guarded(self, state: sc.CheckState, step: Callable[[], list[Reply]]) -> list[Reply]:
        try:
            return step()
        except BadInput as exc:
            return [Reply(str(exc))] + self._prompt(state)

    def _domain_text(self, turn: Turn, text: str) -> list[Reply]:
        domain = sc.match_domain(text)
        number = sc.parse_small_number(sc.plain_words(text))
        if domain is None and number is not None and 1 <= number <= len(DOMAINS):
            domain = list(DOMAINS)[number - 1]  # the n-th domain as listed
        if domain is None:
            raise BadInput("没有找到这个领域。请从下面选择，或输入名称，如“社区”“嘎查村”。")
        return self._choose_domain(turn.state, domain)

    def _year_text(self, turn: Turn, text: str) -> list[Reply]:
        today = self._today()
        year = sc.parse_year(text, today)
        if year is None:
            raise BadInput(f"年份不对：请输入{sc.FIRST_RATED_YEAR}—{today.year}年之间的年份，如“{sc.default_year(today)}”或“去年”。")
        return self._choose_year(turn.state, year)

    def _answer_text(self, turn: Turn, text: str) -> list[Reply]:
        state = turn.state
        question = state.question(state.pending)
        if question is None:  # the questionnaire changed since this state was saved
            return self._advance(state)
        if state.offer:
            offered = self._offered_reply(state, question, text)
            if offered is not None:
                return offered
        return self._take_reply(state, question, text)

    def _take_reply(self, state: sc.CheckState, question, text: str) -> list[Reply]:
        """Read a typed answer: record it when exact, say it back when approximate, offer readings when
        unclear. A reply not understood is explained once; the second time the choices are offered."""
        try:
            reading = read_answer(question, text, state.scan()[0])
        except Unclear as exc:
            if not exc.options or not (exc.ask_now or state.refused.get(question.key)):
                state.refused[question.key] = state.refused.get(question.key, 0) + 1
                raise
            return self._offer(state, question, text, exc.options, message=str(exc))
        if reading.confirm:
            return self._offer(state, question, text, (reading,), confirm=True)
        # 不适用 (没搞积分) is kept in its words for the review; 不确定 and exact answers read as recorded.
        words = reading.shown if reading.value is None and reading.shown != question.show(None) else None
        return self._after_answer(state, question, reading.value, note=reading.shown, words=words)

    def _offer(self, state: sc.CheckState, question, text: str, options: tuple[Reading, ...], *,
               confirm: bool = False, message: str = "") -> list[Reply]:
        state.phase, state.pending = sc.QUESTION, question.key
        state.offer = {"options": [[sc.plain(o.value), o.shown] for o in options], "confirm": confirm,
                       "typed": text.strip(), "message": message}
        return [sc.offer_prompt(state, question)]

    def _offered_reply(self, state: sc.CheckState, question, text: str) -> list[Reply] | None:
        """A reply to what was said back: 对 records it, 不对 asks again, an option's words or number picks
        it; anything else is read as a new answer to the question (None)."""
        options, confirm = state.offer["options"], state.offer.get("confirm")
        if confirm and is_word(text, "accept"):
            return self._pick(state, question, 0)
        if confirm and is_word(text, "reject"):
            state.offer = None
            return self._prompt(state, "好的，请重新回答：\n")
        words = sc.plain_words(text)
        chosen = next((i for i, (_, shown) in enumerate(options) if sc.plain_words(shown) in (words,)
                       or sc.plain_words(shown).partition("：")[0] == words or words == str(i + 1)), None)
        if chosen is not None and not confirm:
            return self._pick(state, question, chosen)
        state.offer = None
        return None

    def _pick(self, state: sc.CheckState, question, index: int) -> list[Reply]:
        value, words = state.offer["options"][index]
        approximate = state.offer.get("confirm")
        state.offer = None
        return self._after_answer(state, question, value, note=words, words=words if approximate else None)

    def _edit(self, state: sc.CheckState, number: int, answer: str) -> list[Reply]:
        """"第5题改成50": the numbered answer changed in one message (said back first when approximate)."""
        listed = state.scan()[1]
        if not 1 <= number <= len(listed):
            raise BadInput(f"没有第{number}题：请输入1—{len(listed)}之间的序号。")
        if state.phase == sc.DONE:
            state.revising = True
        replies = self._take_reply(state, listed[number - 1], answer)  # then on to the first question unanswered
        return [replace(replies[0], text=f"第{number}题已修改。\n" + replies[0].text)] + replies[1:]

    def _settled_text(self, turn: Turn, text: str) -> list[Reply]:
        words = sc.plain_words(text)
        if words in sc.MORE_WORDS:
            return self._settled_choice(turn.state, "more")
        if words in sc.RESULT_WORDS:
            return self._settled_choice(turn.state, "result")
        raise BadInput("请选择：继续检查其余条件（可以输入“继续”），或直接看结果。")

    def _review_text(self, turn: Turn, text: str) -> list[Reply]:
        words = sc.plain_words(text)
        if sc.confirm_words(text):
            return self._verdict(turn.state)
        if words in sc.CHANGE_WORDS:
            return self._change_number(turn.state, None)
        raise BadInput("请选择“确认，查看结果”，或“修改答案”更正某一项（也可以输入“修改第3题”）。")

    def _change_text(self, turn: Turn, text: str) -> list[Reply]:
        number = sc.parse_small_number(sc.plain_words(text))
        if number is None:
            raise BadInput(f"请输入要修改的题号（1—{len(turn.state.scan()[1])}），如“3”。")
        return self._change_number(turn.state, number)

    # ---- buttons -------------------------------------------------------------------------
    async def _on_button(self, turn: Turn, data: str) -> list[Reply]:
        head, *parts = data.split("|")
        handler = self._buttons.get(head)
        if head != "confirm":
            turn.state.confirming = None  # pressing anything else answers "no, go on"
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
        if turn.state.phase != sc.DOMAIN or len(parts) != 1:
            return None
        replies = self._domain_text(turn, parts[0])  # the checks of a typed domain
        return [Reply(f"领域：{DOMAINS[turn.state.domain]}", kind="edit")] + replies

    async def _year_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        if turn.state.phase != sc.YEAR or len(parts) != 1:
            return None
        replies = self._year_text(turn, parts[0])  # the range check of a typed year
        return [Reply(f"评定年度：{turn.state.year}年", kind="edit")] + replies

    def _pending_question(self, state: sc.CheckState, index: str):
        if state.phase != sc.QUESTION:
            return None
        questions = state.questions()
        question = questions[sc.index_in(index, len(questions))]
        return question if question.key == state.pending else None

    async def _answer_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        question = self._pending_question(turn.state, parts[0])
        if question is None:
            return None
        token = parts[1]
        if question.kind == "bool":
            value = parse_answer(question, sc.bool_token_label(token))
        else:
            value = question.choices[sc.index_in(token, len(question.choices))][0]
        return self._answered_by_button(turn.state, question, value)

    async def _toggle_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        question = self._pending_question(turn.state, parts[0])
        if question is None or question.kind != "multi":
            return None
        value = question.choices[sc.index_in(parts[1], len(question.choices))][0]
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

    async def _pick_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        state = turn.state
        question = state.question(state.pending) if state.phase == sc.QUESTION and state.offer else None
        if question is None:
            return None
        if parts[0] == "no":
            state.offer = None
            return self._prompt(state, "好的，请重新回答：\n")
        sc.index_in(parts[0], len(state.offer["options"]))
        return self._pick(state, question, int(parts[0]))

    def _answered_by_button(self, state: sc.CheckState, question, value) -> list[Reply]:
        """The question's message keeps its number and wording and shows what was recorded."""
        asked = f"第 {state.number_of(question)} 题\n{question.prompt}\n✔ 已记录：{sc.show_value(question, value)}"
        return [Reply(asked, kind="edit")] + self._after_answer(state, question, value)

    async def _why_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        if not turn.state.domain:
            return None
        questions = turn.state.questions()
        return [Reply(sc.why_text(questions[sc.index_in(parts[0], len(questions))]))]

    async def _settled_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        if turn.state.phase != sc.SETTLED or parts[0] not in ("more", "result"):
            return None
        label = "直接看结果。" if parts[0] == "result" else "继续检查其余条件，找全短板。"
        return [Reply(label, kind="edit")] + self._settled_choice(turn.state, parts[0])

    def _settled_choice(self, state: sc.CheckState, choice: str) -> list[Reply]:
        if choice == "result":
            return self._verdict(state)
        state.settled_ack = True
        return self._advance(state)

    async def _review_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        state, action = turn.state, parts[0]
        allowed = {sc.REVIEW: ("confirm", "change"), sc.CHANGE: ("show", "verdict"), sc.DONE: ("change",)}
        if action not in allowed.get(state.phase, ()):
            return None
        if action in ("confirm", "verdict"):
            return self._verdict(state)
        if action == "change":
            return self._change_number(state, None)
        state.phase = sc.REVIEW
        return self._prompt(state)

    async def _change_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        if turn.state.phase != sc.CHANGE or not parts[0].isdigit():
            return None
        return self._change_number(turn.state, int(parts[0]))

    def _change_number(self, state: sc.CheckState, number: int | None) -> list[Reply]:
        """Re-ask the answer numbered `number` in the review list; None shows the list to pick from.
        After the verdict the new verdict follows the changed answer at once."""
        listed = state.scan()[1]
        if state.phase == sc.DONE:
            state.revising = True
        if number is None:
            state.phase = sc.CHANGE
            return self._prompt(state)
        if not 1 <= number <= len(listed):
            raise BadInput(f"没有第{number}题：请输入1—{len(listed)}之间的序号。")
        return self._reask(state, listed[number - 1], f"修改第{number}题：\n")

    async def _confirm_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        asked = turn.state.confirming
        turn.state.confirming = None
        if asked is None or parts[0] not in (asked, "no"):
            return None
        choice = "✔ 不放弃，回答都保留着。" if parts[0] == "no" else "✔ 已确认。"
        return [Reply(choice, kind="edit")] + await self._confirmed(turn, parts[0])

    async def _confirmed(self, turn: Turn, action: str) -> list[Reply]:
        """Carry out (or drop) a command that discards the answers, once the user has said yes (or no)."""
        state = turn.state
        if action == "check":
            state.start()
            self._feedback.count("started")
            return self._prompt(state, "已放弃未完成的自检，重新开始。\n")
        if action == "cancel":
            state.reset()
            return [Reply("已取消自检。随时发送 /check 重新开始。")]
        if state.phase == sc.DONE:
            return [Reply("上一次的回答和结果都保留着：可以输入“修改第3题”改一题，或发送 /export 导出。")]
        return self._prompt(state, "接着自检——\n")

    async def _passed_button(self, turn: Turn, parts: list[str]) -> list[Reply] | None:
        state = turn.state
        if state.phase != sc.DONE:
            return None
        return [Reply(sc.passed_text(self._evaluate(state)))]

    # ---- commands ------------------------------------------------------------------------
    async def _start(self, turn: Turn, args: list[str]) -> list[Reply]:
        buttons = ((Button("开始自检", "cmd|check"), Button("使用说明", "cmd|help")),)
        return [Reply(WELCOME, buttons)] + self._prompt(turn.state, "您有一项自检尚未完成——\n")

    async def _help(self, turn: Turn, args: list[str]) -> list[Reply]:
        return [Reply(HELP + self._feedback.privacy_note())] + self._prompt(turn.state, "您有一项自检尚未完成——\n")

    async def _check(self, turn: Turn, args: list[str]) -> list[Reply]:
        if self._would_discard(turn.state):
            return self._ask_confirmation(turn.state, "check")
        turn.state.start()
        self._feedback.count("started")
        return self._prompt(turn.state, "开始自检。\n")

    async def _cancel(self, turn: Turn, args: list[str]) -> list[Reply]:
        if turn.state.phase not in sc.IN_CHECK:
            return [Reply("当前没有进行中的自检。发送 /check 开始。")]
        if self._would_discard(turn.state):
            return self._ask_confirmation(turn.state, "cancel")
        turn.state.reset()
        return [Reply("已取消自检。随时发送 /check 重新开始。")]

    @staticmethod
    def _would_discard(state: sc.CheckState) -> bool:
        return state.phase in sc.IN_CHECK | {sc.DONE} and bool(state.answers)

    def _ask_confirmation(self, state: sc.CheckState, action: str) -> list[Reply]:
        state.confirming = action
        return self._prompt(state)

    async def _back(self, turn: Turn, args: list[str]) -> list[Reply]:
        state = turn.state
        if state.phase == sc.DOMAIN:
            return self._prompt(state, "已经是第一步了。\n")
        if state.phase == sc.YEAR:
            state.phase = sc.DOMAIN
            return self._prompt(state)
        if state.phase == sc.CHANGE:
            if state.revising:
                return self._verdict(state)
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
        label = DOMAINS[state.domain]
        document = Document(f"自检档案-{label}-{state.year}年度.json", content)
        note = EXPORT_NOTE.format(domain=label, year=state.year)
        return [Reply(note, kind="document", document=document), *self._application(state)] + self._prompt(
            state, "接着自检——\n")

    def _application(self, state: sc.CheckState) -> list[Reply]:
        """The 申报 document (Word) of the answers so far; none while two answers contradict each other."""
        from evaluators.application import application_filename, render_application

        try:
            evaluation = self._evaluate(state)
        except BadInput:
            return []
        document = Document(application_filename(evaluation), render_application(evaluation))
        return [Reply(APPLICATION_NOTE.format(verdict=evaluation.verdict_label), kind="document", document=document)]

    # ---- the self-check flow -------------------------------------------------------------
    def _prompt(self, state: sc.CheckState, prefix: str = "") -> list[Reply]:
        """The message of the current step (empty outside a check), with `prefix` before it."""
        phase = state.phase
        if state.confirming and phase in sc.IN_CHECK | {sc.DONE}:
            reply = sc.confirm_prompt(state, state.confirming)
        elif phase == sc.DOMAIN:
            reply = sc.domain_prompt()
        elif phase == sc.YEAR:
            reply = sc.year_prompt(self._today(), year_coverage(state.domain))
        elif phase == sc.QUESTION:
            question = state.question(state.pending)
            if question is None:  # the questionnaire changed since this state was saved
                return self._advance(state)
            reply = sc.offer_prompt(state, question) if state.offer else sc.question_prompt(state, question)
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
        notice = year_notice(state.domain, year)
        return self._advance(state, prefix=f"{notice}\n\n" if notice else "")

    def _reask(self, state: sc.CheckState, question, prefix: str = "") -> list[Reply]:
        state.phase, state.pending, state.offer = sc.QUESTION, question.key, None
        sc.tick_previous(state, question)
        return self._prompt(state, prefix)

    def _after_answer(self, state: sc.CheckState, question, value, *, note: str = "",
                      words: str | None = None) -> list[Reply]:
        """Record an answer the evaluator accepts (contradictions are refused here, while the user
        still remembers the question), then move on."""
        before = copy.deepcopy(state.data)
        state.record(question, value, words)
        try:
            self._evaluate(state)
        except BadInput:
            state.data.clear()
            state.data.update(before)
            raise
        # A typed answer: confirm what was understood on top of the next step.
        return self._advance(state, check_settled=True, prefix=f"✔ 已记录：{note}\n\n" if note else "")

    def _advance(self, state: sc.CheckState, *, check_settled: bool = False, prefix: str = "") -> list[Reply]:
        answers, _, upcoming = state.scan()
        if state.revising and verdict_settled(state.domain, state.year, answers):
            # Still failing: questions skipped with 直接看结果 stay skipped; only what the change made apply is asked.
            upcoming = next((q for q in state.open_questions() if q.key not in state.left_open), None)
        state.pending = None
        if upcoming is None and state.revising:
            return self._verdict(state, prefix + "按修改后的回答重新评定：\n\n")
        if upcoming is None:
            state.phase = sc.REVIEW
        elif check_settled and not (state.settled_ack or state.revising) and verdict_settled(state.domain, state.year, answers):
            state.phase = sc.SETTLED
        else:
            state.phase, state.pending = sc.QUESTION, upcoming.key
            sc.tick_previous(state, upcoming)
        return self._prompt(state, prefix)

    def _evaluate(self, state: sc.CheckState):
        return evaluate(profile_from_answers(state.domain, state.year, state.scan()[0]))

    def _failures(self, state: sc.CheckState) -> list[str]:
        return [result.reason for result in self._evaluate(state).by_status(FAIL)]

    def _verdict(self, state: sc.CheckState, prefix: str = "") -> list[Reply]:
        try:
            evaluation = self._evaluate(state)
            report = render_report(evaluation)
        except BadInput as exc:
            state.phase, state.revising = sc.REVIEW, False
            return self._prompt(state, f"回答之间有矛盾：{exc}\n请修改后再看结果。\n\n")
        if state.phase != sc.DONE:  # a changed answer re-renders the verdict of a check already counted
            self._feedback.count("finished")
        state.phase, state.pending, state.revising = sc.DONE, None, False
        state.left_open = [question.key for question in state.open_questions()]
        passed = len(sorted_results(evaluation)["已达标"])  # the report's own count (待确认 apart)
        buttons = ((Button("修改某题答案", "review|change", choice=True),
                    Button(f"查看已达标的{passed}项", "passed|show", choice=True)),
                   (Button("导出自检档案", "cmd|export", choice=True), Button("重新自检", "cmd|check", choice=True)))
        pieces = report_pieces(prefix + report)
        return [Reply(piece) for piece in pieces[:-1]] + [Reply(pieces[-1], buttons)]

    # ---- questions and answers -----------------------------------------------------------
    async def _ask(self, turn: Turn, text: str) -> list[Reply]:
        """The grounded answer; the exchange is kept (for a while) so that a follow-up can refer to it."""
        data = turn.state.data
        last = data.get(LAST_EXCHANGE)
        fresh = last and self._clock() - last.get("at", 0) <= FOLLOW_UP_SECONDS
        async with turn.busy():
            answer = await self._library.ask(text, context=last["context"] if fresh else None, domain=turn.state.domain,
                                             channel=turn.origin.channel if turn.origin else None)
        if answer.context:
            data[LAST_EXCHANGE] = {"context": answer.context, "at": self._clock()}
        lines = [answer.answer]
        if answer.citations:
            lines += ["", "出处："] + [f"[{n}] {c.label}" for n, c in enumerate(answer.citations, 1)]
        if answer.related:
            lines += ["", "更多相关条文：" + "；".join(dict.fromkeys(c.label for c in answer.related))]
        buttons = [_source_button(n, c.chunk_id, data) for n, c in enumerate(answer.citations, 1)]
        rows = tuple(tuple(buttons[i:i + 3]) for i in range(0, len(buttons), 3))
        return await self._feedback.on_answer(turn.origin, text, answer, [Reply("\n".join(lines), rows)])

    async def _new(self, turn: Turn, args: list[str]) -> list[Reply]:
        turn.state.data.pop(LAST_EXCHANGE, None)
        return [Reply("好的，开始新话题。请直接输入问题。")] + self._prompt(turn.state, "接着自检——\n")

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
