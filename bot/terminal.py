"""`zhibu chat`: the bot's dialogue in a terminal — no token, no network.

Buttons become typed choices. The answers of the step on screen are numbered (1) 是  2) 否 …) and
keep their numbers whatever else is shown; other actions (为什么问这个, 查看原文…) are lettered
(a) b) …), so a number never opens a source or restarts a check. A question that wants a number
has no numbered choices: a bare number is the answer. Typing a choice's words works too. Command
words work with or without the slash (`check`, `/check`); `quit` leaves.
"""

from __future__ import annotations

import asyncio
import string
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from bot.dialogue import COMMANDS, Dialogue
from bot.events import Button, Event, Reply
from bot.feedback import Feedback, Origin, is_feedback_button, terminal_choices, terminal_hint
from bot.library import Library
from zhibu.filemodes import user_file_mode
from zhibu.settings import get_settings

QUIT_WORDS = frozenset({"quit", "exit", "q", "退出", "/quit", "/exit"})
_COMMAND_WORDS = frozenset(name for name, _ in COMMANDS)
_LETTERS = string.ascii_lowercase
BANNER = ("“支部”助手 终端对话：直接输入问题；/check 开始自检，/help 使用说明，输入“退出”结束。\n"
          "选项前是数字的输入数字作答，是字母的输入字母（如 a）。")


class TerminalChat:
    def __init__(self, dialogue: Dialogue, out: TextIO, save_dir: Path) -> None:
        self._dialogue = dialogue
        self._out = out
        self._save_dir = save_dir
        self._choices: list[Button] = []
        self._actions: list[Button] = []
        self._on_screen: set[str] = set()  # lines of the last message shown with choices
        self._feedback_words: dict[str, str] = {}  # + / - / a 👎 reason → its button data
        self.state: dict = {}

    async def turn(self, event: Event) -> None:
        self.show(await self._dialogue.handle(self.state, event, busy=self._busy, origin=Origin("terminal", 0, 0)))

    @asynccontextmanager
    async def _busy(self) -> AsyncIterator[None]:
        self.say("（正在查阅政策文件……）")
        yield

    def event_for(self, line: str) -> Event | None:
        """What a typed line means; None (after saying so) for a letter that marks nothing on screen."""
        text = line.strip()
        if text in self._feedback_words:
            return Event(button=self._feedback_words[text])
        if text.isdigit() and 1 <= int(text) <= len(self._choices):
            return Event(button=self._choices[int(text) - 1].data)
        letter = text.lower()
        if len(letter) == 1 and letter in _LETTERS[: len(self._actions)]:
            return Event(button=self._actions[_LETTERS.index(letter)].data)
        if len(letter) == 1 and letter in _LETTERS:  # a stale or mistyped mark, not a question to look up
            self.say(f"提示：没有“{text}”这个选项。请输入上面列出的字母或数字，或者直接输入问题。")
            return None
        chosen = next((button for button in self._choices + self._actions if button.label == text), None)
        if chosen is not None:
            return Event(button=chosen.data)
        if text.lower() in _COMMAND_WORDS:
            return Event(command=text.lower())
        return Event.from_text(text)

    def default_event(self) -> Event | None:
        """An empty line takes the choice on screen marked （默认）, as a terminal user expects; else nothing."""
        default = next((button for button in self._choices if "（默认）" in button.label), None)
        return Event(button=default.data) if default else None

    def show(self, replies: list[Reply]) -> None:
        choices: list[Button] = []
        actions: list[Button] = []
        for reply in replies:
            if reply.kind == "document":
                self.say(f"{reply.text}\n已保存：{self._save(reply)}")
                continue
            rendered = self._render(reply)
            if rendered:  # a ticked box in a multi-select edits only the choices
                self.say(rendered)
            if reply.buttons:
                self._on_screen = set(reply.text.splitlines())
            feedback: list[Button] = []
            for row in reply.buttons:
                cells = []
                for button in row:
                    if is_feedback_button(button):  # typed as + / - or the reason: never a numbered choice
                        feedback.append(button)
                        continue
                    marks = choices if button.choice else actions
                    marks.append(button)
                    mark = str(len(marks)) if button.choice else _LETTERS[len(marks) - 1]
                    cells.append(mark if button.label == mark else f"{mark}) {button.label}")
                if cells:
                    self.say("  " + "   ".join(cells))
            if feedback:  # under the answer it rates, not under the self-check question that follows
                self._feedback_words = terminal_choices(feedback)
                self.say(terminal_hint(self._feedback_words))
        # A reply batch without buttons (e.g. an answer that found nothing) leaves the earlier choices in force.
        if choices or actions:
            self._choices, self._actions = choices, actions[: len(_LETTERS)]

    def _render(self, reply: Reply) -> str:
        if reply.kind == "notice":
            return f"提示：{reply.text}"
        if reply.kind == "edit":
            # On Telegram an edit rewrites the message whose button was pressed; here that message is
            # already on screen above, so only the lines it did not have are printed (and a blank line).
            new = "\n".join(line for line in reply.text.splitlines() if line not in self._on_screen)
            return f"{new}\n" if new else ""
        return reply.text

    def _save(self, reply: Reply) -> Path:
        stem, _, suffix = reply.document.filename.rpartition(".")
        path, copy = self._save_dir / reply.document.filename, 1
        while path.exists():  # never overwrite an earlier export
            path, copy = self._save_dir / f"{stem}-{copy}.{suffix}", copy + 1
        path.write_bytes(reply.document.content)
        path.chmod(user_file_mode())  # asked for by name: the user's umask, not the private state's
        return path

    def say(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()


def run_terminal_chat() -> None:
    settings = get_settings()
    chat = TerminalChat(Dialogue(Library(settings), feedback=Feedback(settings)), sys.stdout, Path.cwd())
    with asyncio.Runner() as runner:
        chat.say(BANNER)
        runner.run(chat.turn(Event(command="start")))
        while True:
            try:
                line = input("> ")
            except (EOFError, KeyboardInterrupt):
                chat.say("")
                break
            if line.strip().lower() in QUIT_WORDS:
                break
            event = chat.event_for(line) if line.strip() else chat.default_event()
            if event is not None:
                runner.run(chat.turn(event))
    chat.say("再见！")
