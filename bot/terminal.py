"""`zhibu chat`: the bot's dialogue in a terminal — no token, no network.

Buttons become numbered choices. When the pending question wants a typed number, a bare number is
the answer and a choice is picked as `#2`; elsewhere `2` picks the second choice. Command words
work with or without the slash (`check`, `/check`); `quit` leaves.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from bot.dialogue import COMMANDS, Dialogue
from bot.events import Button, Event, Reply
from bot.library import Library
from zhibu.filemodes import user_file_mode
from zhibu.settings import get_settings

QUIT_WORDS = frozenset({"quit", "exit", "q", "退出", "/quit", "/exit"})
_COMMAND_WORDS = frozenset(name for name, _ in COMMANDS)
BANNER = "支部 Zhibu 终端对话。输入问题或命令（check 自检，help 帮助），quit 退出。"


class TerminalChat:
    def __init__(self, dialogue: Dialogue, out: TextIO, save_dir: Path) -> None:
        self._dialogue = dialogue
        self._out = out
        self._save_dir = save_dir
        self._choices: list[Button] = []
        self._typed_numbers = False
        self._on_screen: set[str] = set()  # lines of the last message shown with choices
        self.state: dict = {}

    async def turn(self, event: Event) -> None:
        self.show(await self._dialogue.handle(self.state, event, busy=self._busy))

    @asynccontextmanager
    async def _busy(self) -> AsyncIterator[None]:
        self.say("（正在查阅政策文件……）")
        yield

    def event_for(self, line: str) -> Event:
        text = line.strip()
        number = text[1:] if text.startswith("#") else (None if self._typed_numbers else text)
        if number and number.isdigit() and 1 <= int(number) <= len(self._choices):
            return Event(button=self._choices[int(number) - 1].data)
        chosen = next((button for button in self._choices if button.label == text), None)
        if chosen is not None:
            return Event(button=chosen.data)
        if text.lower() in _COMMAND_WORDS:
            return Event(command=text.lower())
        return Event.from_text(text)

    def show(self, replies: list[Reply]) -> None:
        choices: list[Button] = []
        typed_numbers = any(reply.typed_numbers for reply in replies)
        mark = "#" if typed_numbers else ""
        for reply in replies:
            if reply.kind == "document":
                self.say(f"{reply.text}\n已保存：{self._save(reply)}")
                continue
            rendered = self._render(reply)
            if rendered:  # a ticked box in a multi-select edits only the choices
                self.say(rendered)
            if reply.buttons:
                self._on_screen = set(reply.text.splitlines())
            for row in reply.buttons:
                cells = []
                for button in row:
                    choices.append(button)
                    cells.append(f"{mark}{len(choices)}) {button.label}")
                self.say("  " + "   ".join(cells))
        if typed_numbers and choices:
            self.say("（直接输入答案；选择上面的选项请输入 #序号）")
        # A reply batch without buttons (e.g. an answer that found nothing) leaves the earlier choices in force.
        if choices:
            self._choices, self._typed_numbers = choices, typed_numbers

    def _render(self, reply: Reply) -> str:
        if reply.kind == "notice":
            return f"提示：{reply.text}"
        if reply.kind == "edit":
            # On Telegram an edit rewrites the message whose button was pressed; here that message is
            # already on screen above, so only the lines it did not have are printed.
            return "\n".join(line for line in reply.text.splitlines() if line not in self._on_screen)
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
    chat = TerminalChat(Dialogue(Library(get_settings())), sys.stdout, Path.cwd())
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
            if line.strip():
                runner.run(chat.turn(chat.event_for(line)))
    chat.say("再见！")
