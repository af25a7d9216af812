"""One turn of the web chat: the browser's message → the dialogue core → the page's changes, under the
session's turn lock. A turn the browser sends again (same id, e.g. after a dropped connection) is answered
from the session's record of it instead of being applied twice."""

from __future__ import annotations

import copy
import logging
import time
from collections import deque
from dataclasses import dataclass

from bot.dialogue import Dialogue
from bot.events import Event
from bot.feedback import Feedback, Origin
from bot.flood import Verdict, judge
from bot.library import Library
from bot.selfcheck import DONE, IN_CHECK, CheckState
from webchat.store import WebStore
from webchat.transcript import Changes, Transcript
from zhibu.errors import BadInput
from zhibu.settings import Settings

log = logging.getLogger(__name__)

# The visible actions under the input (command, label); 修改第N题 is a number picker of its own.
ACTIONS = (("new", "新话题"), ("check", "自检"), ("back", "上一题"), ("export", "导出档案"), ("help", "帮助"))
TEXT_LIMIT = 2000
DATA_LIMIT = 256
KEPT_TURNS = 20
FLOOD_WARNING = "您发送得太快了，请稍等片刻再继续。"
WEB_PRIVACY = ("\n网页版：本页的对话记录和未完成的自检保存在本单位的服务器上，便于刷新或换设备后接着使用；"
               "超过 {days} 天的记录自动删除，点页面右上角的“退出”立即删除。")


@dataclass(frozen=True)
class Message:
    """What the browser sent: typed text, an action, a number to change, or a button (and its message)."""

    text: str = ""
    command: str | None = None
    change: int | None = None
    button: str | None = None
    pressed: int | None = None
    nonce: str = ""

    def event(self) -> Event:
        if self.button is not None:
            if len(self.button) > DATA_LIMIT:
                raise BadInput("这个选项已失效，请按最新的消息操作。")
            return Event(button=self.button)
        if self.command is not None:
            if self.command not in dict(ACTIONS):
                raise BadInput("没有这个操作，请使用页面上的按钮。")
            return Event(command=self.command)
        if self.change is not None:
            return Event(text=f"修改第{self.change}题")
        text = self.text.strip()
        if not text:
            raise BadInput("请输入内容后再发送。")
        if len(text) > TEXT_LIMIT:
            raise BadInput(f"消息太长了（{len(text)} 字，最多 {TEXT_LIMIT} 字），请分几次发送。")
        return Event.from_text(text)

    def shown(self) -> str | None:
        """The user's own bubble: the typed text or the action's name; a button press shows in the edit."""
        if self.button is not None:
            return None
        if self.command is not None:
            return dict(ACTIONS)[self.command]
        return self.event().text


@dataclass(frozen=True)
class Outcome:
    changes: Changes
    transcript: list[dict]
    state: dict
    refused: bool = False  # over the flood limit: not applied, the browser keeps the text


class WebFeedback(Feedback):
    """The bot's question log and 👍/👎, with the web's own line on what it keeps in 帮助."""

    def privacy_note(self) -> str:
        return super().privacy_note() + WEB_PRIVACY.format(days=self._settings.zhibu_log_retention_days)


class WebChat:
    def __init__(self, settings: Settings, store: WebStore, library: Library | None = None) -> None:
        self.settings = settings
        self.store = store
        self.library = library or Library(settings)
        self.dialogue = Dialogue(self.library, feedback=WebFeedback(settings))

    async def send(self, session_id: int, message: Message) -> Outcome:
        event = message.event()  # BadInput before anything is locked
        async with self.store.turn(session_id) as locked:
            row = locked.row
            done = next((turn for turn in row.recent if message.nonce and turn["nonce"] == message.nonce), None)
            if done is not None:
                return Outcome(Changes.from_json(done["changes"]), row.transcript, row.state)
            if self._flooded(row):
                return Outcome(Changes(notice=FLOOD_WARNING), row.transcript, row.state, refused=True)
            transcript = Transcript(row.transcript, row.next_message, self.settings.zhibu_log_retention_days)
            shown = message.shown()
            mine = transcript.add("me", shown) if shown else None
            state = copy.deepcopy(row.state)
            who = f"web:{row.id}"  # hashed before it is stored, like a Telegram id
            replies = await self.dialogue.handle(state, event, origin=Origin("web", who, who))
            changes = transcript.apply(replies, message.pressed, message.button,
                                       lambda reply: locked.keep_document(reply.document.filename, reply.document.content))
            if mine is not None:
                changes.added.insert(0, mine)
            row.state, row.transcript, row.next_message = state, transcript.kept(), transcript.next_id
            row.turns += 1
            if message.nonce:
                row.recent = [*row.recent, {"nonce": message.nonce[:64], "changes": changes.as_json()}][-KEPT_TURNS:]
            return Outcome(changes, row.transcript, row.state)

    def _flooded(self, row) -> bool:
        """The bot's flood rule (bot.flood), with the stamps kept in the session row so every worker sees them."""
        limit, window = self.settings.zhibu_flood_messages, self.settings.zhibu_flood_window_s
        if limit <= 0:
            return False
        stamps = deque(row.flood.get("stamps", []), maxlen=limit + 1)
        verdict = judge(stamps, time.time(), limit, window, row.flood.get("warned", False))
        row.flood = {"stamps": list(stamps), "warned": verdict is not Verdict.PASS}
        if verdict is Verdict.WARN:
            log.info("flood limit hit by web session %s", row.id)
        return verdict is not Verdict.PASS


def actions_for(state: dict) -> dict:
    """Which actions the page offers for this state, and how many answers 修改第N题 can pick from."""
    check = CheckState(state)
    in_check = check.phase in IN_CHECK
    answered = len(check.scan()[1]) if check.domain and check.year is not None and check.answers else 0
    shown = {"new", "check", "help"} | ({"back"} if in_check else set())
    if check.domain and check.year is not None:
        shown.add("export")
    return {"actions": [(name, label) for name, label in ACTIONS if name in shown],
            "answered": answered if (in_check or check.phase == DONE) else 0}
