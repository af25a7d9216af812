"""👍/👎 under every answer, the question log behind it and the self-check counters; no transport here.

The dialogue core calls `Feedback` at three points: an answer was given (log it, add the buttons), a
feedback button was pressed, a self-check started or finished (counted, the answers are never kept).
The log stores the question, the answer, its status, the cited passages and the knowledge-base
generation, with the chat and the user as salted hashes (records.privacy), for
`ZHIBU_LOG_RETENTION_DAYS` days. A database that cannot be reached never stops an answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable


from bot.events import Button, Reply
from records.models import DOWN, REASONS, UP
from zhibu.settings import Settings

if TYPE_CHECKING:
    from knowledge.answer import Answer
    from records.store import Records

log = logging.getLogger(__name__)

RATE, REASON = "fb", "fbr"  # button data heads: fb|question id|1 or -1, fbr|question id|reason number
THANKS = "谢谢反馈！"
ASK_REASON = "抱歉没能帮上忙。哪里不满意？（可选，不选也已记下）"
GONE = "这条回答的记录已过保存期限，无法再反馈。"
INVALID = "这个反馈按钮无效，未作记录。请在回答下方重新点选，或直接提问。"
# Button data is typed by whoever sends the callback: a question id is a row id SQLite can hold
# (below 2**63, so 18 digits at most), a rating is 1 or -1, a reason the number of one of REASONS.
_QUESTION_ID = re.compile(r"[1-9][0-9]{0,17}")
_RATINGS = {str(UP): UP, str(DOWN): DOWN}
_REASON_NUMBERS = {str(number): reason for number, reason in enumerate(REASONS)}
# Typed words of the terminal: they never collide with the numbered choices of a self-check.
TERMINAL_WORDS = {"+": UP, "赞": UP, "-": DOWN, "踩": DOWN}


@dataclass(frozen=True)
class Origin:
    """Who is talking: the transport and its chat and user ids (hashed before they are stored)."""

    channel: str
    chat_id: int
    user_id: int


def wording_of(question: str) -> str:
    """The question's content words, sorted: questions worded alike share it (the console groups by it).

    Only whole words: jieba's search mode also yields the parts (最强党支部 → 最强, 党支部, 支部), which
    would make any two questions about 最强党支部 look alike."""
    from knowledge.text import tokenize

    words = set(tokenize(question))
    whole = {word for word in words if not any(word != longer and word in longer for longer in words)}
    return " ".join(sorted(whole))[:200]


def privacy_note(retention_days: int) -> str:
    return (f"\n\n保存哪些内容：您提的问题和回答、您的 👍/👎 评价保存 {retention_days} 天后自动删除，"
            "用于改进政策文件库；聊天和用户编号经加密处理，不保存姓名。自检的逐项回答不保存，只统计自检次数。")


class Feedback:
    def __init__(self, settings: Settings | None) -> None:
        """`settings` None: nothing is logged and answers carry no feedback buttons (no store)."""
        self._settings = settings
        self._store_down = False

    def records(self) -> "Records | None":
        if self._settings is None:
            return None
        from records.store import open_records

        return open_records(self._settings)

    def buttons(self) -> dict[str, Callable]:
        return {RATE: self._on_rate, REASON: self._on_reason}

    def privacy_note(self) -> str:
        return privacy_note(self._settings.zhibu_log_retention_days) if self._settings else ""

    async def on_answer(self, origin: Origin | None, question: str, answer: "Answer", replies: list[Reply]) -> list[Reply]:
        """Log the answer and put 👍/👎 under its last message; unchanged when there is nothing to rate."""
        from knowledge.messages import problem_with_question

        if self._settings is None or origin is None or problem_with_question(question.strip()):
            return replies
        question_id = await self._store(lambda records: records.log_question(
            channel=origin.channel, chat_id=origin.chat_id, user_id=origin.user_id, question=question.strip(),
            answer=answer.answer, status=answer.status, cited=[c.chunk_id for c in answer.citations],
            generation=self._generation(), wording=wording_of(question)))
        if question_id is None:
            return replies
        row = (Button("👍 有用", f"{RATE}|{question_id}|{UP}"), Button("👎 没用", f"{RATE}|{question_id}|{DOWN}"))
        last = replies[-1]
        return replies[:-1] + [replace(last, buttons=last.buttons + (row,))]

    async def _on_rate(self, turn, parts: list[str]) -> list[Reply] | None:
        if self._settings is None or turn.origin is None:
            return None
        question_id, rating = _parsed(parts, _RATINGS)
        if question_id is None:
            return [Reply(INVALID, kind="notice")]
        stored = await self._store(lambda records: records.rate(question_id, turn.origin.chat_id, turn.origin.user_id, rating))
        if not stored:
            return [Reply(GONE, kind="notice")] if stored is False else None
        if rating == UP:
            return [Reply(THANKS, kind="notice")]
        reasons = tuple(Button(reason, f"{REASON}|{question_id}|{number}") for number, reason in enumerate(REASONS))
        return [Reply(THANKS, kind="notice"), Reply(ASK_REASON, (reasons[:2], reasons[2:]))]

    async def _on_reason(self, turn, parts: list[str]) -> list[Reply] | None:
        if self._settings is None or turn.origin is None:
            return None
        question_id, reason = _parsed(parts, _REASON_NUMBERS)
        if question_id is None:
            return [Reply(INVALID, kind="notice")]
        stored = await self._store(lambda records: records.rate(question_id, turn.origin.chat_id, turn.origin.user_id,
                                                                DOWN, reason))
        if not stored:
            return [Reply(GONE, kind="notice")] if stored is False else None
        return [Reply(f"已记录：{reason}。谢谢，我们会据此补充和改进政策文件库。", kind="edit")]

    def count(self, kind: str) -> None:
        """A self-check started or finished (a tiny insert, done in place)."""
        if self._settings is None:
            return
        from records.store import STORE_FAILURES

        try:
            self.records().count_selfcheck(kind)
        except STORE_FAILURES as error:
            self._unavailable(error)

    async def purge(self) -> int:
        removed = await self._store(lambda records: records.purge())
        log.info("question log purge: %s old questions removed", removed)
        return removed or 0

    async def _store(self, work: Callable[["Records"], Any]) -> Any:
        """Run `work` on the store in a worker thread; None (logged) when the store fails: a database
        that is down or locked, a records folder that is read-only or full."""
        from records.store import STORE_FAILURES

        try:
            return await asyncio.to_thread(lambda: work(self.records()))
        except STORE_FAILURES as error:
            self._unavailable(error)
            return None

    def _unavailable(self, error: Exception) -> None:
        """Logged as a warning once, then quietly: a broken store must not flood the log (or the admins)."""
        if self._store_down:
            log.debug("records store still unavailable: %s", error)
            return
        from records.store import store_problem

        self._store_down = True
        log.warning("问题记录库不可用，回答照常进行但不记录问题和评价：%s（%s）", store_problem(error), type(error).__name__)

    def _generation(self) -> str:
        from knowledge.store import KnowledgeBase

        return KnowledgeBase(self._settings.zhibu_home).active_name() or ""


def _parsed(parts: list[str], values: dict[str, Any]) -> tuple[int | None, Any]:
    """(question id, value) from button data `id|value`; (None, None) for anything a real button never sends."""
    if len(parts) != 2 or not _QUESTION_ID.fullmatch(parts[0]) or parts[1] not in values:
        return None, None
    return int(parts[0]), values[parts[1]]


def terminal_choices(buttons: list[Button]) -> dict[str, str]:
    """The typed word for each feedback button of the terminal (+ / - / 赞 / 踩, or the reason itself)."""
    words: dict[str, str] = {}
    for button in buttons:
        head, _, rest = button.data.partition("|")
        if head == RATE:
            rating = int(rest.rsplit("|", 1)[1])
            words.update({word: button.data for word, value in TERMINAL_WORDS.items() if value == rating})
        elif head == REASON:
            words[button.label] = button.data
    return words


def is_feedback_button(button: Button) -> bool:
    return button.data.split("|", 1)[0] in (RATE, REASON)


def terminal_hint(words: dict[str, str]) -> str:
    if "+" in words:
        return "（觉得有用请输入 +，没用请输入 -）"
    return "（可选：输入 " + "、".join(words) + "）"
