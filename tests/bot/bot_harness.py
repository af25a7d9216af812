"""Runs the real Application against the fake Telegram server, and plays users who talk to it."""

from __future__ import annotations

import asyncio
from typing import Any

from fake_telegram import FakeTelegram, button_data, buttons_of

from bot.telegram_app import build_application
from zhibu.settings import Settings

ADMIN_ID = 1000  # listed in ZHIBU_ADMINS by the tests' settings
# Data prefixes of the buttons on a self-check step: a question, the settled choice, the review, a confirmation.
_STEP_BUTTONS = ("why|", "settled|", "review|confirm", "confirm|")


def question_of(step: dict, questions: list):
    """The question a step message asks (its "为什么问这个" button names it), or None."""
    data = next((data for _, data in buttons_of(step) if data.startswith("why|")), None)
    return questions[int(data.split("|")[1])] if data else None


def answer_actions(question, value: Any) -> list[tuple[str, str]]:
    """How a person gives `value`: ("press", button label) or ("type", text), in order; None is
    不确定 (or 不清楚，跳过 where there is no such button)."""
    if question.kind == "bool":  # a question about a problem records “是” as False (yes_value)
        return [("press", "不确定" if value is None else "是" if value == question.yes_value else "否")]
    if value is None:
        return [("press", "不清楚，跳过")]
    if question.kind == "enum":
        return [("press", dict(question.choices)[value])]
    if question.kind == "multi":
        labels = dict(question.choices)
        return [("press", "☐ " + labels[item]) for item in value] + [("press", "完成")]
    return [("type", str(value))]


class RunningBot:
    """The Application, long-polling the fake server, with every handler error recorded: PTB logs
    handler exceptions instead of raising them, so a test must look at this list."""

    def __init__(self, app, fake: FakeTelegram, errors: list[BaseException]) -> None:
        self.app = app
        self.fake = fake
        self.errors = errors

    @classmethod
    async def start(cls, settings: Settings, fake: FakeTelegram, library=None) -> "RunningBot":
        app = build_application(settings, library)
        errors: list[BaseException] = []

        async def record(update: object, context) -> None:
            errors.append(context.error)

        app.add_error_handler(record)
        await app.initialize()
        await app.post_init(app)  # run_polling would call it; a test drives the parts itself
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        return cls(app, fake, errors)

    async def stop(self) -> None:
        await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()

    def assert_no_errors(self) -> None:
        assert not self.errors, f"handler errors: {self.errors!r}"

    async def wait_for_errors(self, count: int, timeout: float = 10.0) -> list[BaseException]:
        """The recorder runs after the bot's own error handler has finished sending its messages."""
        async with asyncio.timeout(timeout):
            while len(self.errors) < count:
                await asyncio.sleep(0.02)
        return self.errors

    def person(self, user_id: int, chat: dict | None = None) -> "Person":
        return Person(self.fake, user_id, chat)


class Person:
    def __init__(self, fake: FakeTelegram, user_id: int, chat: dict | None = None) -> None:
        self.fake = fake
        self.user_id = user_id
        self.chat = chat or fake.private_chat(user_id)

    @property
    def chat_id(self) -> int:
        return self.chat["id"]

    async def say(self, text: str, expect: str = "", reply_to: dict | None = None) -> dict:
        """Send a message and return the bot's first new message containing `expect`."""
        mark = self.fake.last_message_id
        await self.fake.send_text(self.user_id, text, self.chat, reply_to)
        return await self.fake.reply(self.chat_id, expect, after=mark)

    async def press(self, message: dict, label: str, expect: str = "") -> dict:
        mark = self.fake.last_message_id
        await self.fake.press(self.user_id, message, button_data(message, label))
        return await self.fake.reply(self.chat_id, expect, after=mark)

    async def press_only(self, message: dict, label: str) -> None:
        """Press a button that answers with an edit or a toast, not a new message."""
        answered = len(self.fake.calls_of("answerCallbackQuery"))
        await self.fake.press(self.user_id, message, button_data(message, label))
        # Every press is answered (toast or not): wait for that call, since on a busy machine the bot may
        # take longer than settle()'s quiet period to start handling the update.
        await self.fake.wait_for(lambda: len(self.fake.calls_of("answerCallbackQuery")) > answered)
        await self.fake.settle()

    async def step_after(self, mark: int) -> dict:
        """The next self-check step (a question, the settled choice or the review) after `mark`."""

        def found() -> dict | None:
            return next((m for m in self.fake.bot_messages(self.chat_id) if m["message_id"] > mark
                         and any(data.startswith(_STEP_BUTTONS) for _, data in buttons_of(m))), None)

        return await self.fake.wait_for(found)

    async def start_check(self, domain_label: str, year: int) -> dict:
        """/check, pick the domain, type the year; returns the first question."""
        picker = await self.say("/check", expect="请选择党支部所处领域")
        await self.press(picker, domain_label, expect="评定年度")
        mark = self.fake.last_message_id
        await self.fake.send_text(self.user_id, str(year), self.chat)
        return await self.step_after(mark)

    async def answer(self, step: dict, question, value: Any) -> dict:
        """Answer one question as a person would (buttons or typing); returns the next step."""
        mark = self.fake.last_message_id
        for action, text in answer_actions(question, value):
            if action == "type":
                await self.fake.send_text(self.user_id, text, self.chat)
                continue
            await self.fake.press(self.user_id, step, button_data(step, text))
            if text.startswith("☐ "):  # a ticked box edits this message; wait before the next tick
                ticked = "☑ " + text[2:]
                await self.fake.wait_for(lambda: any(label == ticked for label, _ in buttons_of(step)))
        return await self.step_after(mark)

    async def answer_all(self, step: dict, questions: list, answers: dict[str, Any]) -> dict:
        """Answer every question asked from `answers` (missing keys: 不确定 / 跳过) until a step
        that is not a question (the settled choice or the review) comes."""
        while (question := question_of(step, questions)) is not None:
            step = await self.answer(step, question, answers.get(question.key))
        return step
